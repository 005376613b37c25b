"""factory_boy factories, and the ``data`` of the events this service consumes."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from notification_service.notifications.models import Contact, Notification, Ticket


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    user_id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    updated_at = factory.LazyFunction(timezone.now)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    booking_id = factory.LazyFunction(uuid.uuid4)
    user_id = factory.LazyFunction(uuid.uuid4)
    reference = factory.Sequence(lambda n: f"BK{n:06d}")
    movie_title = "Dune: Part Two"
    cinema_name = "Odeon Leicester Square"
    screen_name = "Screen 1"
    cinema_timezone = "Europe/London"
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=2))
    seats = factory.LazyFunction(lambda: ["A1", "A2"])
    amount = Decimal("25.00")
    currency = "GBP"
    confirmed_event_id = factory.LazyFunction(uuid.uuid4)
    confirmed_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user_id = factory.LazyFunction(uuid.uuid4)
    kind = Notification.Kind.WELCOME
    recipient = factory.Sequence(lambda n: f"user{n}@example.com")
    subject = "Welcome to Movie Tickets"
    body_text = "Hello,\n\nWelcome!\n"
    body_html = "<p>Hello,</p><p>Welcome!</p>"
    context = factory.LazyFunction(dict)
    status = Notification.Status.PENDING
    event_id = factory.LazyFunction(uuid.uuid4)
    dedupe_key = factory.LazyAttribute(lambda o: f"{o.kind}:{uuid.uuid4()}")


def user_data(**overrides: Any) -> dict[str, Any]:
    return {"user_id": str(uuid.uuid4()), "email": "ada@example.com", "full_name": "Ada Lovelace", **overrides}


def confirmed_data(**overrides: Any) -> dict[str, Any]:
    return {
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "movie_title": "Dune: Part Two",
        "cinema_name": "Kino International",
        "screen_name": "Saal 1",
        "cinema_timezone": "Europe/Berlin",
        "starts_at": "2026-12-05T18:30:00+00:00",
        "seats": ["C7", "C8"],
        "amount": "24.00",
        "currency": "EUR",
        "reference": "BK-7Q2XK9",
        **overrides,
    }


def cancelled_data(**overrides: Any) -> dict[str, Any]:
    return {"booking_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "reason": "user_cancelled", **overrides}


def payment_failed_data(**overrides: Any) -> dict[str, Any]:
    return {
        "payment_id": str(uuid.uuid4()),
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "reason": "card_declined",
        **overrides,
    }


def refunded_data(**overrides: Any) -> dict[str, Any]:
    return {
        "payment_id": str(uuid.uuid4()),
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "amount": "24.00",
        "currency": "EUR",
        **overrides,
    }
