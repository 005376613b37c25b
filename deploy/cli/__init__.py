"""``manage_all.py``: one command line for the five services.

Each sub-command lives in its own module and registers itself with :func:`register`.
"""
