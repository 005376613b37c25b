"""Operations on the outbox and the inbox (admin actions, commands and the prune task call these)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import models, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .conf import events_settings
from .models import InboxEvent, OutboxEvent

logger = logging.getLogger(__name__)

# Listed, not "not sent": an inequality cannot use the status index, and the sent rows are all
# but a few of the table.
UNSENT = [OutboxEvent.Status.PENDING, OutboxEvent.Status.FAILED]


@transaction.atomic
def outbox_replay(*, positions: Iterable[int]) -> int:
    """Put failed or sent rows back to pending, as new; the next sweep sends them.

    A replayed event keeps its id, so a consumer that already applied it acknowledges it
    without effect (inbox): replaying is always safe.
    """
    return (
        OutboxEvent.objects.filter(position__in=list(positions))
        .exclude(status=OutboxEvent.Status.PENDING)
        .update(status=OutboxEvent.Status.PENDING, attempts=0, next_attempt_at=None, last_error="", sent_at=None)
    )


def outbox_status() -> dict[str, float | int]:
    """Unsent (pending or failed) and failed counts, and the age of the oldest unsent row."""
    result = OutboxEvent.objects.filter(status__in=UNSENT).aggregate(
        unsent=Count("position"),
        failed=Count("position", filter=Q(status=OutboxEvent.Status.FAILED)),
        oldest=Min("created_at"),
    )
    oldest = result["oldest"]
    return {
        "unsent": result["unsent"],
        "failed": result["failed"],
        "oldest_unsent_age_seconds": round(max((timezone.now() - oldest).total_seconds(), 0.0), 3) if oldest else 0.0,
    }


def events_prune(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete sent outbox rows and inbox rows past their retention; how many of each.

    Unsent rows are never deleted, whatever their age. Batches of ``PRUNE_BATCH_SIZE``, each
    its own statement, so no delete holds many rows' locks or a long transaction.
    """
    conf = events_settings()
    now = now or timezone.now()
    deleted = {
        "outbox": _delete_in_batches(
            OutboxEvent.objects.filter(
                created_at__lt=now - dt.timedelta(days=conf["OUTBOX_RETENTION_DAYS"]), status=OutboxEvent.Status.SENT
            ),
            conf["PRUNE_BATCH_SIZE"],
        ),
        "inbox": _delete_in_batches(
            InboxEvent.objects.filter(received_at__lt=now - dt.timedelta(days=conf["INBOX_RETENTION_DAYS"])),
            conf["PRUNE_BATCH_SIZE"],
        ),
    }
    if any(deleted.values()):
        logger.info("pruned %s sent outbox row(s) and %s inbox row(s)", deleted["outbox"], deleted["inbox"])
    return deleted


def _delete_in_batches(rows: models.QuerySet, batch_size: int) -> int:
    total = 0
    while True:
        batch = rows.model.objects.filter(pk__in=rows.order_by().values("pk")[:batch_size])
        count, _ = batch.delete()
        total += count
        if count < batch_size:
            return total
