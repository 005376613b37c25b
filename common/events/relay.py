"""Sends committed outbox rows to the broker.

Two ways in, one way out:

- ``relay_after_commit(positions)``: ``publish`` schedules it with ``transaction.on_commit``, so
  an event normally leaves right after the transaction that wrote it. It tries once, quickly:
  a broker that is down must never break (or slow down much) the request that published.
- ``sweep_outbox()``: the beat task ``events.sweep_outbox`` (every ``SWEEP_INTERVAL`` seconds in
  every service) sends whatever is still pending and due.

Both claim rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; a no-op on SQLite, where
the database lock serialises writers anyway), publish each row with publisher confirms and
mark it sent only once the broker confirmed it. Per aggregate, a row is never sent while an
older row of the same aggregate is unsent (pending or failed), so consumers see one
aggregate's events in the order they were written. A failed send counts an attempt and
backs off exponentially; after ``RELAY_MAX_ATTEMPTS`` the row is ``failed`` (visible in the admin
and ``manage_all.py events``, replayable).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from kombu import Producer

from . import metrics
from .broker import broker_pool
from .conf import events_settings
from .models import OutboxEvent
from .topology import AGGREGATE_HEADER, declare_all, exchange

logger = logging.getLogger(__name__)

# After the broker failed an after-commit send, requests skip the broker for a few seconds
# (the sweep sends their rows), so an outage costs one short timeout, not one per request.
_BROKER_PAUSE_SECONDS = 5.0
_broker_paused_until = 0.0


def backoff_seconds(attempts: int) -> float:
    conf = events_settings()
    return min(conf["RELAY_BACKOFF_MAX"], conf["RELAY_BACKOFF_BASE"] * 2 ** max(attempts - 1, 0))


def relay_after_commit(positions: Iterable[int]) -> None:
    """Called once the transactions that wrote outbox rows ``positions`` have committed.

    Sends them in one claim (the relay thread hands over whatever queued up meanwhile, so under
    load one transaction carries many rows). A row held back behind an older unsent row of its
    aggregate stays for the sweep. Never raises: whatever fails stays pending for the sweep.
    """
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return
    try:
        if send_pending(positions=list(positions)).failed:
            _broker_paused_until = time.monotonic() + _BROKER_PAUSE_SECONDS
    except Exception:
        logger.warning("outbox rows %s not sent after commit; the sweep will retry", positions, exc_info=True)


def sweep_outbox(*, max_batches: int = 50) -> int:
    """Send everything pending and due; returns how many rows were sent."""
    total = 0
    for _ in range(max_batches):
        result = send_pending()
        total += result.sent
        if result.sent == 0 or result.claimed < events_settings()["RELAY_BATCH_SIZE"]:
            break
    return total


class SendResult(NamedTuple):
    sent: int
    claimed: int
    failed: int


def send_pending(*, positions: list[int] | None = None) -> SendResult:
    """Claim one batch of due rows (of ``positions``, if given), publish them in order."""
    with transaction.atomic():
        rows = _claim(positions=positions, now=timezone.now(), limit=events_settings()["RELAY_BATCH_SIZE"])
        if not rows:
            return SendResult(0, 0, 0)
        sendable = _in_aggregate_order(rows)
        if not sendable:
            return SendResult(0, len(rows), 0)
        sent, failed = _publish_rows(sendable)
    return SendResult(sent, len(rows), failed)


def _claim(*, positions: list[int] | None, now, limit: int) -> list[OutboxEvent]:
    """Lock up to ``limit`` due rows, oldest first, each with ``unsent_before``.

    ``unsent_before`` counts the older unsent rows of the row's aggregate. Rows held back by an
    older row that cannot go now (failed, or backing off) are left out, so a stuck aggregate never
    fills the batch and starves the others. Plain SQL: this runs after every commit of every
    service, and building the same ORM query each time cost more CPU than the rest of the send.
    """
    table = connection.ops.quote_name(OutboxEvent._meta.db_table)
    pending, sent, failed = OutboxEvent.Status.PENDING, OutboxEvent.Status.SENT, OutboxEvent.Status.FAILED
    if positions is not None:
        # Rows just committed: due by definition, no backoff to look at.
        due_sql, due_params = f"o.position IN ({', '.join(['%s'] * len(positions))})", list(positions)
    else:
        due_sql, due_params = "(o.next_attempt_at IS NULL OR o.next_attempt_at <= %s)", [now]
    lock = " FOR UPDATE OF o SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = f"""
        SELECT o.*, (
            SELECT COUNT(*) FROM {table} AS older
            WHERE older.aggregate_id = o.aggregate_id AND older.position < o.position AND older.status <> %s
        ) AS unsent_before
        FROM {table} AS o
        WHERE o.status = %s AND {due_sql} AND NOT EXISTS (
            SELECT 1 FROM {table} AS older
            WHERE older.aggregate_id = o.aggregate_id AND older.position < o.position
              AND (older.status = %s OR (older.status = %s AND older.next_attempt_at > %s))
        )
        ORDER BY o.position
        LIMIT %s{lock}
    """  # noqa: S608 - the table name comes from the model, every value is a parameter
    return list(OutboxEvent.objects.raw(sql, [sent, pending, *due_params, failed, pending, now, limit]))


def _in_aggregate_order(rows: list[OutboxEvent]) -> list[OutboxEvent]:
    """The claimed rows whose older unsent rows (of their aggregate) are all claimed before them.

    An older unsent row this batch did not claim (locked by another relay, backing off, failed,
    past the batch) holds back everything after it of its aggregate.
    """
    ready_before: dict[str, int] = {}
    blocked: set[str] = set()
    sendable = []
    for row in rows:  # position order
        if row.aggregate_id not in blocked and row.unsent_before == ready_before.get(row.aggregate_id, 0):
            sendable.append(row)
            ready_before[row.aggregate_id] = ready_before.get(row.aggregate_id, 0) + 1
        else:
            blocked.add(row.aggregate_id)
    return sendable


def _publish_rows(rows: Iterable[OutboxEvent]) -> tuple[int, int]:
    """Publish rows in position order inside the claiming transaction; record each outcome.

    Returns how many were sent and how many failed.
    """
    conf = events_settings()
    failed_aggregates: set[str] = set()
    failed = 0
    sent_positions: list[int] = []
    rows = list(rows)
    try:
        with broker_pool().acquire(block=True, timeout=conf["RELAY_CONNECT_TIMEOUT"]) as conn:
            try:
                conn.connect()
                channel = conn.default_channel
                declare_all(channel)
                producer = Producer(channel, exchange=exchange(), auto_declare=False)
                for row in rows:
                    if row.aggregate_id in failed_aggregates:
                        continue
                    try:
                        _publish(producer, row, conf["RELAY_CONFIRM_TIMEOUT"])
                    except Exception as exc:
                        failed_aggregates.add(row.aggregate_id)
                        failed += 1
                        _record_failure(row, exc)
                        if isinstance(exc, conn.connection_errors + conn.channel_errors + (OSError,)):
                            raise
                        continue
                    sent_positions.append(row.position)
            except Exception:
                # A broken connection must not go back to the pool as if it were fine.
                conn.collect()
                raise
    except Exception as exc:
        logger.warning("broker unavailable for the outbox relay: %s", exc)
        for row in rows:
            if row.position not in sent_positions and row.aggregate_id not in failed_aggregates:
                failed_aggregates.add(row.aggregate_id)
                failed += 1
                _record_failure(row, exc)
    if sent_positions:
        OutboxEvent.objects.filter(position__in=sent_positions).update(
            status=OutboxEvent.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        for row in rows:
            if row.position in sent_positions:
                metrics.EVENTS_PUBLISHED.labels(type=row.type).inc()
    return len(sent_positions), failed


_last_filesystem_ms = 0


def _wait_for_a_new_millisecond() -> None:
    """Keep the file-system broker's order: it names a message by the millisecond of its put and
    sorts a queue by name, so two messages put in one millisecond come out in either order."""
    while round(time.monotonic() * 1000) <= _last_filesystem_ms:
        time.sleep(0.0002)


def _publish(producer: Producer, row: OutboxEvent, confirm_timeout: float) -> None:
    global _last_filesystem_ms
    body = json.dumps(row.envelope)
    on_filesystem = producer.channel.connection.client.transport.driver_type == "filesystem"
    if on_filesystem:
        _wait_for_a_new_millisecond()
    # With confirm_publish set (RabbitMQ), publish returns only once the broker confirmed, and
    # raises if it refused or did not answer in time.
    producer.publish(
        body,
        routing_key=row.type,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=str(row.event_id),
        headers={
            "x-event-type": row.type,
            "x-producer": row.envelope.get("producer", ""),
            AGGREGATE_HEADER: str(row.aggregate_id),
        },
        retry=False,
        confirm_timeout=confirm_timeout,
    )
    if on_filesystem:
        # Read after the put: the broker stamped the message with this millisecond or an earlier
        # one, so the next message, put in a later millisecond, sorts after it.
        _last_filesystem_ms = round(time.monotonic() * 1000)


def _record_failure(row: OutboxEvent, error: BaseException) -> None:
    conf = events_settings()
    attempts = row.attempts + 1
    status = OutboxEvent.Status.FAILED if attempts >= conf["RELAY_MAX_ATTEMPTS"] else OutboxEvent.Status.PENDING
    next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(attempts))
    OutboxEvent.objects.filter(position=row.position).update(
        attempts=attempts,
        status=status,
        next_attempt_at=next_attempt_at,
        last_error=f"{error.__class__.__name__}: {error}"[:2000],
    )
    log = logger.error if status == OutboxEvent.Status.FAILED else logger.warning
    log("outbox %s %s: attempt %s failed (%s)", row.type, row.event_id, attempts, error)


def wait_until_sent(positions: Iterable[int], timeout: float = 10.0) -> bool:
    """Sweep until the given rows are sent (tests and tools); True if they all were."""
    positions = list(positions)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not OutboxEvent.objects.filter(position__in=positions).exclude(status=OutboxEvent.Status.SENT).exists():
            return True
        sweep_outbox()
        time.sleep(0.1)
    return False
