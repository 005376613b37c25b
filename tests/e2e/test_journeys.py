"""End-to-end journeys through the gateway only (127.0.0.1:8000), on the real servers.

Each journey ends with ``manage_all.py verify`` and the client-visible invariants (every booking
final, sold seats are exactly the confirmed bookings' seats).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest

from .support import (
    HOLD_SECONDS,
    Client,
    assert_consistent,
    assert_seats,
    eventually,
    login,
    register,
    request,
)

pytestmark = pytest.mark.slow

BOOKING_FIELDS = {
    "id",
    "status",
    "showtime_id",
    "seats",
    "total_amount",
    "currency",
    "expires_at",
    "movie_title",
    "cinema_name",
    "starts_at",
    "created_at",
}
PAYMENT_FIELDS = {"id", "booking_id", "amount", "currency", "status", "failure_reason", "created_at"}
NOTIFICATION_FIELDS = {"id", "kind", "subject", "status", "created_at", "sent_at"}


def kinds_of(client: Client) -> list[str]:
    return sorted(n["kind"] for n in client.all_pages("/api/notifications/"))


def wait_for_kind(client: Client, kind: str, within: float = 45) -> list[dict]:
    def found():
        notifications = client.all_pages("/api/notifications/")
        return notifications if any(n["kind"] == kind for n in notifications) else None

    return eventually(found, within, message=f"no {kind!r} notification for {client.email}: {kinds_of(client)}")


def test_book_confirm_notify_cancel_refund(system, showtime, user):
    # given a user browsing the catalogue
    detail = request("GET", f"/api/movies/showtimes/{showtime}/", token=user.token)
    assert detail.status == 200, detail
    assert {
        "id",
        "movie_id",
        "movie_title",
        "cinema_id",
        "cinema_name",
        "screen_name",
        "starts_at",
        "ends_at",
        "status",
        "currency",
        "prices",
        "seats",
    } <= set(detail.body)
    assert detail.body["status"] == "scheduled"
    assert detail.body["prices"] == {"standard": "12.50"}
    assert len(detail.body["seats"]) == 150
    movies = user.get("/api/movies/?search=" + detail.body["movie_title"].replace(" ", "+"))
    assert movies.status == 200, movies
    assert [m["id"] for m in movies.body["results"]] == [detail.body["movie_id"]]
    movie = user.get(f"/api/movies/{detail.body['movie_id']}/")
    assert movie.status == 200, movie
    listed = user.get(f"/api/movies/showtimes/?movie={detail.body['movie_id']}")
    assert listed.status == 200, listed
    assert showtime in [s["id"] for s in listed.body["results"]]
    seats = request("GET", f"/api/bookings/showtimes/{showtime}/seats/")
    assert seats.status == 200, seats
    assert seats.body["showtime_id"] == showtime
    assert {s["label"]: (s["category"], s["price"], s["status"]) for s in seats.body["seats"]}["A1"] == (
        "standard",
        "12.50",
        "available",
    )
    assert {s["status"] for s in seats.body["seats"]} == {"available"}

    # when they book two seats with a good card
    created = user.book(showtime, ["A1", "A2"])

    # then the booking is pending, holds the seats, and is confirmed by the saga
    assert created.status == 201, created
    assert set(created.body) == BOOKING_FIELDS
    assert created.body["status"] == "pending"
    assert created.body["showtime_id"] == showtime
    assert created.body["seats"] == ["A1", "A2"]
    assert (created.body["total_amount"], created.body["currency"]) == ("25.00", "GBP")
    assert created.body["movie_title"] == detail.body["movie_title"]
    booking_id = created.body["id"]
    confirmed = user.wait_for_booking(booking_id, {"confirmed", "cancelled", "expired"})
    assert confirmed["status"] == "confirmed", confirmed
    assert_seats(showtime, A1="sold", A2="sold")
    payments = user.payments_for(booking_id)
    assert [(p["status"], Decimal(p["amount"]), p["currency"]) for p in payments] == [
        ("succeeded", Decimal("25.00"), "GBP")
    ]
    assert set(payments[0]) == PAYMENT_FIELDS
    notifications = wait_for_kind(user, "booking_confirmed")
    assert set(notifications[0]) >= NOTIFICATION_FIELDS  # plus read_at, for POST <id>/read/
    assert [b["id"] for b in user.all_pages("/api/bookings/")] == [booking_id]

    # when they cancel it
    cancelled = user.post(f"/api/bookings/{booking_id}/cancel/")

    # then the seats are free again, the payment is refunded and they are told
    assert cancelled.status == 200, cancelled
    assert cancelled.body["status"] == "cancelled"
    assert_seats(showtime, A1="available", A2="available")
    refunded = user.wait_for_payment(booking_id, "refunded")
    assert [p["status"] for p in refunded] == ["refunded"], refunded
    wait_for_kind(user, "booking_cancelled")
    wait_for_kind(user, "refund_completed")
    assert_consistent(showtime, [user.booking(booking_id)])
    system.verify()


@pytest.mark.parametrize(
    ("payment_method", "reason"),
    [("pm_card_chargeDeclined", "card_declined"), ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds")],
)
def test_declined_card_cancels_and_releases_the_seats(system, showtime, user, payment_method, reason):
    # given a user with a card that will be declined
    # when they book
    created = user.book(showtime, ["B3"], payment_method=payment_method)

    # then the booking ends cancelled, the payment failed with the provider's reason, the seat is free
    assert created.status == 201, created
    booking = user.wait_for_booking(created.body["id"])
    assert booking["status"] == "cancelled", booking
    assert booking["cancel_reason"] == "payment_failed"
    payments = user.payments_for(created.body["id"])
    assert [(p["status"], p["failure_reason"]) for p in payments] == [("failed", reason)]
    assert_seats(showtime, B3="available")
    wait_for_kind(user, "payment_failed")
    # and someone else can now book that seat
    other = register("other")
    again = other.book(showtime, ["B3"])
    assert again.status == 201, again
    other.wait_until_confirmed(again.body["id"])
    assert_consistent(showtime, [user.booking(created.body["id"]), other.booking(again.body["id"])])
    system.verify()


def test_unpaid_hold_expires_and_releases_the_seats(system, showtime, user):
    # given the payment worker paused, so nothing pays for the booking
    with system.paused("payment", "worker"):
        created = user.book(showtime, ["C5", "C6"])
        assert created.status == 201, created
        assert_seats(showtime, C5="held", C6="held")

        # when the hold runs out
        booking = user.wait_for_booking(created.body["id"], within=HOLD_SECONDS + 30)

        # then the booking expired and its seats are free
        assert booking["status"] == "expired", booking
        assert_seats(showtime, C5="available", C6="available")

    # and when payment resumes, the late payment is never kept: not charged, or refunded
    time.sleep(5)
    final = user.wait_for_payment(created.body["id"], "refunded", within=30)
    assert [p["status"] for p in final if p["status"] == "succeeded"] == [], final
    assert user.booking(created.body["id"])["status"] == "expired"
    assert_consistent(showtime, [user.booking(created.body["id"])])
    system.verify()


def staff_creates_a_showtime(staff: Client) -> str:
    """Movie, cinema, screen and showtime through the movie API, as staff."""
    tag = uuid.uuid4().hex[:8]
    movie = staff.post("/api/movies/", {"title": f"Staff Feature {tag}", "duration_minutes": 95})
    assert movie.status == 201, movie
    cinema = staff.post(
        "/api/movies/cinemas/", {"name": f"Staff Cinema {tag}", "city": "Leeds", "timezone": "Europe/London"}
    )
    assert cinema.status == 201, cinema
    layout = [{"row": row, "seats": [{"number": n, "category": "standard"} for n in range(1, 11)]} for row in "DEF"]
    screen = staff.post("/api/movies/screens/", {"cinema_id": cinema.body["id"], "name": "One", "layout": layout})
    assert screen.status == 201, screen
    starts_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).replace(microsecond=0).isoformat()
    showtime = staff.post(
        "/api/movies/showtimes/",
        {
            "movie_id": movie.body["id"],
            "screen_id": screen.body["id"],
            "starts_at": starts_at,
            "prices": {"standard": "9.00"},
            "currency": "GBP",
        },
    )
    assert showtime.status == 201, showtime
    assert len(showtime.body["seats"]) == 30
    return showtime.body["id"]


def test_staff_cancelling_a_showtime_cancels_and_refunds_its_paid_bookings(system):
    # given a staff member who puts a showtime on sale through the movie API
    staff = register("staff")
    system.make_staff(staff.email)
    staff = Client(staff.email, login(staff.email), staff.user_id)  # a new token carries is_staff
    showtime = staff_creates_a_showtime(staff)
    system.wait_until_bookable(showtime)

    # and two customers with confirmed bookings for it
    first, second = register("fan"), register("fan")
    bookings = []
    for client, seats in ((first, ["D1", "D2"]), (second, ["E7"])):
        created = client.book(showtime, seats)
        assert created.status == 201, created
        assert created.body["total_amount"] == f"{9 * len(seats)}.00"
        client.wait_until_confirmed(created.body["id"])
        bookings.append((client, created.body["id"]))

    # when a customer tries to cancel the showtime, then they are refused
    refused = first.post(f"/api/movies/showtimes/{showtime}/cancel/", {"reason": "nope"})
    assert refused.status == 403, refused

    # when the staff member cancels it
    cancelled = staff.post(f"/api/movies/showtimes/{showtime}/cancel/", {"reason": "Projector broken"})

    # then every booking is cancelled and refunded, and the showtime can no longer be booked
    assert cancelled.status == 200, cancelled
    assert cancelled.body["status"] == "cancelled"
    for client, booking_id in bookings:
        booking = client.wait_for_booking(booking_id, {"cancelled"})
        assert booking["cancel_reason"] == "showtime_cancelled"
        refunded = client.wait_for_payment(booking_id, "refunded")
        assert [p["status"] for p in refunded] == ["refunded"], refunded
        wait_for_kind(client, "refund_completed")
    late = register("late").book(showtime, ["F1"])
    assert late.status in (400, 404, 409), late
    assert "id" not in (late.body or {})
    system.verify()


def test_registering_through_the_gateway_sends_a_welcome(system):
    # given the gateway, which gives every request an X-Request-ID of its own
    # when someone registers
    user = register("welcome")

    # then the notification service heard of them (auth.user.registered was accepted, not dead-lettered)
    notifications = wait_for_kind(user, "welcome", within=30)
    assert [n["kind"] for n in notifications] == ["welcome"]
