import datetime as dt

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from auth_service.accounts import services
from auth_service.accounts.models import User
from auth_service.accounts.tasks import flush_expired_tokens
from common.events import types
from common.events.testing import published

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
ADMIN = "/admin/auth/accounts/user/"


def refresh_tokens_of(user, count=2):
    return [
        APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json").json()["refresh"]
        for _ in range(count)
    ]


def refresh_status(refresh):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code


@pytest.fixture
def admin_client(client):
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_deactivating_blacklists_every_outstanding_refresh_token_and_publishes():
    user = UserFactory()
    other = UserFactory()
    tokens = refresh_tokens_of(user)
    other_token = refresh_tokens_of(other, count=1)[0]

    services.user_set_active(user=user, is_active=False)

    user.refresh_from_db()
    assert user.is_active is False
    assert [refresh_status(token) for token in tokens] == [401, 401]
    assert BlacklistedToken.objects.filter(token__user=user).count() == 2
    assert refresh_status(other_token) == 200
    events = published(types.USER_UPDATED)
    assert [event["data"] for event in events] == [
        {"user_id": str(user.id), "email": user.email, "full_name": user.full_name, "is_active": False}
    ]


def test_deactivating_twice_publishes_once():
    user = UserFactory()

    services.user_set_active(user=user, is_active=False)
    services.user_set_active(user=user, is_active=False)

    assert len(published(types.USER_UPDATED)) == 1


def test_reactivating_allows_sign_in_again_but_old_tokens_stay_dead():
    user = UserFactory()
    old = refresh_tokens_of(user, count=1)[0]
    services.user_set_active(user=user, is_active=False)

    services.user_set_active(user=user, is_active=True)

    assert refresh_status(old) == 401
    assert refresh_status(refresh_tokens_of(user, count=1)[0]) == 200
    assert [event["data"]["is_active"] for event in published(types.USER_UPDATED)] == [False, True]


def test_admin_deactivate_action_goes_through_the_service(admin_client):
    user = UserFactory()
    token = refresh_tokens_of(user, count=1)[0]

    response = admin_client.post(ADMIN, {"action": "deactivate_users", "_selected_action": [str(user.id)]})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert refresh_status(token) == 401
    assert [event["data"]["user_id"] for event in published(types.USER_UPDATED)] == [str(user.id)]


def test_admin_activate_action(admin_client):
    user = UserFactory(is_active=False)

    admin_client.post(ADMIN, {"action": "activate_users", "_selected_action": [str(user.id)]})

    user.refresh_from_db()
    assert user.is_active is True


def test_unticking_is_active_in_the_admin_form_revokes_tokens(admin_client):
    user = UserFactory(email="form@example.com", full_name="Form User")
    token = refresh_tokens_of(user, count=1)[0]

    response = admin_client.post(
        f"{ADMIN}{user.id}/change/",
        {
            "email": "form@example.com",
            "full_name": "Form User",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    user.refresh_from_db()
    assert (user.is_active, user.is_staff) == (False, True)
    assert refresh_status(token) == 401
    assert [event["data"]["is_active"] for event in published(types.USER_UPDATED)] == [False]


@pytest.mark.parametrize("usable", ["true", "false"], ids=["new-password", "password-sign-in-disabled"])
def test_a_password_set_in_the_admin_ends_the_users_sessions(admin_client, usable):
    # given a user signed in twice, and another user signed in
    user = UserFactory()
    tokens = refresh_tokens_of(user)
    other_token = refresh_tokens_of(UserFactory(), count=1)[0]

    # when staff set a new password (or turn password sign-in off) in the admin
    button = "set-password" if usable == "true" else "unset-password"  # Django's view wants the matching one
    response = admin_client.post(
        f"{ADMIN}{user.id}/password/",
        {"usable_password": usable, "password1": "N3w-Secret-Phrase!", "password2": "N3w-Secret-Phrase!", button: ""},
    )

    # then the user's refresh tokens no longer work, and nobody else's changed
    assert response.status_code == 302, response.content.decode()[-1500:]
    user.refresh_from_db()
    assert user.has_usable_password() is (usable == "true")
    assert [refresh_status(token) for token in tokens] == [401, 401]
    assert refresh_status(other_token) == 200


def test_a_password_whose_sessions_cannot_be_ended_is_not_set_either(admin_client, monkeypatch):
    # given the database failing as the sessions are ended
    from django.db import DatabaseError

    user = UserFactory()

    def fail(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(services, "user_refresh_tokens_revoke", fail)

    # when staff set a new password
    with pytest.raises(DatabaseError):
        admin_client.post(
            f"{ADMIN}{user.id}/password/",
            {"usable_password": "true", "password1": "N3w-Secret-Phrase!", "password2": "N3w-Secret-Phrase!"},
        )

    # then the old password still stands: a new one with the old sessions alive is not kept
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_admin_creates_a_user_and_publishes_registered(admin_client):
    response = admin_client.post(
        f"{ADMIN}add/",
        {
            "email": "new@example.com",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(email="new@example.com")
    assert [event["data"] for event in published(types.USER_REGISTERED)] == [
        {"user_id": str(user.id), "email": "new@example.com", "full_name": "New Person"}
    ]


def test_admin_refuses_an_email_differing_only_in_case(admin_client):
    UserFactory(email="taken@example.com")

    response = admin_client.post(
        f"{ADMIN}add/",
        {
            "email": "TAKEN@example.com",
            "full_name": "",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert b"A user with this email already exists." in response.content
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert published() == []


@pytest.mark.parametrize("query", ["", "?q=ada", "?is_staff__exact=1", "?is_active__exact=0", "?is_superuser__exact=1"])
def test_admin_list_searches_and_filters(admin_client, query):
    UserFactory(email="ada@example.com", is_staff=True)
    UserFactory(email="bob@example.com", is_active=False)

    response = admin_client.get(f"{ADMIN}{query}")

    assert response.status_code == 200


def test_admin_search_finds_by_email_and_name(admin_client):
    UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    UserFactory(email="bob@example.com", full_name="Bob")

    response = admin_client.get(f"{ADMIN}?q=lovelace")

    assert [user.email for user in response.context["cl"].result_list] == ["ada@example.com"]


def test_staff_sign_in_to_the_auth_admin_with_email_any_case(client):
    UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/auth/login/?next=/admin/auth/", {"username": "STAFF@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.get("/admin/auth/").status_code == 200


def test_the_daily_task_forgets_expired_refresh_tokens_only():
    user = UserFactory()
    _live, dead = refresh_tokens_of(user)
    services.user_set_active(user=user, is_active=False)  # both blacklisted
    dead_jti = jwt.decode(dead, options={"verify_signature": False})["jti"]
    OutstandingToken.objects.filter(jti=dead_jti).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    deleted = flush_expired_tokens.apply().get()

    assert deleted == 2  # the token and its blacklist row
    assert OutstandingToken.objects.count() == 1
    assert BlacklistedToken.objects.count() == 1
