"""POST/GET /api/bookings/, the cancel endpoint and the seat map."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.test import APIClient

from booking_service.bookings.models import Booking, BookingSeat, BookingTransition, IdempotencyKey
from common.auth.testing import authenticated_client
from common.events import types
from common.events.testing import published

from .factories import ShowtimeReplicaFactory, make_booking

pytestmark = pytest.mark.django_db

URL = "/api/bookings/"


def iso(value: dt.datetime) -> str:
    return serializers.DateTimeField().to_representation(value)


def seats_url(showtime_id) -> str:
    return f"/api/bookings/showtimes/{showtime_id}/seats/"


def contract_body(booking: Booking, seats: list[str]) -> dict:
    return {
        "id": str(booking.id),
        "status": booking.status,
        "showtime_id": str(booking.showtime_id),
        "seats": seats,
        "total_amount": str(booking.total_amount),
        "currency": booking.currency,
        "expires_at": iso(booking.expires_at),
        "movie_title": booking.movie_title,
        "cinema_name": booking.cinema_name,
        "starts_at": iso(booking.starts_at),
        "created_at": iso(booking.created_at),
    }


def assert_nothing_happened():
    assert Booking.objects.count() == 0
    assert BookingSeat.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    assert published() == []


# --- POST /api/bookings/ ------------------------------------------------------------------------


def test_create_holds_the_seats_and_returns_the_contract_body():
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    before = timezone.now()

    # when
    response = client.post(
        URL, {"showtime_id": str(showtime.id), "seats": ["B1", "A2"], "payment_method": "pm_card_visa"}
    )

    # then
    assert response.status_code == status.HTTP_201_CREATED, response.data
    booking = Booking.objects.get()
    assert response.json() == contract_body(booking, ["A2", "B1"])
    assert booking.status == "pending"
    assert booking.user_id == client.user_id
    assert str(booking.total_amount) == "30.50"
    assert booking.currency == "EUR"
    assert booking.movie_title == "Dune: Part Two"
    assert booking.screen_name == "Screen 1"
    assert before + dt.timedelta(seconds=599) < booking.expires_at <= timezone.now() + dt.timedelta(seconds=600)
    seats = BookingSeat.objects.order_by("label").values_list("label", "category", "price", "is_live")
    assert [(label, category, str(price), live) for label, category, price, live in seats] == [
        ("A2", "standard", "12.50", True),
        ("B1", "premium", "18.00", True),
    ]
    assert list(booking.timeline.values_list("from_status", "to_status", "cause")) == [("", "pending", "created")]


def test_create_publishes_booking_created_in_the_catalogue_shape():
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()

    # when
    client.post(URL, {"showtime_id": str(showtime.id), "seats": ["A10", "A9"], "payment_method": "pm_card_visa"})

    # then
    booking = Booking.objects.get()
    [envelope] = published()
    assert envelope["type"] == types.BOOKING_CREATED
    assert envelope["producer"] == "booking"
    assert envelope["correlation_id"] == str(booking.id)
    expires_at = dt.datetime.fromisoformat(envelope["data"].pop("expires_at"))
    assert abs(expires_at - booking.expires_at) < dt.timedelta(milliseconds=1)
    assert envelope["data"] == {
        "booking_id": str(booking.id),
        "user_id": str(client.user_id),
        "showtime_id": str(showtime.id),
        "seats": ["A9", "A10"],
        "amount": "25.00",
        "currency": "EUR",
        "payment_method": "pm_card_visa",
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"seats": ["A1"], "payment_method": "pm_card_visa"}, {"showtime_id": ["This field is required."]}),
        ({"showtime_id": "nope", "seats": ["A1"], "payment_method": "x"}, {"showtime_id": ["Must be a valid UUID."]}),
        ({"seats": [], "payment_method": "pm_card_visa"}, {"seats": ["Choose at least one seat."]}),
        (
            {"seats": [f"A{n}" for n in range(1, 11)] + ["B1"], "payment_method": "x"},
            {"seats": ["At most 10 seats per booking."]},
        ),
        # Refused by its length alone, not with an error for each of its elements.
        ({"seats": [None] * 1000, "payment_method": "x"}, {"seats": ["At most 10 seats per booking."]}),
        ({"seats": ["A1", "A2", "A1"], "payment_method": "x"}, {"seats": ["Duplicate seat(s): A1."]}),
        ({"seats": ["A1"]}, {"payment_method": ["This field is required."]}),
        ({"seats": ["A1"], "payment_method": ""}, {"payment_method": ["This field may not be blank."]}),
        (
            {"seats": ["A1", "Z9", "C3"], "payment_method": "x"},
            {"seats": ["Unknown seat(s) for this showtime: Z9, C3."]},
        ),
        # '²' passes str.isdigit() but not int(): found by schemathesis as a 500.
        ({"seats": ["²", "A1"], "payment_method": "x"}, {"seats": ["Unknown seat(s) for this showtime: ²."]}),
        ({"seats": ["²", "²"], "payment_method": "x"}, {"seats": ["Duplicate seat(s): ²."]}),
    ],
)
def test_create_rejects_bad_input_with_400_naming_the_field(body, errors):
    # given
    showtime = ShowtimeReplicaFactory()
    body = {"showtime_id": str(showtime.id), **body} if "showtime_id" not in body and "seats" in body else body
    if errors.get("showtime_id") == ["This field is required."]:
        body.pop("showtime_id")

    # when
    response = authenticated_client().post(URL, body)

    # then
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == errors
    assert_nothing_happened()


def test_create_for_an_unknown_showtime_is_404():
    response = authenticated_client().post(
        URL, {"showtime_id": str(uuid.uuid4()), "seats": ["A1"], "payment_method": "x"}
    )

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "Showtime not found."}
    assert_nothing_happened()


def test_create_for_a_showtime_known_only_by_its_cancellation_is_404():
    # given the placeholder a cancellation leaves when it arrives before any snapshot
    placeholder = ShowtimeReplicaFactory(version=0, has_snapshot=False, status="cancelled", seats=[], prices={})

    # when
    response = authenticated_client().post(
        URL, {"showtime_id": str(placeholder.id), "seats": ["A1"], "payment_method": "pm_card_visa"}
    )

    # then
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "Showtime not found."}
    assert_nothing_happened()


def test_create_for_a_cancelled_showtime_is_400():
    showtime = ShowtimeReplicaFactory(status="cancelled")

    response = authenticated_client().post(
        URL, {"showtime_id": str(showtime.id), "seats": ["A1"], "payment_method": "x"}
    )

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"showtime_id": ["This showtime has been cancelled."]}
    assert_nothing_happened()


def test_create_for_a_started_showtime_is_400():
    showtime = ShowtimeReplicaFactory(starts_at=timezone.now() - dt.timedelta(minutes=1))

    response = authenticated_client().post(
        URL, {"showtime_id": str(showtime.id), "seats": ["A1"], "payment_method": "x"}
    )

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"showtime_id": ["This showtime has already started."]}
    assert_nothing_happened()


def test_create_requires_a_token():
    showtime = ShowtimeReplicaFactory()

    response = APIClient().post(
        URL, {"showtime_id": str(showtime.id), "seats": ["A1"], "payment_method": "x"}, format="json"
    )

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert_nothing_happened()


def test_taken_seats_are_409_listing_them_and_nothing_is_held():
    # given
    showtime = ShowtimeReplicaFactory()
    first = make_booking(showtime=showtime, seats=["A2", "A3"])
    outbox_before = published()

    # when
    response = authenticated_client().post(
        URL, {"showtime_id": str(showtime.id), "seats": ["A1", "A3", "A2"], "payment_method": "x"}
    )

    # then
    assert response.status_code == status.HTTP_409_CONFLICT
    assert response.json() == {
        "detail": "Some of the requested seats are no longer available.",
        "unavailable_seats": ["A2", "A3"],
    }
    assert list(Booking.objects.values_list("id", flat=True)) == [first.id]
    assert sorted(BookingSeat.objects.values_list("label", flat=True)) == ["A2", "A3"]
    assert published() == outbox_before


def test_a_second_pending_booking_for_the_same_showtime_is_409():
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    make_booking(showtime=showtime, seats=["A1"], user_id=client.user_id)
    outbox_before = published()

    # when
    response = client.post(URL, {"showtime_id": str(showtime.id), "seats": ["A5"], "payment_method": "x"})

    # then
    assert response.status_code == status.HTTP_409_CONFLICT
    assert response.json() == {
        "detail": "You already have a pending booking for this showtime; pay or cancel it first."
    }
    assert Booking.objects.count() == 1
    assert list(BookingSeat.objects.values_list("label", flat=True)) == ["A1"]
    assert published() == outbox_before


def test_an_expired_hold_not_yet_swept_does_not_block_a_buyer():
    # given: an overdue hold the sweeper has not seen
    showtime = ShowtimeReplicaFactory()
    old = make_booking(showtime=showtime, seats=["A1", "A2"])
    Booking.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    # when
    response = authenticated_client().post(
        URL, {"showtime_id": str(showtime.id), "seats": ["A2"], "payment_method": "x"}
    )

    # then
    assert response.status_code == status.HTTP_201_CREATED
    old.refresh_from_db()
    assert old.status == "expired"
    assert old.cancel_reason == "expired"
    assert list(BookingSeat.objects.filter(booking=old).values_list("is_live", flat=True)) == [False, False]
    cancelled = published(types.BOOKING_CANCELLED)
    assert [event["data"]["booking_id"] for event in cancelled] == [str(old.id)]
    assert cancelled[0]["data"]["reason"] == "expired"


def test_my_own_overdue_hold_on_the_showtime_does_not_block_my_new_booking():
    # given: my pending booking for the showtime, past its hold, not yet swept
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    old = make_booking(showtime=showtime, seats=["A1"], user_id=client.user_id)
    Booking.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    # when I book other seats of the same showtime
    response = client.post(URL, {"showtime_id": str(showtime.id), "seats": ["B2"], "payment_method": "x"})

    # then the overdue hold gave way (expired, published) and the new one holds
    assert response.status_code == status.HTTP_201_CREATED, response.data
    old.refresh_from_db()
    assert old.status == "expired"
    assert [event["data"]["booking_id"] for event in published(types.BOOKING_CANCELLED)] == [str(old.id)]
    assert Booking.objects.get(pk=response.json()["id"]).status == "pending"


def test_create_is_one_read_and_one_transaction_of_inserts(django_assert_num_queries):
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    body = {"showtime_id": str(showtime.id), "seats": ["A1", "A2"], "payment_method": "pm_card_visa"}

    # when / then: the showtime read, then (in the test's transaction, a savepoint) booking, seats,
    # timeline and outbox inserts; nothing read back for the answer, no overdue-hold lookup
    with django_assert_num_queries(7):
        response = client.post(URL, body)
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json()["seats"] == ["A1", "A2"]


# --- GET list and detail --------------------------------------------------------------------------


def test_list_shows_only_the_callers_bookings_in_constant_queries(django_assert_num_queries):
    # given
    client = authenticated_client()
    mine = [make_booking(user_id=client.user_id, seats=[f"A{n}"]) for n in range(1, 4)]
    make_booking(seats=["A1"])

    # when: page + count + seats prefetch, whatever the number of bookings
    with django_assert_num_queries(3):
        response = client.get(URL)

    # then
    assert response.status_code == status.HTTP_200_OK
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] is None
    assert [item["id"] for item in body["results"]] == [str(booking.id) for booking in reversed(mine)]
    assert body["results"][0] == contract_body(Booking.objects.get(pk=mine[2].pk), ["A3"])


def test_list_query_count_does_not_grow_with_bookings(django_assert_num_queries):
    client = authenticated_client()
    for n in range(1, 11):
        make_booking(user_id=client.user_id, seats=[f"A{n}", f"B{n}"])

    with django_assert_num_queries(3):
        response = client.get(URL)

    assert response.json()["count"] == 10


def test_detail_shows_the_booking_with_its_timeline():
    # given
    client = authenticated_client()
    booking = make_booking(user_id=client.user_id, seats=["A1"])
    entry = booking.timeline.get()

    # when
    response = client.get(f"{URL}{booking.id}/")

    # then
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {
        **contract_body(booking, ["A1"]),
        "reference": booking.reference,
        "screen_name": "Screen 1",
        "cancel_reason": "",
        "timeline": [
            {
                "at": iso(entry.at),
                "from_status": "",
                "to_status": "pending",
                "cause": "created",
                "event_id": None,
                "note": "",
            }
        ],
    }


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "cancel/")])
def test_another_users_booking_is_404_on_every_endpoint(method, suffix):
    # given
    booking = make_booking(seats=["A1"])
    outbox_before = published()

    # when
    response = getattr(authenticated_client(), method)(f"{URL}{booking.id}/{suffix}")

    # then
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "Booking not found."}
    booking.refresh_from_db()
    assert booking.status == "pending"
    assert published() == outbox_before


def test_another_users_booking_is_not_in_my_list():
    make_booking(seats=["A1"])

    response = authenticated_client().get(URL)

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


# --- Cancel ---------------------------------------------------------------------------------------


def test_cancel_of_a_pending_booking_releases_its_seats_and_publishes():
    # given
    client = authenticated_client()
    booking = make_booking(user_id=client.user_id, seats=["A1", "A2"])

    # when
    response = client.post(f"{URL}{booking.id}/cancel/")

    # then
    assert response.status_code == status.HTTP_200_OK
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "user_cancelled"
    assert [(e["from_status"], e["to_status"], e["cause"]) for e in body["timeline"]] == [
        ("", "pending", "created"),
        ("pending", "cancelled", "user_cancelled"),
    ]
    assert BookingSeat.objects.filter(is_live=True).count() == 0
    [event] = published(types.BOOKING_CANCELLED)
    assert event["correlation_id"] == str(booking.id)
    assert event["data"] == {
        "booking_id": str(booking.id),
        "user_id": str(client.user_id),
        "reason": "user_cancelled",
        "movie_title": "Dune: Part Two",
        "starts_at": event["data"]["starts_at"],
        "seats": ["A1", "A2"],
        "was_confirmed": False,
    }
    assert dt.datetime.fromisoformat(event["data"]["starts_at"]) == booking.starts_at


def test_cancel_of_a_confirmed_booking_releases_seats_and_says_it_was_paid():
    # given
    client = authenticated_client()
    booking = make_booking(user_id=client.user_id, seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(status="confirmed")

    # when
    response = client.post(f"{URL}{booking.id}/cancel/")

    # then
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["status"] == "cancelled"
    assert BookingSeat.objects.filter(is_live=True).count() == 0
    [event] = published(types.BOOKING_CANCELLED)
    assert event["data"]["was_confirmed"] is True
    assert event["data"]["reason"] == "user_cancelled"


@pytest.mark.parametrize("final_status", ["cancelled", "expired"])
def test_cancel_of_a_final_booking_is_409_and_changes_nothing(final_status):
    # given
    client = authenticated_client()
    booking = make_booking(user_id=client.user_id, seats=["A1"])
    Booking.objects.filter(pk=booking.pk).update(status=final_status)
    outbox_before = published()

    # when
    response = client.post(f"{URL}{booking.id}/cancel/")

    # then
    assert response.status_code == status.HTTP_409_CONFLICT
    assert response.json() == {"detail": f"This booking is already {final_status}."}
    assert BookingTransition.objects.filter(booking=booking).count() == 1
    assert published() == outbox_before


# --- Seat map -------------------------------------------------------------------------------------


def test_seat_map_is_public_and_shows_available_held_and_sold_seats():
    # given
    showtime = ShowtimeReplicaFactory(
        seats=[{"label": label, "category": "standard"} for label in ("A1", "A2", "A3", "A4")]
        + [{"label": "B1", "category": "premium"}]
    )
    make_booking(showtime=showtime, seats=["A1"])
    sold = make_booking(showtime=showtime, seats=["A2", "B1"])
    Booking.objects.filter(pk=sold.pk).update(status="confirmed")
    overdue = make_booking(showtime=showtime, seats=["A3"])
    Booking.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    # when
    response = APIClient().get(seats_url(showtime.id))

    # then
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {
        "showtime_id": str(showtime.id),
        "seats": [
            {"label": "A1", "category": "standard", "price": "12.50", "status": "held"},
            {"label": "A2", "category": "standard", "price": "12.50", "status": "sold"},
            {"label": "A3", "category": "standard", "price": "12.50", "status": "available"},
            {"label": "A4", "category": "standard", "price": "12.50", "status": "available"},
            {"label": "B1", "category": "premium", "price": "18.00", "status": "sold"},
        ],
    }


def test_seat_map_changes_immediately_after_hold_and_release():
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()

    def status_of(label):
        seats = APIClient().get(seats_url(showtime.id)).json()["seats"]
        return next(seat["status"] for seat in seats if seat["label"] == label)

    assert status_of("A1") == "available"
    booking_id = client.post(URL, {"showtime_id": str(showtime.id), "seats": ["A1"], "payment_method": "x"}).json()[
        "id"
    ]
    assert status_of("A1") == "held"
    client.post(f"{URL}{booking_id}/cancel/")
    assert status_of("A1") == "available"


def test_seat_map_is_two_queries_and_ignores_any_token(django_assert_num_queries):
    # given a held seat and a client with a token that is not even well-formed
    showtime = ShowtimeReplicaFactory()
    make_booking(showtime=showtime, seats=["A1"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    # when / then: the replica and the live seats, nothing else; the token is not looked at
    with django_assert_num_queries(2):
        response = client.get(seats_url(showtime.id))
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["seats"][0] == {"label": "A1", "category": "standard", "price": "12.50", "status": "held"}


def test_seat_map_may_be_shared_by_caches_for_one_second():
    response = APIClient().get(seats_url(ShowtimeReplicaFactory().id))

    assert response.status_code == status.HTTP_200_OK
    assert response["Cache-Control"] == "public, max-age=1"


def test_nothing_but_the_seat_map_says_it_may_be_cached():
    # given a booking, when its owner lists and reads it, then no cache may keep the answers
    client = authenticated_client()
    booking = make_booking(user_id=client.user_id)

    for url in (URL, f"{URL}{booking.id}/"):
        response = client.get(url)
        assert response.status_code == status.HTTP_200_OK
        assert "public" not in response.get("Cache-Control", "")


def test_seat_map_of_an_unknown_showtime_is_404():
    response = APIClient().get(seats_url(uuid.uuid4()))

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "Showtime not found."}


def test_the_openapi_schema_describes_the_booking_endpoints():
    response = APIClient().get("/api/bookings/schema/", {"format": "json"})

    assert response.status_code == status.HTTP_200_OK
    paths = response.json()["paths"]
    assert {
        "/api/bookings/",
        "/api/bookings/{booking_id}/",
        "/api/bookings/{booking_id}/cancel/",
        "/api/bookings/showtimes/{showtime_id}/seats/",
    } <= set(paths)


def test_the_schema_documents_what_a_booking_request_and_a_cancel_can_answer():
    schema = APIClient().get("/api/bookings/schema/", {"format": "json"}).json()

    create = schema["paths"]["/api/bookings/"]["post"]["responses"]
    cancel = schema["paths"]["/api/bookings/{booking_id}/cancel/"]["post"]["responses"]
    outages = {"502", "503", "504"}  # the gateway's and the service's
    assert set(create) == {"200", "201", "400", "401", "404", "409", "413", "414", "415", "422", "429"} | outages
    assert set(cancel) == {"200", "401", "404", "409", "414"} | outages
    conflict = create["409"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][conflict]["properties"]) == {"detail", "unavailable_seats"}


def test_the_schema_describes_the_booking_list_as_a_page():
    schema = APIClient().get("/api/bookings/schema/", {"format": "json"}).json()

    listing = schema["paths"]["/api/bookings/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"$ref": "#/components/schemas/PaginatedBookingList"}
    page = schema["components"]["schemas"]["PaginatedBookingList"]
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
