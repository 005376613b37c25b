"""Django management commands run for several services at once, and the passthrough."""

from __future__ import annotations

import subprocess

from . import system


def add_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated services (default: all five)")
    parser.add_argument("--settings", default="local", choices=["local", "production", "test"])


def add_check_arguments(parser) -> None:
    add_arguments(parser)
    parser.add_argument("--deploy", action="store_true", help="also the deployment checks, failing on warnings")


def add_makemigrations_arguments(parser) -> None:
    add_arguments(parser)
    parser.add_argument("--check", action="store_true", help="exit 1 if a model change has no migration")


def run_everywhere(args, *command: str) -> int:
    worst = 0
    for service in system.select(args.only):
        print(f"--- {service.name}: manage.py {' '.join(command)}", flush=True)
        result = subprocess.run(
            system.manage_command(service, *command), env=system.service_env(service, args.settings)
        )
        worst = max(worst, result.returncode)
    return worst


def migrate(args) -> int:
    return run_everywhere(args, "migrate", "--noinput")


def check(args) -> int:
    extra = ["--deploy", "--fail-level", "WARNING"] if args.deploy else []
    return run_everywhere(args, "check", *extra)


def makemigrations(args) -> int:
    extra = ["--check", "--dry-run"] if args.check else []
    return run_everywhere(args, "makemigrations", *extra)


def passthrough(service_name: str, argv: list[str], settings: str = "local") -> int:
    service = system.select(service_name)[0]
    return subprocess.run(system.manage_command(service, *argv), env=system.service_env(service, settings)).returncode
