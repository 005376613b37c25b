"""``manage_all.py events``: the event backbone of every service at a glance, and dead-letter replay.

The numbers come from each service's own ``manage.py events_status --json`` (its database, its
broker connection): this process opens no service's database itself.
"""

from __future__ import annotations

import json
import subprocess

from . import system

COLUMNS = ("service", "unsent", "oldest unsent", "failed", "dead letters")


def add_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated services (default: all five)")
    parser.add_argument("--settings", default="local", choices=["local", "production", "test"])
    parser.add_argument("--replay-dead", metavar="SERVICE", help="move SERVICE's dead letters back to its queue")
    parser.add_argument("--limit", type=int, help="with --replay-dead: at most this many messages")
    parser.add_argument("--json", action="store_true", help="print the raw per-service JSON objects")


def run(args) -> int:
    if args.replay_dead:
        service = system.select(args.replay_dead)[0]
        command = ["events_replay_dead", *(["--limit", str(args.limit)] if args.limit else [])]
        return subprocess.run(
            system.manage_command(service, *command), env=system.service_env(service, args.settings)
        ).returncode
    rows, worst = [], 0
    for service in system.select(args.only):
        result = subprocess.run(
            system.manage_command(service, "events_status", "--json"),
            env=system.service_env(service, args.settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0 or not result.stdout.strip():
            worst = 1
            message = (result.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append({"service": service.name, "error": message})
            continue
        row = json.loads(result.stdout.strip().splitlines()[-1])
        worst = max(worst, 1 if row.get("database_error") or row.get("broker_error") else 0)
        rows.append(row)
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(format_table(rows))
    return worst


def _age(seconds: float) -> str:
    if not seconds:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _dead_letters(row: dict) -> str:
    if row.get("dead_letter_queue") is None:
        return "(no queue)"
    if row.get("dead_letters") is None:
        return "broker down"
    return str(row["dead_letters"])


def format_table(rows: list[dict]) -> str:
    lines = [f"{COLUMNS[0]:<14}{COLUMNS[1]:>8}{COLUMNS[2]:>15}{COLUMNS[3]:>8}{COLUMNS[4]:>14}"]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['service']:<14}  error: {row['error']}")
            continue
        dead = _dead_letters(row)
        if row.get("database_error"):
            lines.append(f"{row['service']:<14}  database error: {row['database_error']}  (dead letters: {dead})")
            continue
        lines.append(
            f"{row['service']:<14}{row['unsent']:>8}{_age(row['oldest_unsent_age_seconds']):>15}"
            f"{row['failed']:>8}{dead:>14}"
        )
    return "\n".join(lines)
