"""The bookings admin: lists by status, showtime and user; seats and timeline inline; cancel action."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from booking_service.bookings.models import Booking
from common.events import types
from common.events.testing import published

from .factories import ShowtimeReplicaFactory, make_booking

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/bookings/bookings/booking/"


@pytest.fixture
def staff(settings) -> Client:
    # Sign-in itself is the auth service's business (common.auth.admin_sso); here only the pages.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


def test_the_changelist_filters_by_status_in_constant_queries(staff, django_assert_max_num_queries):
    # given
    showtime = ShowtimeReplicaFactory()
    pending = make_booking(showtime=showtime, seats=["A1"])
    for label in ("A2", "A3", "A4"):
        booking = make_booking(showtime=showtime, seats=[label])
        Booking.objects.filter(pk=booking.pk).update(status="confirmed")

    # when
    with django_assert_max_num_queries(12):
        response = staff.get(CHANGELIST, {"status__exact": "pending"})

    # then
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [pending]


def test_the_changelist_filters_by_showtime_and_searches_by_user(staff):
    mine = make_booking(seats=["A1"])
    make_booking(seats=["A1"])

    by_showtime = staff.get(CHANGELIST, {"showtime__id__exact": str(mine.showtime_id)})
    by_user = staff.get(CHANGELIST, {"q": str(mine.user_id)})

    assert list(by_showtime.context["cl"].result_list) == [mine]
    assert list(by_user.context["cl"].result_list) == [mine]


def test_the_change_page_shows_seats_and_timeline(staff):
    booking = make_booking(seats=["A1", "B2"])

    response = staff.get(f"{CHANGELIST}{booking.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "B2" in content
    assert "created" in content


def test_the_cancel_action_goes_through_the_service(staff):
    # given
    booking = make_booking(seats=["A1"])

    # when
    response = staff.post(CHANGELIST, {"action": "cancel_bookings", "_selected_action": [str(booking.pk)]})

    # then
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "user_cancelled")
    assert [event["data"]["booking_id"] for event in published(types.BOOKING_CANCELLED)] == [str(booking.id)]
    # the contract's reason, but the timeline tells support who cancelled it
    assert list(booking.timeline.order_by("at", "id").values_list("cause", "note"))[-1] == (
        "staff_cancelled",
        "by admin",
    )


@pytest.mark.parametrize("model", ["booking", "showtimereplica"])
def test_bookings_and_replicas_are_shown_but_neither_saved_nor_deleted_by_hand(staff, model):
    # given a confirmed booking and its showtime's replica
    booking = make_booking(seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
    row = booking if model == "booking" else booking.showtime
    base = f"/admin/bookings/bookings/{model}/{row.pk}/"
    assert staff.get(f"{base}change/").status_code == 200

    # when staff press Save on its page (a stale read written back), or delete it
    saved = staff.post(f"{base}change/", {})
    deleted = staff.post(f"{base}delete/", {"post": "yes"})

    # then both are refused, and the booking is still confirmed with its replica
    assert (saved.status_code, deleted.status_code) == (403, 403)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert type(booking.showtime).objects.filter(pk=booking.showtime_id).exists()
