"""Sends committed outbox rows to the broker.

Two ways in, one way out:

- ``relay_after_commit(position)``: ``publish`` schedules it with ``transaction.on_commit``, so
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

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone
from kombu import Producer
from kombu.pools import connections

from . import metrics
from .broker import broker_connection
from .conf import events_settings
from .models import OutboxEvent
from .topology import declare_all, exchange

logger = logging.getLogger(__name__)

# After the broker failed an after-commit send, requests skip the broker for a few seconds
# (the sweep sends their rows), so an outage costs one short timeout, not one per request.
_BROKER_PAUSE_SECONDS = 5.0
_broker_paused_until = 0.0


def backoff_seconds(attempts: int) -> float:
    conf = events_settings()
    return min(conf["RELAY_BACKOFF_MAX"], conf["RELAY_BACKOFF_BASE"] * 2 ** max(attempts - 1, 0))


def relay_after_commit(position: int) -> None:
    """Called once the transaction that wrote outbox row ``position`` has committed.

    Sends that row (and older unsent rows of its aggregate, which must go first) now. Never
    raises: whatever fails stays pending for the sweep.
    """
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return
    try:
        row = OutboxEvent.objects.filter(position=position).only("aggregate_id").first()
        if row is None:
            return
        send_pending(aggregate_id=row.aggregate_id, up_to=position)
        if OutboxEvent.objects.filter(position=position, status=OutboxEvent.Status.PENDING, attempts__gt=0).exists():
            _broker_paused_until = time.monotonic() + _BROKER_PAUSE_SECONDS
    except Exception:
        logger.warning("outbox row %s not sent after commit; the sweep will retry", position, exc_info=True)


def sweep_outbox(*, max_batches: int = 50) -> int:
    """Send everything pending and due; returns how many rows were sent."""
    total = 0
    for _ in range(max_batches):
        sent, claimed = send_pending()
        total += sent
        if sent == 0 or claimed < events_settings()["RELAY_BATCH_SIZE"]:
            break
    return total


def send_pending(*, aggregate_id: str | None = None, up_to: int | None = None) -> tuple[int, int]:
    """Claim one batch of due rows, publish them in order; returns (sent, claimed)."""
    conf = events_settings()
    now = timezone.now()
    with transaction.atomic():
        due = OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
        # Leave out rows held back by an older row of their aggregate that cannot go now (failed
        # or backing off), so a stuck aggregate never fills the batch and starves the others.
        held_back = OutboxEvent.objects.filter(
            aggregate_id=OuterRef("aggregate_id"), position__lt=OuterRef("position")
        ).filter(Q(status=OutboxEvent.Status.FAILED) | Q(status=OutboxEvent.Status.PENDING, next_attempt_at__gt=now))
        due = due.exclude(Exists(held_back))
        if aggregate_id is not None:
            due = due.filter(aggregate_id=aggregate_id)
        if up_to is not None:
            due = due.filter(position__lte=up_to)
        rows = list(due.select_for_update(skip_locked=True).order_by("position")[: conf["RELAY_BATCH_SIZE"]])
        if not rows:
            return 0, 0
        sendable = _in_aggregate_order(rows)
        if not sendable:
            return 0, len(rows)
        sent = _publish_rows(sendable)
    return sent, len(rows)


def _in_aggregate_order(rows: list[OutboxEvent]) -> list[OutboxEvent]:
    """The claimed rows that no older unsent row of their aggregate holds back."""
    claimed = {row.position for row in rows}
    aggregates = {row.aggregate_id for row in rows}
    # The oldest unsent row of each aggregate that this batch did not claim (locked by another
    # relay, backing off, failed, or past the batch): nothing of that aggregate after it goes.
    blockers = dict(
        OutboxEvent.objects.filter(aggregate_id__in=aggregates)
        .exclude(status=OutboxEvent.Status.SENT)
        .exclude(position__in=claimed)
        .values("aggregate_id")
        .annotate(first=Min("position"))
        .values_list("aggregate_id", "first")
    )
    return [row for row in rows if row.aggregate_id not in blockers or row.position < blockers[row.aggregate_id]]


def _publish_rows(rows: Iterable[OutboxEvent]) -> int:
    """Publish rows in position order inside the claiming transaction; record each outcome."""
    conf = events_settings()
    failed_aggregates: set[str] = set()
    sent_positions: list[int] = []
    rows = list(rows)
    try:
        with connections[broker_connection()].acquire(block=True, timeout=conf["RELAY_CONNECT_TIMEOUT"]) as conn:
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
                _record_failure(row, exc)
    if sent_positions:
        OutboxEvent.objects.filter(position__in=sent_positions).update(
            status=OutboxEvent.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        for row in rows:
            if row.position in sent_positions:
                metrics.EVENTS_PUBLISHED.labels(type=row.type).inc()
    return len(sent_positions)


_last_filesystem_ms = 0


def _one_message_per_millisecond() -> None:
    """Keep the file-system broker's order: it sorts a queue by a millisecond timestamp."""
    global _last_filesystem_ms
    while (now_ms := round(time.monotonic() * 1000)) <= _last_filesystem_ms:
        time.sleep(0.0005)
    _last_filesystem_ms = now_ms


def _publish(producer: Producer, row: OutboxEvent, confirm_timeout: float) -> None:
    body = json.dumps(row.envelope)
    if producer.channel.connection.client.transport.driver_type == "filesystem":
        _one_message_per_millisecond()
    # With confirm_publish set (RabbitMQ), publish returns only once the broker confirmed, and
    # raises if it refused or did not answer in time.
    producer.publish(
        body,
        routing_key=row.type,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=str(row.event_id),
        headers={"x-event-type": row.type, "x-producer": row.envelope.get("producer", "")},
        retry=False,
        confirm_timeout=confirm_timeout,
    )


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
