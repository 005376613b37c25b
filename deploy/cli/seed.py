"""``manage_all.py seed``: the movie service's demo catalogue (``seed_catalogue``).

Showtimes are created through the movie service's own functions, so each one is published as an
event and the booking service learns about it as it would in production.
"""

from __future__ import annotations

from . import django_commands


def add_arguments(parser) -> None:
    parser.add_argument("--if-empty", action="store_true", help="do nothing when the catalogue has movies already")
    parser.add_argument("--days", type=int, default=7, help="days of showtimes from today (default 7)")
    parser.add_argument("--settings", default="local", choices=["local", "production", "test"])


def run(args) -> int:
    command = ["seed_catalogue", "--days", str(args.days)]
    if args.if_empty:
        command.append("--if-empty")
    return django_commands.passthrough("movie", command, settings=args.settings)
