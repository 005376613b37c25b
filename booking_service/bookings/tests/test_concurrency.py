"""Concurrent buyers on real PostgreSQL: the partial unique index decides, nobody deadlocks."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from rest_framework import status

from booking_service.bookings.models import Booking, BookingSeat, ShowtimeReplica
from common.auth.testing import authenticated_client
from common.testing.infrastructure import require_postgres_database

from .factories import ShowtimeReplicaFactory

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/bookings/"


def race(showtime, requests: list[list[str]]) -> list[tuple[list[str], int, dict]]:
    """Send every request at once, one user and one connection per thread."""
    clients = [authenticated_client() for _ in requests]
    barrier = threading.Barrier(len(requests))
    results: list[tuple[list[str], int, dict]] = []
    lock = threading.Lock()

    def buy(client, seats):
        try:
            barrier.wait(timeout=10)
            response = client.post(
                URL, {"showtime_id": str(showtime.id), "seats": seats, "payment_method": "pm_card_visa"}
            )
            with lock:
                results.append((seats, response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=pair) for pair in zip(clients, requests, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung (deadlock?)"
    return results


def assert_one_live_booking_per_seat(showtime):
    live = Counter(
        BookingSeat.objects.filter(showtime=showtime, booking__status__in=["pending", "confirmed"]).values_list(
            "label", flat=True
        )
    )
    assert all(count == 1 for count in live.values()), live
    assert BookingSeat.objects.filter(showtime=showtime, is_live=True).count() == sum(live.values())


@pytest.mark.parametrize("round_number", range(3))
def test_thirty_two_clients_on_overlapping_seats(settings, round_number):
    # given
    require_postgres_database(settings)
    showtime = ShowtimeReplicaFactory()
    pool = ["A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2"]
    rng = random.Random(round_number)
    requests = [rng.sample(pool, rng.randint(1, 4)) for _ in range(32)]

    # when
    results = race(showtime, requests)

    # then
    assert len(results) == 32
    assert {code for _, code, _ in results} <= {status.HTTP_201_CREATED, status.HTTP_409_CONFLICT}
    winners = [(seats, answer) for seats, code, answer in results if code == status.HTTP_201_CREATED]
    assert winners
    assert Booking.objects.filter(showtime=showtime).count() == len(winners)
    held = [label for seats, _ in winners for label in seats]
    assert len(held) == len(set(held))
    for seats, answer in winners:
        booking = Booking.objects.get(pk=answer["id"])
        assert sorted(booking.booking_seats.filter(is_live=True).values_list("label", flat=True)) == sorted(seats)
    for seats, code, answer in results:
        if code == status.HTTP_409_CONFLICT:
            assert answer["unavailable_seats"], answer
            assert set(answer["unavailable_seats"]) <= set(seats)
            assert set(answer["unavailable_seats"]) <= set(held)
    assert_one_live_booking_per_seat(showtime)


def test_a_b_against_b_a_is_all_or_nothing(settings):
    require_postgres_database(settings)
    for _ in range(15):
        # given
        showtime = ShowtimeReplicaFactory()

        # when
        results = race(showtime, [["A1", "A2"], ["A2", "A1"]])

        # then
        assert sorted(code for _, code, _ in results) == [status.HTTP_201_CREATED, status.HTTP_409_CONFLICT]
        [(_, _, winner)] = [result for result in results if result[1] == status.HTTP_201_CREATED]
        assert winner["seats"] == ["A1", "A2"]
        assert Booking.objects.filter(showtime=showtime).count() == 1
        assert BookingSeat.objects.filter(showtime=showtime).count() == 2
        assert_one_live_booking_per_seat(showtime)


def test_a_hold_racing_its_showtimes_cancellation_waits_and_is_refused(settings):
    """The cancellation holds the showtime's row and has marked it cancelled, not yet committed;
    a booking request meanwhile waits for it, then sees it cancelled, and books nothing."""
    require_postgres_database(settings)
    showtime = ShowtimeReplicaFactory()
    marked, commit = threading.Event(), threading.Event()

    def cancel_the_showtime():
        try:
            with transaction.atomic():
                replica = ShowtimeReplica.objects.select_for_update().get(pk=showtime.pk)
                replica.status = ShowtimeReplica.Status.CANCELLED
                replica.save(update_fields=["status"])
                marked.set()
                commit.wait(10)
        finally:
            connection.close()

    cancelling = threading.Thread(target=cancel_the_showtime)
    cancelling.start()
    assert marked.wait(10)
    answers = []
    booking = threading.Thread(target=lambda: answers.append(race(showtime, [["A1"]])[0]))
    booking.start()
    booking.join(0.5)
    assert booking.is_alive()  # waiting for the cancellation, not reading past it
    commit.set()
    cancelling.join(10)
    booking.join(10)

    ((_, code, answer),) = answers
    assert (code, answer) == (status.HTTP_400_BAD_REQUEST, {"showtime_id": ["This showtime has been cancelled."]})
    assert not Booking.objects.filter(showtime=showtime).exists()
