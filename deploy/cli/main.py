"""The argument parser of ``manage_all.py``."""

from __future__ import annotations

import argparse
import sys

from common.config.services import SERVICES

from . import backup, django_commands, events, health, provision, seed, system, testing, up, verify

DESCRIPTION = """\
One command line for the whole movie-booking system: five Django services
(auth :8001, movie :8002, booking :8003, payment :8004, notification :8005),
their Celery workers and beat.

Without configuration everything runs on this machine alone (SQLite files,
a broker on disk under var/). Point it at real servers with the variables
in README.md (AUTH_DATABASE_URL …, CELERY_BROKER_URL, REDIS_URL).
"""

EPILOG = """\
examples:
  manage_all.py up                      start everything; Ctrl-C stops it
  manage_all.py status                  is every service ready?
  manage_all.py test --only booking     one service's tests
  manage_all.py auth createsuperuser    any Django command, for one service
  manage_all.py provision --admin-url postgresql://postgres@127.0.0.1/postgres
"""


def _add_only(parser) -> None:
    parser.add_argument("--only", help="comma-separated services")


def _status(args) -> int:
    table, all_ready = health.status_table(system.select(args.only))
    print(table)
    return 0 if all_ready else 1


# name, help, add_arguments(parser), handler(args) -> exit status
COMMANDS = [
    ("up", "run all services, workers and beat in the foreground", up.add_arguments, up.run),
    ("test", "run every test suite; ends with 'N passed, N failed'", testing.add_arguments, testing.run),
    ("migrate", "apply migrations to each service's database", django_commands.add_arguments, django_commands.migrate),
    ("check", "Django system checks for each service", django_commands.add_check_arguments, django_commands.check),
    (
        "makemigrations",
        "make migrations (or --check that none are missing)",
        django_commands.add_makemigrations_arguments,
        django_commands.makemigrations,
    ),
    ("status", "readiness of each running service, as a table", _add_only, _status),
    ("verify", "cross-service consistency check; exit 1 on any violation", verify.add_arguments, verify.run),
    ("events", "outbox backlog and dead letters per service; --replay-dead", events.add_arguments, events.run),
    ("seed", "create the demo catalogue (movies, cinemas, showtimes)", seed.add_arguments, seed.run),
    ("provision", "create the five roles and databases on PostgreSQL", provision.add_arguments, provision.run),
    ("backup", "pg_dump each service's database with its own role", backup.add_backup_arguments, backup.run_backup),
    (
        "restore",
        "restore databases from a backup folder (checksums verified)",
        backup.add_restore_arguments,
        backup.run_restore,
    ),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage_all.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text, add_arguments, handler in COMMANDS:
        command = commands.add_parser(name, help=help_text)
        add_arguments(command)
        command.set_defaults(handler=handler)
    for name in SERVICES:
        commands.add_parser(name, help=f"run a Django command for the {name} service", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SERVICES:
        # Passthrough: everything after the service name goes to its manage.py untouched.
        return django_commands.passthrough(argv[0], argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    return args.handler(args) or 0
