"""Test data for the booking service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import factory
from django.utils import timezone

from booking_service.bookings import services
from booking_service.bookings.models import Booking, ShowtimeReplica

SEATS = [{"label": f"A{number}", "category": "standard"} for number in range(1, 11)] + [
    {"label": f"B{number}", "category": "premium"} for number in range(1, 11)
]
PRICES = {"standard": "12.50", "premium": "18.00"}


class ShowtimeReplicaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShowtimeReplica

    id = factory.LazyFunction(uuid.uuid4)
    version = 1
    has_snapshot = True
    status = ShowtimeReplica.Status.SCHEDULED
    movie_id = factory.LazyFunction(uuid.uuid4)
    movie_title = "Dune: Part Two"
    cinema_id = factory.LazyFunction(uuid.uuid4)
    cinema_name = "Odeon Leicester Square"
    cinema_timezone = "Europe/London"
    screen_name = "Screen 1"
    starts_at = factory.LazyFunction(lambda: (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0))
    ends_at = factory.LazyAttribute(lambda showtime: showtime.starts_at + dt.timedelta(hours=3))
    currency = "EUR"
    prices = factory.LazyFunction(lambda: dict(PRICES))
    seats = factory.LazyFunction(lambda: [dict(seat) for seat in SEATS])


def snapshot_data(showtime_id: uuid.UUID | None = None, **overrides: Any) -> dict[str, Any]:
    """``movies.showtime.published`` data, as the movie service sends it."""
    starts_at = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    data = {
        "id": str(showtime_id or uuid.uuid4()),
        "movie_id": str(uuid.uuid4()),
        "movie_title": "Dune: Part Two",
        "cinema_id": str(uuid.uuid4()),
        "cinema_name": "Odeon Leicester Square",
        "screen_name": "Screen 1",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + dt.timedelta(hours=3)).isoformat(),
        "status": "scheduled",
        "currency": "EUR",
        "prices": dict(PRICES),
        "seats": [dict(seat) for seat in SEATS],
        "version": 1,
        "cinema_timezone": "Europe/London",
    }
    data.update(overrides)
    return data


def make_booking(
    *,
    showtime: ShowtimeReplica | None = None,
    seats: list[str] | None = None,
    user_id: uuid.UUID | None = None,
    payment_method: str = "pm_card_visa",
) -> Booking:
    """A pending booking made the way the API makes it."""
    booking, _ = services.booking_create(
        user_id=user_id or uuid.uuid4(),
        showtime_id=(showtime or ShowtimeReplicaFactory()).id,
        seats=seats or ["A1", "A2"],
        payment_method=payment_method,
    )
    return booking


def payment_data(booking: Booking, **overrides: Any) -> dict[str, Any]:
    data = {
        "payment_id": str(uuid.uuid4()),
        "booking_id": str(booking.id),
        "user_id": str(booking.user_id),
        "amount": str(booking.total_amount),
        "currency": booking.currency,
    }
    data.update(overrides)
    return data


def failure_data(booking: Booking, **overrides: Any) -> dict[str, Any]:
    data = {
        "payment_id": str(uuid.uuid4()),
        "booking_id": str(booking.id),
        "user_id": str(booking.user_id),
        "reason": "card_declined",
    }
    data.update(overrides)
    return data
