"""``manage_all.py verify``: is the system consistent across the services' databases?

Each service is read through its own ``manage.py`` (so with its own settings and credentials):
``booking … verify_report`` and ``payment … verify_report`` print JSON, ``<service> … events_status
--json`` describes its outbox. ``find_violations`` compares them; it is a pure function, tested
with fixtures. Exit status 1 on any violation (or when a report cannot be read).
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal, InvalidOperation
from typing import Any

from common.config.services import SERVICES

from . import system

OUTBOX_MAX_AGE_SECONDS = 60
ENDED = ("cancelled", "expired")


class ReportUnavailableError(RuntimeError):
    pass


class CommandMissingError(ReportUnavailableError):
    pass


def add_arguments(parser) -> None:
    parser.add_argument("--settings", default="local", choices=["local", "production", "test"])
    parser.add_argument(
        "--outbox-max-age",
        type=float,
        default=OUTBOX_MAX_AGE_SECONDS,
        help=f"seconds an outbox row may stay unsent (default {OUTBOX_MAX_AGE_SECONDS})",
    )


def read_report(service_name: str, *command: str, settings: str = "local", timeout: float = 120) -> Any:
    """Run ``manage.py <command>`` of one service and parse the JSON it prints (its last line)."""
    service = SERVICES[service_name]
    try:
        result = subprocess.run(
            system.manage_command(service, *command),
            env=system.service_env(service, settings),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReportUnavailableError(f"{service_name}: manage.py {' '.join(command)} timed out") from None
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        kind = CommandMissingError if "Unknown command" in result.stderr else ReportUnavailableError
        raise kind(f"{service_name}: manage.py {' '.join(command)} failed: {error}")
    lines = [line for line in result.stdout.strip().splitlines() if line.strip()]
    try:
        return json.loads(lines[-1] if lines and lines[-1].lstrip().startswith(("{", "[")) else result.stdout)
    except (json.JSONDecodeError, IndexError):
        raise ReportUnavailableError(f"{service_name}: manage.py {' '.join(command)} printed no JSON") from None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def oldest_unsent_age(status: Any) -> float | None:
    """The oldest unsent outbox row's age in seconds, from an ``events_status --json`` answer.

    Tolerant of its exact shape: the first number under a key naming an oldest unsent/pending age.
    """
    if isinstance(status, dict):
        for key, value in status.items():
            lowered = key.lower()
            if "oldest" in lowered and "age" in lowered and isinstance(value, int | float):
                return float(value)
        for value in status.values():
            found = oldest_unsent_age(value)
            if found is not None:
                return found
    if isinstance(status, list):
        ages = [age for age in map(oldest_unsent_age, status) if age is not None]
        return max(ages) if ages else None
    return None


def find_violations(
    bookings_report: dict[str, Any],
    payments_report: dict[str, Any],
    events_statuses: dict[str, Any] | None = None,
    *,
    outbox_max_age_seconds: float = OUTBOX_MAX_AGE_SECONDS,
) -> list[str]:
    """Every inconsistency between the reports, as sentences; empty when all is well."""
    violations: list[str] = []

    for seat in bookings_report.get("double_booked_seats", []):
        violations.append(
            f"seat {seat['label']} of showtime {seat['showtime_id']} is in {seat['bookings']} live bookings"
        )
    grace = bookings_report.get("grace_seconds")
    for booking in bookings_report.get("overdue_pending", []):
        violations.append(
            f"booking {booking['id']} is still pending after its hold (expired {booking['expires_at']}) "
            f"plus the {grace} s grace period"
        )

    for booking_id in bookings_report.get("live_on_cancelled_showtimes", []):
        violations.append(f"booking {booking_id} is still live although its showtime was cancelled")

    bookings = {booking["id"]: booking for booking in bookings_report.get("bookings", [])}
    payments_by_booking: dict[str, list[dict[str, Any]]] = {}
    for payment in payments_report.get("payments", []):
        payments_by_booking.setdefault(str(payment["booking_id"]), []).append(payment)
        if payment.get("charge_count", 0) > 1:
            violations.append(
                f"payment {payment['id']} of booking {payment['booking_id']} "
                f"was charged {payment['charge_count']} times"
            )

    for booking_id, booking in bookings.items():
        payments = payments_by_booking.get(booking_id, [])
        if booking["status"] == "confirmed":
            paid = [
                payment
                for payment in payments
                if payment["status"] == "succeeded"
                and payment.get("charge_count") == 1
                and _decimal(payment["amount"]) == _decimal(booking["total_amount"])
                and payment["currency"] == booking["currency"]
            ]
            if len(paid) != 1 or len([p for p in payments if p["status"] == "succeeded"]) != 1:
                found = ", ".join(
                    f"{p['id']} {p['status']} {p['amount']} {p['currency']} charged {p.get('charge_count')}x"
                    for p in payments
                )
                violations.append(
                    f"booking {booking_id} is confirmed ({booking['total_amount']} {booking['currency']}) without "
                    f"exactly one succeeded payment of that amount charged once (payments: {found or 'none'})"
                )
        elif booking["status"] in ENDED:
            for payment in payments:
                charged = payment.get("charge_count", 0)
                refunded = payment.get("refund_count", 0)
                if payment["status"] == "succeeded" or charged > refunded:
                    violations.append(
                        f"booking {booking_id} is {booking['status']} but payment {payment['id']} is charged "
                        f"({charged}x) and not refunded ({refunded}x, status {payment['status']})"
                    )

    for service_name, status in sorted((events_statuses or {}).items()):
        age = oldest_unsent_age(status)
        if age is not None and age > outbox_max_age_seconds:
            violations.append(
                f"{service_name}: an outbox row has been unsent for {age:.0f} s "
                f"(more than {outbox_max_age_seconds:.0f} s)"
            )
    return violations


def find_notes(
    bookings_report: dict[str, Any], payments_report: dict[str, Any], events_statuses: dict[str, Any] | None = None
) -> list[str]:
    """Oddities that are not violations by themselves: payments for bookings this booking database
    never had (a payment service fed by tests or another environment's events), and dead letters
    (each one an event some service never applied: look at it with ``manage_all.py events``)."""
    notes = []
    known = {booking["id"] for booking in bookings_report.get("bookings", [])}
    orphans = [payment for payment in payments_report.get("payments", []) if str(payment["booking_id"]) not in known]
    if orphans:
        notes.append(
            f"{len(orphans)} payment(s) refer to bookings unknown to the booking service (e.g. {orphans[0]['id']})"
        )
    for service_name, status in sorted((events_statuses or {}).items()):
        dead = status.get("dead_letters") if isinstance(status, dict) else None
        if isinstance(dead, int) and dead > 0:
            notes.append(f"{service_name}: {dead} dead-lettered event(s) in {status.get('dead_letter_queue')}")
    return notes


def run(args) -> int:
    notes: list[str] = []
    violations: list[str] = []
    try:
        bookings_report = read_report("booking", "verify_report", settings=args.settings)
        payments_report = read_report("payment", "verify_report", settings=args.settings)
    except ReportUnavailableError as exc:
        print(f"verify: cannot read a report: {exc}")
        return 1
    events_statuses: dict[str, Any] = {}
    for name in SERVICES:
        try:
            events_statuses[name] = read_report(name, "events_status", "--json", settings=args.settings)
        except CommandMissingError:
            notes.append(f"{name}: no events_status command yet; outbox age not checked")
        except ReportUnavailableError as exc:
            violations.append(f"cannot read the outbox status: {exc}")
    violations += find_violations(
        bookings_report, payments_report, events_statuses, outbox_max_age_seconds=args.outbox_max_age
    )
    notes += find_notes(bookings_report, payments_report, events_statuses)
    for note in notes:
        print(f"note: {note}")
    for violation in violations:
        print(f"VIOLATION: {violation}")
    bookings = len(bookings_report.get("bookings", []))
    payments = len(payments_report.get("payments", []))
    if violations:
        print(f"verify: {len(violations)} violation(s) in {bookings} bookings and {payments} payments")
        return 1
    print(f"verify: OK ({bookings} bookings, {payments} payments)")
    return 0
