"""``Idempotency-Key`` on POST /api/bookings/."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework import status

from booking_service.bookings.models import Booking, BookingSeat, IdempotencyKey
from common.auth.testing import authenticated_client
from common.events import types
from common.events.testing import published
from common.testing.infrastructure import require_postgres_database

from .factories import ShowtimeReplicaFactory

pytestmark = pytest.mark.django_db

URL = "/api/bookings/"


def body(showtime, seats=("A1", "A2"), payment_method="pm_card_visa"):
    return {"showtime_id": str(showtime.id), "seats": list(seats), "payment_method": payment_method}


def test_a_replay_returns_the_same_booking_and_creates_nothing():
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    first = client.post(URL, body(showtime), HTTP_IDEMPOTENCY_KEY="key-1")

    # when: the same body, seats in another order
    again = client.post(URL, body(showtime, seats=("A2", "A1")), HTTP_IDEMPOTENCY_KEY="key-1")

    # then
    assert first.status_code == status.HTTP_201_CREATED
    assert again.status_code == status.HTTP_200_OK
    assert again.json() == first.json()
    assert Booking.objects.count() == 1
    assert BookingSeat.objects.count() == 2
    assert len(published(types.BOOKING_CREATED)) == 1
    key = IdempotencyKey.objects.get()
    assert (key.user_id, key.key, str(key.booking_id), len(key.request_hash)) == (
        client.user_id,
        "key-1",
        first.json()["id"],
        64,
    )


def test_the_same_key_with_a_different_body_is_422():
    # given
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    client.post(URL, body(showtime), HTTP_IDEMPOTENCY_KEY="key-1")
    outbox_before = published()

    # when
    response = client.post(URL, body(showtime, seats=("A3",)), HTTP_IDEMPOTENCY_KEY="key-1")

    # then
    assert response.status_code == status.HTTP_422_UNPROCESSABLE_ENTITY
    assert response.json() == {"detail": "This Idempotency-Key was already used with a different request body."}
    assert Booking.objects.count() == 1
    assert published() == outbox_before


def test_keys_belong_to_their_user():
    showtime = ShowtimeReplicaFactory()

    first = authenticated_client().post(URL, body(showtime, seats=("A1",)), HTTP_IDEMPOTENCY_KEY="shared")
    second = authenticated_client().post(URL, body(showtime, seats=("A2",)), HTTP_IDEMPOTENCY_KEY="shared")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_a_failed_request_does_not_use_up_its_key():
    # given: the seat is taken, so the first try is a 409
    showtime = ShowtimeReplicaFactory()
    holder = authenticated_client()
    held = holder.post(URL, body(showtime, seats=("A1",))).json()
    client = authenticated_client()
    assert client.post(URL, body(showtime, seats=("A1",)), HTTP_IDEMPOTENCY_KEY="k").status_code == 409
    holder.post(f"{URL}{held['id']}/cancel/")

    # when
    response = client.post(URL, body(showtime, seats=("A1",)), HTTP_IDEMPOTENCY_KEY="k")

    # then
    assert response.status_code == status.HTTP_201_CREATED


def test_an_overlong_key_is_400():
    showtime = ShowtimeReplicaFactory()

    response = authenticated_client().post(URL, body(showtime), HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json() == {"detail": "Idempotency-Key is longer than 255 characters."}
    assert Booking.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_make_one_booking(settings):
    # given
    require_postgres_database(settings)
    showtime = ShowtimeReplicaFactory()
    client = authenticated_client()
    token = client._credentials["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(20)
    results: list[tuple[int, dict]] = []

    def request():
        try:
            thread_client = authenticated_client(user_id=client.user_id)
            thread_client.credentials(HTTP_AUTHORIZATION=token)
            barrier.wait(timeout=10)
            response = thread_client.post(URL, body(showtime), HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert len(results) == 20
    codes = sorted(code for code, _ in results)
    assert codes == [200] * 19 + [201]
    assert len({answer["id"] for _, answer in results}) == 1
    assert Booking.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert len(published(types.BOOKING_CREATED)) == 1
