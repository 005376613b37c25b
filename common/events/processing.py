"""Apply one received event exactly once: inbox insert and handler in one transaction."""

from __future__ import annotations

import enum
import logging
from typing import Any

from django.db import transaction

from common.observability.context import bound

from .envelope import Event
from .models import InboxEvent
from .registry import handler_for

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def apply_envelope(envelope: dict[str, Any]) -> Outcome:
    """Validate, dedupe on the event id, run the handler; all or nothing.

    Raises ``EventSchemaError`` for an envelope that can never be applied and whatever the
    handler raises otherwise; the caller (the consumer) decides between retry and dead letter.
    """
    event = Event.from_envelope(envelope)
    function = handler_for(event.type)
    if function is None:
        logger.info("no handler for %s %s here; acknowledged without effect", event.type, event.id)
        return Outcome.IGNORED
    with bound(request_id=str(event.id), correlation_id=str(event.correlation_id)), transaction.atomic():
        _, created = InboxEvent.objects.get_or_create(
            id=event.id, defaults={"type": event.type, "correlation_id": event.correlation_id}
        )
        if not created:
            logger.info("duplicate %s %s; already applied", event.type, event.id)
            return Outcome.DUPLICATE
        function(event)
    logger.info("applied %s %s", event.type, event.id)
    return Outcome.APPLIED
