"""Handlers of the events this service consumes; each runs in the transaction of its inbox entry."""

from __future__ import annotations

import uuid

from common.events import types
from common.events.envelope import Event
from common.events.registry import handler

from . import services


@handler(types.USER_REGISTERED)
def on_user_registered(event: Event) -> None:
    user_id = uuid.UUID(event.data["user_id"])
    services.contact_upsert(
        user_id=user_id, email=event.data["email"], full_name=event.data["full_name"], occurred_at=event.occurred_at
    )
    services.welcome_notify(event_id=event.id, user_id=user_id)


@handler(types.USER_UPDATED)
def on_user_updated(event: Event) -> None:
    services.contact_upsert(
        user_id=uuid.UUID(event.data["user_id"]),
        email=event.data["email"],
        full_name=event.data["full_name"],
        occurred_at=event.occurred_at,
    )


@handler(types.BOOKING_CONFIRMED)
def on_booking_confirmed(event: Event) -> None:
    ticket = services.ticket_record_confirmed(event_id=event.id, occurred_at=event.occurred_at, data=event.data)
    services.booking_confirmed_notify(event_id=event.id, ticket=ticket)


@handler(types.BOOKING_CANCELLED)
def on_booking_cancelled(event: Event) -> None:
    ticket = services.ticket_record_cancelled(occurred_at=event.occurred_at, data=event.data)
    services.booking_cancelled_notify(event_id=event.id, ticket=ticket, data=event.data)


@handler(types.PAYMENT_FAILED)
def on_payment_failed(event: Event) -> None:
    services.payment_failed_notify(event_id=event.id, data=event.data)


@handler(types.PAYMENT_REFUNDED)
def on_payment_refunded(event: Event) -> None:
    services.refund_completed_notify(event_id=event.id, data=event.data)
