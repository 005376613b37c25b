"""Hold expiry: the sweeper task, and the overdue gauge."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from booking_service.bookings.models import Booking, BookingSeat
from booking_service.bookings.tasks import expire_holds
from common.events import types
from common.events.testing import published

from .factories import ShowtimeReplicaFactory, make_booking

pytestmark = pytest.mark.django_db


def overdue(booking: Booking, seconds: int = 1) -> None:
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=seconds))


def test_the_sweeper_expires_overdue_holds_and_releases_their_seats():
    # given
    showtime = ShowtimeReplicaFactory()
    late = make_booking(showtime=showtime, seats=["A1", "A2"])
    overdue(late)
    fresh = make_booking(showtime=showtime, seats=["A3"])

    # when
    expired = expire_holds.apply().get()

    # then
    assert expired == 1
    assert dict(Booking.objects.values_list("id", "status")) == {late.id: "expired", fresh.id: "pending"}
    assert sorted(BookingSeat.objects.filter(is_live=True).values_list("label", flat=True)) == ["A3"]
    [event] = published(types.BOOKING_CANCELLED)
    assert event["correlation_id"] == str(late.id)
    assert event["data"]["booking_id"] == str(late.id)
    assert event["data"]["reason"] == "expired"
    late.refresh_from_db()
    assert late.timeline.last().cause == "hold_expired"


def test_the_sweeper_works_in_batches_and_a_second_run_does_nothing():
    from booking_service.bookings.services import bookings_expire_overdue

    bookings = [make_booking(seats=["A1"]) for _ in range(5)]
    for booking in bookings:
        overdue(booking)

    assert bookings_expire_overdue(batch_size=2) == 5
    assert bookings_expire_overdue(batch_size=2) == 0
    assert len(published(types.BOOKING_CANCELLED)) == 5


def test_the_sweeper_leaves_confirmed_bookings_alone():
    booking = make_booking(seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(status="confirmed", expires_at=timezone.now() - dt.timedelta(hours=1))

    assert expire_holds.apply().get() == 0

    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert published(types.BOOKING_CANCELLED) == []


def test_the_sweeper_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["booking.expire_holds"]
    assert entry["task"] == "booking.bookings.expire_holds"
    assert entry["schedule"] <= 10
    assert expire_holds.name == "booking.bookings.expire_holds"


def test_the_overdue_gauge_counts_pending_bookings_past_hold_and_grace():
    # given
    within_grace = make_booking(seats=["A1"])
    overdue(within_grace, seconds=30)
    past_grace = make_booking(seats=["A1"])
    overdue(past_grace, seconds=120)
    make_booking(seats=["A1"])

    # when
    value = REGISTRY.get_sample_value("bookings_pending_overdue")

    # then
    assert value == 1.0


def test_the_overdue_gauge_is_absent_rather_than_failing_when_the_database_fails(monkeypatch):
    from booking_service.bookings import selectors

    def broken(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(selectors, "pending_overdue_count", broken)

    assert REGISTRY.get_sample_value("bookings_pending_overdue") is None


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_skips_a_booking_locked_elsewhere_instead_of_waiting(settings):
    from booking_service.bookings.services import bookings_expire_overdue
    from common.testing.infrastructure import require_postgres_database
    from common.testing.locks import row_locked_elsewhere

    # given: two overdue holds, one of them locked by another transaction (a payment handler, say)
    require_postgres_database(settings)
    locked, free = make_booking(seats=["A1"]), make_booking(seats=["A1"])
    overdue(locked)
    overdue(free)

    # when
    with row_locked_elsewhere(Booking, locked.pk):
        expired = bookings_expire_overdue()

    # then: the free one expired at once, the locked one waits for the next sweep
    assert expired == 1
    assert dict(Booking.objects.values_list("id", "status")) == {locked.id: "pending", free.id: "expired"}
    assert bookings_expire_overdue() == 1
