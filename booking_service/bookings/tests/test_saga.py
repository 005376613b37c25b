"""The booking side of the saga: payment succeeded/failed, duplicates and out-of-order arrival."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking_service.bookings.models import Booking, BookingSeat, BookingTransition
from common.events import types
from common.events.testing import deliver, published

from .factories import ShowtimeReplicaFactory, failure_data, make_booking, payment_data

pytestmark = pytest.mark.django_db


def transitions(booking: Booking) -> list[tuple[str, str, str]]:
    return list(BookingTransition.objects.filter(booking=booking).values_list("from_status", "to_status", "cause"))


def live_labels(booking: Booking) -> list[str]:
    return sorted(BookingSeat.objects.filter(booking=booking, is_live=True).values_list("label", flat=True))


def test_payment_succeeded_confirms_and_publishes_booking_confirmed():
    # given
    booking = make_booking(seats=["A1", "B2"])
    held_at = booking.updated_at
    data = payment_data(booking)
    event_id = uuid.uuid4()

    # when
    outcome = deliver(types.PAYMENT_SUCCEEDED, data, event_id=event_id)

    # then
    assert outcome == "applied"
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert str(booking.payment_id) == data["payment_id"]
    assert booking.updated_at > held_at
    assert live_labels(booking) == ["A1", "B2"]
    entry = booking.timeline.last()
    assert (entry.from_status, entry.to_status, entry.cause, entry.event_id) == (
        "pending",
        "confirmed",
        "payment_succeeded",
        event_id,
    )
    [event] = published(types.BOOKING_CONFIRMED)
    assert event["causation_id"] == str(event_id)
    starts_at = dt.datetime.fromisoformat(event["data"].pop("starts_at"))
    assert starts_at == booking.starts_at
    assert event["data"] == {
        "booking_id": str(booking.id),
        "user_id": str(booking.user_id),
        "movie_title": "Dune: Part Two",
        "cinema_name": "Odeon Leicester Square",
        "seats": ["A1", "B2"],
        "amount": "30.50",
        "currency": "EUR",
        "reference": booking.reference,
        "screen_name": "Screen 1",
        "cinema_timezone": "Europe/London",
    }


def test_payment_succeeded_delivered_three_times_confirms_once():
    # given
    booking = make_booking()
    data = payment_data(booking)
    event_id = uuid.uuid4()

    # when
    outcomes = [deliver(types.PAYMENT_SUCCEEDED, data, event_id=event_id) for _ in range(3)]

    # then
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert transitions(booking) == [("", "pending", "created"), ("pending", "confirmed", "payment_succeeded")]
    assert len(published(types.BOOKING_CONFIRMED)) == 1


def test_the_same_success_under_new_event_ids_does_not_transition_again():
    # given
    booking = make_booking()
    data = payment_data(booking)

    # when
    outcomes = [deliver(types.PAYMENT_SUCCEEDED, data) for _ in range(3)]

    # then
    assert outcomes == ["applied", "applied", "applied"]
    assert transitions(booking) == [("", "pending", "created"), ("pending", "confirmed", "payment_succeeded")]
    assert len(published(types.BOOKING_CONFIRMED)) == 1


def test_payment_failed_cancels_and_releases_the_seats():
    # given
    booking = make_booking(seats=["A1", "A2"])
    event_id = uuid.uuid4()

    # when
    deliver(types.PAYMENT_FAILED, failure_data(booking), event_id=event_id)

    # then
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.cancel_reason == "payment_failed"
    assert live_labels(booking) == []
    assert transitions(booking)[-1] == ("pending", "cancelled", "payment_failed")
    [event] = published(types.BOOKING_CANCELLED)
    assert event["causation_id"] == str(event_id)
    assert event["data"]["reason"] == "payment_failed"
    assert event["data"]["was_confirmed"] is False
    assert event["data"]["seats"] == ["A1", "A2"]


@pytest.mark.parametrize("same_event_id", [True, False])
def test_payment_failed_three_times_cancels_once(same_event_id):
    booking = make_booking()
    data = failure_data(booking)
    event_id = uuid.uuid4()

    for _ in range(3):
        deliver(types.PAYMENT_FAILED, data, event_id=event_id if same_event_id else None)

    assert transitions(booking) == [("", "pending", "created"), ("pending", "cancelled", "payment_failed")]
    assert len(published(types.BOOKING_CANCELLED)) == 1


def test_failure_arriving_after_success_leaves_the_booking_confirmed():
    # given
    booking = make_booking(seats=["A1"])
    deliver(types.PAYMENT_SUCCEEDED, payment_data(booking))
    outbox_before = published()

    # when: a stale failure, twice
    deliver(types.PAYMENT_FAILED, failure_data(booking))
    deliver(types.PAYMENT_FAILED, failure_data(booking))

    # then
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert live_labels(booking) == ["A1"]
    assert [cause for _, _, cause in transitions(booking)] == [
        "created",
        "payment_succeeded",
        "payment_failed_ignored",
        "payment_failed_ignored",
    ]
    assert published() == outbox_before


def test_success_arriving_after_failure_does_not_resurrect_the_booking():
    # given
    booking = make_booking(seats=["A1"])
    deliver(types.PAYMENT_FAILED, failure_data(booking))
    outbox_before = published()
    success = payment_data(booking)

    # when
    deliver(types.PAYMENT_SUCCEEDED, success)
    deliver(types.PAYMENT_SUCCEEDED, success)

    # then: payment refunds it on its own (it has seen bookings.booking.cancelled)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert live_labels(booking) == []
    assert transitions(booking)[-1] == ("cancelled", "cancelled", "late_payment")
    assert BookingTransition.objects.filter(booking=booking, cause="late_payment").count() == 1
    assert published() == outbox_before


def test_late_success_after_expiry_is_recorded_and_nothing_is_confirmed():
    # given: a booking that expired
    booking = make_booking(seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    from booking_service.bookings.services import bookings_expire_overdue

    bookings_expire_overdue()
    outbox_before = published()

    # when
    deliver(types.PAYMENT_SUCCEEDED, payment_data(booking))

    # then
    booking.refresh_from_db()
    assert booking.status == "expired"
    assert booking.timeline.last().cause == "late_payment"
    assert published() == outbox_before


def test_success_after_the_hold_ran_out_but_before_the_sweep_expires_it():
    # given
    booking = make_booking(seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    # when
    deliver(types.PAYMENT_SUCCEEDED, payment_data(booking))

    # then: expired now, and the cancelled event tells payment to refund
    booking.refresh_from_db()
    assert booking.status == "expired"
    assert live_labels(booking) == []
    [event] = published(types.BOOKING_CANCELLED)
    assert event["data"]["reason"] == "expired"
    assert event["data"]["was_confirmed"] is True  # paid: the e-mail says it is refunded, not "nothing charged"
    assert published(types.BOOKING_CONFIRMED) == []


def test_success_with_a_different_amount_does_not_confirm():
    booking = make_booking(seats=["A1"])
    outbox_before = published()

    deliver(types.PAYMENT_SUCCEEDED, payment_data(booking, amount="1.00"))

    booking.refresh_from_db()
    assert booking.status == "pending"
    assert booking.timeline.last().cause == "payment_mismatch"
    assert published() == outbox_before


def test_success_for_an_unknown_booking_is_ignored():
    showtime = ShowtimeReplicaFactory()
    data = {
        "payment_id": str(uuid.uuid4()),
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "amount": "1.00",
        "currency": "EUR",
    }

    assert deliver(types.PAYMENT_SUCCEEDED, data) == "applied"

    assert Booking.objects.filter(showtime=showtime).count() == 0
    assert published() == []


def test_applying_a_payment_success_is_one_savepoint_and_its_statements():
    # given
    booking = make_booking(seats=["A1", "B2"])

    # when
    with CaptureQueriesContext(connection) as captured:
        deliver(types.PAYMENT_SUCCEEDED, payment_data(booking))

    # then: the event's own transaction (a savepoint inside the test's) and nothing nested in it
    assert [query["sql"].split()[0] for query in captured.captured_queries] == [
        "SAVEPOINT",  # the inbox entry's transaction
        "INSERT",  # the inbox entry
        "SELECT",  # the booking, locked
        "SELECT",  # is its showtime cancelled?
        "UPDATE",  # confirmed
        "INSERT",  # its transition
        "SELECT",  # its seats, for the event
        "INSERT",  # bookings.booking.confirmed in the outbox
        "RELEASE",
    ]
