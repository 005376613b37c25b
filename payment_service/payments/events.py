"""Handlers of the booking events this service consumes; what it publishes is in services.py.

Publishes ``payments.payment.succeeded``, ``payments.payment.failed`` and
``payments.payment.refunded`` (see ``services``).
"""

from __future__ import annotations

from common.events import types
from common.events.envelope import Event, EventSchemaError
from common.events.registry import handler

from .money import InvalidAmountError
from .services import payment_cancel_for_booking, payment_create_for_booking


@handler(types.BOOKING_CREATED)
def on_booking_created(event: Event) -> None:
    data = event.data
    try:
        payment_create_for_booking(
            booking_id=data["booking_id"],
            user_id=data["user_id"],
            amount=data["amount"],
            currency=data["currency"],
            payment_method=data["payment_method"],
            correlation_id=event.correlation_id,
        )
    except InvalidAmountError as exc:
        # A producer bug (e.g. "1500.50" JPY): never applicable, so dead-lettered, not retried.
        raise EventSchemaError(f"{event.type} {event.id}: {exc}") from exc


@handler(types.BOOKING_CANCELLED)
def on_booking_cancelled(event: Event) -> None:
    payment_cancel_for_booking(booking_id=event.data["booking_id"], user_id=event.data["user_id"])
