"""Operations on the outbox (admin actions and commands call these)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import OutboxEvent


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
    result = OutboxEvent.objects.aggregate(
        unsent=Count("position", filter=~Q(status=OutboxEvent.Status.SENT)),
        failed=Count("position", filter=Q(status=OutboxEvent.Status.FAILED)),
        oldest=Min("created_at", filter=~Q(status=OutboxEvent.Status.SENT)),
    )
    oldest = result["oldest"]
    return {
        "unsent": result["unsent"],
        "failed": result["failed"],
        "oldest_unsent_age_seconds": round(max((timezone.now() - oldest).total_seconds(), 0.0), 3) if oldest else 0.0,
    }
