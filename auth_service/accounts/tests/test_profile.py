"""`me/`: the caller's profile, and the auth.user.updated events its changes publish."""

import uuid

import pytest
from rest_framework.test import APIClient

from auth_service.accounts.models import User
from common.auth.testing import authenticated_client
from common.events import types
from common.events.testing import published

from .factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"


def test_me_needs_a_token():
    response = APIClient().get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_me_of_a_token_whose_user_does_not_exist_is_401():
    response = authenticated_client(user_id=uuid.uuid4()).get(ME)

    assert response.status_code == 401


def test_patch_me_changes_name_and_email_and_publishes_user_updated():
    user = UserFactory(email="old@example.com", full_name="Old Name")
    client = authenticated_client(user_id=user.id, email=user.email)

    response = client.patch(ME, {"email": "New@Example.com", "full_name": "New Name"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == "New@example.com"
    assert response.json()["full_name"] == "New Name"
    user.refresh_from_db()
    assert (user.email, user.full_name) == ("New@example.com", "New Name")
    events = published()
    assert [event["type"] for event in events] == [types.USER_UPDATED]
    assert events[0]["data"] == {
        "user_id": str(user.id),
        "email": "New@example.com",
        "full_name": "New Name",
        "is_active": True,
    }


def test_patch_me_to_a_taken_email_is_400_and_changes_nothing():
    UserFactory(email="taken@example.com")
    user = UserFactory(email="mine@example.com", full_name="Mine")
    client = authenticated_client(user_id=user.id, email=user.email)

    response = client.patch(ME, {"email": "TAKEN@example.com", "full_name": "Changed"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}
    user.refresh_from_db()
    assert (user.email, user.full_name) == ("mine@example.com", "Mine")
    assert published() == []


def test_patch_me_with_an_invalid_email_is_400():
    user = UserFactory()

    response = authenticated_client(user_id=user.id).patch(ME, {"email": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert published() == []


def test_patch_me_to_an_address_with_an_international_domain_is_saved_and_published():
    user = UserFactory(email="mine@example.com")

    response = authenticated_client(user_id=user.id).patch(ME, {"email": "bob@müller.de"}, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.email == "bob@müller.de"
    assert [event["data"]["email"] for event in published()] == ["bob@müller.de"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("a" * 65 + "@example.com", "The part before the @ is at most 64 characters."),
        ("bob@ab--cd.com", "Enter a valid email address."),
    ],
)
def test_patch_me_to_an_address_the_events_cannot_carry_is_a_400_and_changes_nothing(email, message):
    user = UserFactory(email="mine@example.com")

    response = authenticated_client(user_id=user.id).patch(ME, {"email": email}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": [message]}
    user.refresh_from_db()
    assert user.email == "mine@example.com"
    assert published() == []


def test_a_change_made_from_a_stale_copy_publishes_the_profile_as_it_is_now():
    # given a copy of the user read before another request changed the email
    from auth_service.accounts import services

    user = UserFactory(email="old@example.com", full_name="Old")
    stale = User.objects.get(pk=user.pk)
    services.user_update(user=user, email="new@example.com")

    # when the name is changed through the stale copy
    services.user_update(user=stale, full_name="New Name")

    # then its event carries the new email too, which the notification service keeps
    assert [(event["data"]["email"], event["data"]["full_name"]) for event in published()] == [
        ("new@example.com", "Old"),
        ("new@example.com", "New Name"),
    ]


def test_patch_me_without_changes_publishes_nothing():
    user = UserFactory(full_name="Same")

    response = authenticated_client(user_id=user.id).patch(ME, {"full_name": "Same"}, format="json")

    assert response.status_code == 200
    assert published() == []


def test_patch_me_cannot_make_oneself_staff():
    user = UserFactory()

    response = authenticated_client(user_id=user.id).patch(ME, {"is_staff": True}, format="json")

    assert response.status_code == 200
    assert response.json()["is_staff"] is False
    user.refresh_from_db()
    assert user.is_staff is False
