"""Apply one received event exactly once: inbox insert and handler in one transaction."""

from __future__ import annotations

import enum
import logging
from typing import Any

from django.db import transaction

from common.db.inserts import insert_rows
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
        if not _record_in_inbox(event):
            logger.info("duplicate %s %s; already applied", event.type, event.id)
            return Outcome.DUPLICATE
        function(event)
    logger.info("applied %s %s", event.type, event.id)
    return Outcome.APPLIED


def _record_in_inbox(event: Event) -> bool:
    """Insert the event's inbox row; False if it is already there (applied, or being applied).

    One statement instead of get_or_create's read, savepoint, insert and release: this runs for
    every event every service receives. A concurrent delivery of the same event waits here for the
    first transaction and then sees the row.
    """
    row = InboxEvent(id=event.id, type=event.type, correlation_id=event.correlation_id)
    return insert_rows([row], ignore_conflicts=True) == 1
