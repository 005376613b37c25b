"""What the load left behind, read from the bench databases and the API: the saga's latencies and
stages, the integrity checks, the memory of the stack under load."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import uuid

from bench import load
from bench.plans import bearer
from bench.stack import GATEWAY_PORT, HOST, SERVICES, Stack, bench_database, db_url, psql


def wait_until_settled(timeout: float, *, booking_ids: list[str] | None = None, poll_seconds: float = 1.0) -> dict:
    """Poll the bench booking database until no booking (of ``booking_ids``, if given) is pending,
    at most ``timeout`` seconds; the bookings' counts by status."""
    url = db_url(bench_database(SERVICES["booking"]))
    query = "SELECT status, count(*) FROM bookings_booking GROUP BY status"
    if booking_ids is not None:
        ids = ",".join(f"'{uuid.UUID(i)}'" for i in booking_ids) or "NULL"  # UUIDs only: safe to inline
        query = f"SELECT status, count(*) FROM bookings_booking WHERE id IN ({ids}) GROUP BY status"  # noqa: S608
    deadline = time.monotonic() + timeout
    while True:
        rows = psql(query, url)
        counts = {status: int(n) for status, n in (row.split("|") for row in rows.splitlines() if row)}
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(poll_seconds)


def wait_until_emailed(timeout: float, *, poll_seconds: float = 2.0) -> float | None:
    """Poll until every confirmed booking's e-mail is sent, at most ``timeout`` seconds: the
    saga's last step, after the confirmation whose latency the saga phase measures. The seconds
    waited, or None if some were still unsent then."""
    booking_db = db_url(bench_database(SERVICES["booking"]))
    notification_db = db_url(bench_database(SERVICES["notification"]))
    started = time.monotonic()
    while True:
        confirmed = int(psql("SELECT count(*) FROM bookings_booking WHERE status = 'confirmed'", booking_db))
        sent = int(
            psql(
                "SELECT count(*) FROM notifications_notification WHERE kind = 'booking_confirmed' AND status = 'sent'",
                notification_db,
            )
        )
        waited = time.monotonic() - started
        if sent >= confirmed:
            return round(waited, 1)
        if waited > timeout:
            return None
        time.sleep(poll_seconds)


def saga_latencies(results: list[load.Result]) -> tuple[list[float], list[float], dict[str, int]]:
    """Seconds from each booking's scheduled POST to its ``confirmed`` timeline entry (via the API),
    and from its ``created`` entry to ``confirmed`` (the saga alone, without the POST's queueing)."""
    created = [(r, r.json()) for r in results if r.status == 201]

    async def go():
        client = load.Client(HOST, GATEWAY_PORT, max_connections=8)
        semaphore = asyncio.Semaphore(8)

        async def one(result, booking):
            async with semaphore:
                request = load.Request("GET", f"/api/bookings/{booking['id']}/", bearer(result.request.tag["token"]))
                status, body = await client.request(request)
            return result, status, body

        try:
            return await asyncio.gather(*(one(r, b) for r, b in created))
        finally:
            client.close()

    latencies, after_created, outcomes = [], [], {}
    for result, status, body in asyncio.run(go()):
        if status != 200:
            outcomes[f"detail {status}"] = outcomes.get(f"detail {status}", 0) + 1
            continue
        detail = json.loads(body)
        outcomes[detail["status"]] = outcomes.get(detail["status"], 0) + 1
        confirmed = [e for e in detail["timeline"] if e["to_status"] == "confirmed"]
        if confirmed:
            at = dt.datetime.fromisoformat(confirmed[0]["at"]).timestamp()
            latencies.append(at - result.scheduled)
            created = dt.datetime.fromisoformat(detail["timeline"][0]["at"]).timestamp()
            after_created.append(at - created)
    return sorted(latencies), sorted(after_created), outcomes


