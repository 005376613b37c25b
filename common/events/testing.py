"""Helpers for tests of event producers and handlers.

Usage::

    from common.events.testing import deliver, published

    deliver(types.PAYMENT_SUCCEEDED, {...})  # as the worker would: inbox + handler
    assert [e["type"] for e in published()] == [...]  # what this service wrote to its outbox
"""

from __future__ import annotations

import uuid
from typing import Any

from .envelope import build_envelope
from .models import OutboxEvent
from .processing import Outcome, apply_envelope


def make_envelope(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: uuid.UUID | None = None,
    producer: str = "test",
    correlation_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    return build_envelope(
        event_type=event_type,
        data=data,
        producer=producer,
        correlation_id=correlation_id,
        causation_id=None,
        event_id=event_id,
    )


def deliver(event_type: str, data: dict[str, Any], **envelope_options) -> Outcome:
    """Apply an event here exactly as the consumer does (validation, inbox, handler)."""
    return apply_envelope(make_envelope(event_type, data, **envelope_options))


def published(event_type: str | None = None) -> list[dict[str, Any]]:
    """Envelopes this service wrote to its outbox, oldest first."""
    rows = OutboxEvent.objects.order_by("position")
    if event_type:
        rows = rows.filter(type=event_type)
    return [row.envelope for row in rows]
