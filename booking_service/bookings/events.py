"""Handlers of the events the booking service consumes (its half of the saga and the replica).

What it publishes (``bookings.booking.created/confirmed/cancelled``) is written by ``services``
in the same transaction as the change it reports.
"""

from __future__ import annotations

from common.events import types
from common.events.envelope import Event
from common.events.registry import handler

from . import services


@handler(types.SHOWTIME_PUBLISHED)
def on_showtime_published(event: Event) -> None:
    services.showtime_apply_snapshot(event=event)


@handler(types.SHOWTIME_CANCELLED)
def on_showtime_cancelled(event: Event) -> None:
    services.showtime_apply_cancelled(event=event)


@handler(types.PAYMENT_SUCCEEDED)
def on_payment_succeeded(event: Event) -> None:
    services.booking_apply_payment_succeeded(event=event)


@handler(types.PAYMENT_FAILED)
def on_payment_failed(event: Event) -> None:
    services.booking_apply_payment_failed(event=event)