def integrity() -> dict:
    """Seats held by two live bookings, bookings with more than one payment, and where the
    confirmations' e-mails are (each confirmed booking should have one, sent)."""
    booking_db = db_url(bench_database(SERVICES["booking"]))
    double_booked = psql(
        "SELECT count(*) FROM (SELECT s.showtime_id, s.label FROM bookings_bookingseat s"
        " JOIN bookings_booking b ON b.id = s.booking_id WHERE b.status IN ('pending', 'confirmed')"
        " GROUP BY s.showtime_id, s.label HAVING count(*) > 1) AS twice",
        booking_db,
    )
    double_charged = psql(
        "SELECT count(*) FROM (SELECT booking_id FROM payments_payment GROUP BY booking_id HAVING count(*) > 1) AS t",
        db_url(bench_database(SERVICES["payment"])),
    )
    statuses = psql("SELECT status, count(*) FROM bookings_booking GROUP BY status ORDER BY status", booking_db)
    emails = psql(
        "SELECT status, count(*) FROM notifications_notification WHERE kind = 'booking_confirmed'"
        " GROUP BY status ORDER BY status",
        db_url(bench_database(SERVICES["notification"])),
    )
    return {
        "double_booked_seats": int(double_booked),
        "bookings_with_two_payments": int(double_charged),
        "bookings_by_status": _counts(statuses),
        "confirmation_emails_by_status": _counts(emails),
    }


def _counts(rows: str) -> dict[str, int]:
    return {status: int(count) for status, count in (row.split("|") for row in rows.splitlines() if row)}


def saga_stages(booking_ids: list[str]) -> dict:
    """Where the saga's time goes, per confirmed booking, from both databases' own timestamps.

    created → payment row (booking.created relayed and applied by payment) → payment succeeded
    (the charge task queued, run and recorded) → booking confirmed (payment.succeeded relayed and
    applied by booking). Percentiles in ms.
    """
    if not booking_ids:
        return {}
    ids = ",".join(f"'{uuid.UUID(booking_id)}'" for booking_id in booking_ids)  # UUIDs only, so no quoting issue
    confirmed_sql = (
        "SELECT b.id, extract(epoch FROM b.created_at), extract(epoch FROM t.at) FROM bookings_booking b"
        " JOIN bookings_bookingtransition t ON t.booking_id = b.id AND t.to_status = 'confirmed'"
        " WHERE b.id IN ({ids})"
    )
    paid_sql = (
        "SELECT booking_id, extract(epoch FROM created_at), extract(epoch FROM updated_at) FROM payments_payment"
        " WHERE status = 'succeeded' AND booking_id IN ({ids})"
    )
    bookings = psql(confirmed_sql.format(ids=ids), db_url(bench_database(SERVICES["booking"])))
    payments = psql(paid_sql.format(ids=ids), db_url(bench_database(SERVICES["payment"])))
    paid = {row.split("|")[0]: [float(x) for x in row.split("|")[1:]] for row in payments.splitlines() if row}
    stages: dict[str, list[float]] = {"to_payment_created": [], "to_payment_succeeded": [], "to_confirmed": []}
    for row in bookings.splitlines():
        booking_id, created, confirmed = row.split("|")
        if booking_id not in paid:
            continue
        payment_created, payment_succeeded = paid[booking_id]
        stages["to_payment_created"].append(payment_created - float(created))
        stages["to_payment_succeeded"].append(payment_succeeded - payment_created)
        stages["to_confirmed"].append(float(confirmed) - payment_succeeded)

    def summary(values):
        values = sorted(values)
        return {f"p{int(q * 100)}": round(1000 * load.percentile(values, q), 1) for q in (0.5, 0.95, 0.99)}

    return {stage: summary(values) for stage, values in stages.items() if values}


class MemorySampler(threading.Thread):
    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.peak: dict = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(2):
            try:
                sample = self.stack.memory()
            except Exception:  # noqa: S112 - a process exiting mid-sample; try again
                continue
            if sample["stack_rss_mib"] > self.peak.get("stack_rss_mib", 0):
                self.peak = sample
