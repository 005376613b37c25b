"""Settings builders shared by the five services.

Each service's ``settings/base.py`` calls :func:`common.config.settings.build_settings`
and adds what only it owns (its apps, its queues, its periodic tasks).
"""
