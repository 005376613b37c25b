"""``publish``: record an event in the caller's transaction (the transactional outbox).

The event is a row in this service's own database, written with the change it reports: if the
transaction rolls back, the event never existed. After commit the relay sends it to the broker;
until the broker confirms, the row stays pending and the periodic sweep retries it.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from common.db.inserts import insert_rows
from common.observability.context import correlation_id_var

from .envelope import Event, build_envelope
from .models import OutboxEvent


def publish(
    event_type: str,
    data: dict[str, Any],
    *,
    aggregate_id: uuid.UUID | str,
    caused_by: Event | None = None,
    correlation_id: uuid.UUID | str | None = None,
    using: str = "default",
) -> OutboxEvent:
    """Write ``event_type`` with ``data`` to the outbox; sent after the transaction commits.

    The correlation id comes from, in order: the argument, the event that caused this one, the
    current request or message. ``data`` is validated against the catalogue here, so a wrong
    payload fails in the producer's tests.
    """
    correlation_id = (
        correlation_id or (caused_by.correlation_id if caused_by else None) or correlation_id_var.get() or None
    )
    envelope = build_envelope(
        event_type=event_type,
        data=data,
        producer=settings.SERVICE_NAME,
        correlation_id=correlation_id,
        causation_id=caused_by.id if caused_by else None,
    )
    row = OutboxEvent(event_id=envelope["id"], type=event_type, aggregate_id=str(aggregate_id), envelope=envelope)
    insert_rows([row], using=using)  # every write that publishes runs this: no query compiler
    from . import background  # the relay imports kombu; keep it out of model-only imports

    transaction.on_commit(partial(background.relay_soon, row.position), using=using)
    return row
