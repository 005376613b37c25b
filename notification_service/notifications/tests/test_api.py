"""``GET /api/notifications/`` and ``POST /api/notifications/<id>/read/``."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient

from common.auth.testing import authenticated_client
from common.events.testing import published
from notification_service.notifications.models import Notification

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/notifications/"


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def test_list_returns_the_callers_notifications_newest_first():
    # given two notifications of the caller and one of someone else
    client = authenticated_client()
    older = NotificationFactory(user_id=client.user_id, status="sent", sent_at=timezone.now())
    Notification.objects.filter(id=older.id).update(created_at=timezone.now() - dt.timedelta(hours=1))
    older.refresh_from_db()
    newer = NotificationFactory(user_id=client.user_id, kind="payment_failed", subject="Payment failed for booking X")
    NotificationFactory()

    # when the caller lists them
    response = client.get(URL)

    # then only theirs, newest first, in the contract's shape
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": str(newer.id),
                "kind": "payment_failed",
                "subject": "Payment failed for booking X",
                "status": "pending",
                "created_at": iso(newer.created_at),
                "sent_at": None,
                "read_at": None,
            },
            {
                "id": str(older.id),
                "kind": "welcome",
                "subject": "Welcome to Movie Tickets",
                "status": "sent",
                "created_at": iso(older.created_at),
                "sent_at": iso(older.sent_at),
                "read_at": None,
            },
        ],
    }


def test_list_is_paginated_with_a_constant_number_of_queries(django_assert_num_queries):
    client = authenticated_client()
    NotificationFactory.create_batch(25, user_id=client.user_id)

    with django_assert_num_queries(2):  # count + page
        response = client.get(URL)

    body = response.json()
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"] == "http://testserver/api/notifications/?page=2"


def test_list_requires_a_token():
    response = APIClient().get(URL)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED


def test_mark_as_read_sets_read_at_once():
    # given an unread notification of the caller
    client = authenticated_client()
    notification = NotificationFactory(user_id=client.user_id)

    # when they mark it read, twice
    first = client.post(f"{URL}{notification.id}/read/")
    notification.refresh_from_db()
    read_at = notification.read_at
    second = client.post(f"{URL}{notification.id}/read/")

    # then it is read, and the second call changes nothing
    assert first.status_code == status.HTTP_200_OK
    assert read_at is not None
    assert first.json()["read_at"] == iso(read_at)
    assert second.status_code == status.HTTP_200_OK
    notification.refresh_from_db()
    assert notification.read_at == read_at


def test_mark_as_read_of_another_users_notification_is_404_and_changes_nothing():
    client = authenticated_client()
    notification = NotificationFactory()

    response = client.post(f"{URL}{notification.id}/read/")

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "No notification with this id."}
    notification.refresh_from_db()
    assert notification.read_at is None
    assert published() == []


@pytest.mark.parametrize("notification_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_mark_as_read_of_an_unknown_id_is_404(notification_id):
    response = authenticated_client().post(f"{URL}{notification_id}/read/")

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.json() == {"detail": "No notification with this id."}
