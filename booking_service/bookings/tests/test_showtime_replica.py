"""The replica of the movie service's showtimes, and what a cancelled showtime does to bookings."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from booking_service.bookings.models import Booking, BookingSeat, ShowtimeReplica
from common.events import types
from common.events.testing import deliver, published

from .factories import make_booking, payment_data, snapshot_data

pytestmark = pytest.mark.django_db


def test_a_snapshot_creates_the_replica():
    # given
    data = snapshot_data(version=3)

    # when
    deliver(types.SHOWTIME_PUBLISHED, data)

    # then
    replica = ShowtimeReplica.objects.get()
    assert str(replica.id) == data["id"]
    assert replica.version == 3
    assert replica.has_snapshot is True
    assert replica.status == "scheduled"
    assert replica.movie_title == "Dune: Part Two"
    assert replica.cinema_name == "Odeon Leicester Square"
    assert replica.cinema_timezone == "Europe/London"
    assert replica.screen_name == "Screen 1"
    assert replica.starts_at == dt.datetime.fromisoformat(data["starts_at"])
    assert replica.currency == "EUR"
    assert replica.prices == {"standard": "12.50", "premium": "18.00"}
    assert replica.seats == data["seats"]
    assert published() == []


def test_a_newer_snapshot_replaces_an_older_one():
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))

    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=2, movie_title="Dune (70mm)"))

    replica = ShowtimeReplica.objects.get()
    assert (replica.version, replica.movie_title) == (2, "Dune (70mm)")


@pytest.mark.parametrize("stale_version", [1, 2])
def test_an_older_or_equal_snapshot_changes_nothing(stale_version):
    # given
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=2, movie_title="Newest"))

    # when
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=stale_version, movie_title="Stale"))

    # then
    replica = ShowtimeReplica.objects.get()
    assert (replica.version, replica.movie_title) == (2, "Newest")


def test_a_snapshot_without_a_version_is_the_newest_by_arrival():
    # given a showtime known at version 2
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=2, movie_title="Versioned"))
    unversioned = snapshot_data(showtime_id, movie_title="As the contract has it")
    del unversioned["version"]

    # when a producer that follows the contract's data alone publishes a snapshot
    outcome = deliver(types.SHOWTIME_PUBLISHED, unversioned)

    # then it is applied, and a later versioned one is still compared with the last version
    assert outcome == "applied"
    replica = ShowtimeReplica.objects.get()
    assert (replica.version, replica.movie_title) == (2, "As the contract has it")
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=2, movie_title="Stale"))
    assert ShowtimeReplica.objects.get().movie_title == "As the contract has it"


def test_the_same_snapshot_delivered_three_times_is_applied_once():
    data = snapshot_data(version=1)
    event_id = uuid.uuid4()

    outcomes = [deliver(types.SHOWTIME_PUBLISHED, data, event_id=event_id) for _ in range(3)]

    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert ShowtimeReplica.objects.count() == 1


def test_a_cancellation_before_any_snapshot_is_remembered():
    # given: the cancellation overtakes the snapshot
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_CANCELLED, {"showtime_id": str(showtime_id), "reason": "projector broken"})

    # when
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))

    # then: the snapshot fills it in but it stays cancelled
    replica = ShowtimeReplica.objects.get()
    assert replica.status == "cancelled"
    assert replica.has_snapshot is True
    assert replica.cancel_reason == "projector broken"


def test_a_snapshot_after_cancellation_does_not_resurrect_the_showtime():
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))
    deliver(types.SHOWTIME_CANCELLED, {"showtime_id": str(showtime_id), "reason": "x"})

    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=5, status="scheduled"))

    assert ShowtimeReplica.objects.get().status == "cancelled"


def test_a_cancelled_showtime_cancels_its_pending_and_confirmed_bookings():
    # given
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))
    showtime = ShowtimeReplica.objects.get()
    pending = make_booking(showtime=showtime, seats=["A1"])
    confirmed = make_booking(showtime=showtime, seats=["A2"])
    deliver(types.PAYMENT_SUCCEEDED, payment_data(confirmed))
    ended = make_booking(showtime=showtime, seats=["A3"])
    Booking.objects.filter(pk=ended.pk).update(status="expired")
    event_id = uuid.uuid4()

    # when
    deliver(types.SHOWTIME_CANCELLED, {"showtime_id": str(showtime_id), "reason": "flooded"}, event_id=event_id)

    # then
    assert dict(Booking.objects.values_list("id", "status")) == {
        pending.id: "cancelled",
        confirmed.id: "cancelled",
        ended.id: "expired",
    }
    assert BookingSeat.objects.filter(booking__in=[pending, confirmed], is_live=True).count() == 0
    cancelled = {event["data"]["booking_id"]: event for event in published(types.BOOKING_CANCELLED)}
    assert set(cancelled) == {str(pending.id), str(confirmed.id)}
    assert {event["data"]["reason"] for event in cancelled.values()} == {"showtime_cancelled"}
    assert cancelled[str(confirmed.id)]["data"]["was_confirmed"] is True
    assert cancelled[str(pending.id)]["data"]["was_confirmed"] is False
    assert {event["causation_id"] for event in cancelled.values()} == {str(event_id)}


def test_a_cancellation_delivered_again_under_a_new_id_publishes_nothing_more():
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))
    make_booking(showtime=ShowtimeReplica.objects.get(), seats=["A1"])
    data = {"showtime_id": str(showtime_id), "reason": "x"}

    for _ in range(3):
        deliver(types.SHOWTIME_CANCELLED, data)

    assert len(published(types.BOOKING_CANCELLED)) == 1


def test_a_snapshot_with_status_cancelled_cancels_the_bookings():
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))
    booking = make_booking(showtime=ShowtimeReplica.objects.get(), seats=["A1"])

    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=2, status="cancelled"))

    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "showtime_cancelled")


def test_a_payment_for_a_booking_of_a_cancelled_showtime_does_not_confirm_it():
    # given: a booking that slipped in while the cancellation was being applied
    showtime_id = uuid.uuid4()
    deliver(types.SHOWTIME_PUBLISHED, snapshot_data(showtime_id, version=1))
    booking = make_booking(showtime=ShowtimeReplica.objects.get(), seats=["A1"])
    ShowtimeReplica.objects.filter(pk=showtime_id).update(status="cancelled")

    # when
    deliver(types.PAYMENT_SUCCEEDED, payment_data(booking))

    # then
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "showtime_cancelled")
    assert published(types.BOOKING_CONFIRMED) == []
    [cancelled] = published(types.BOOKING_CANCELLED)
    assert cancelled["data"]["was_confirmed"] is True  # paid: its refund is certain
