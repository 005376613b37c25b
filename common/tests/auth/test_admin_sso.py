"""Staff sign in to another service's admin (here the common test project's) with their auth
credentials. The auth service is the outside world: a real HTTP stand-in answers its token
endpoint with real tokens signed by the trusted test key."""

import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from common.auth.admin_sso import AuthServiceBackend
from common.auth.testing import make_access_token

pytestmark = pytest.mark.django_db

LOGIN = "/admin/common/login/?next=/admin/common/"
STAFF_EMAIL = "staff@example.com"
PASSWORD = "Correct-Horse-42"


@pytest.fixture
def auth_service(fake_auth_service, settings):
    settings.COMMON = {
        **settings.COMMON,
        "AUTH": {**settings.COMMON["AUTH"], "TOKEN_URL": f"{fake_auth_service.url}/token/"},
    }
    return fake_auth_service


def account(service, email=STAFF_EMAIL, *, is_staff=True, **token_options):
    service.accounts[(email, PASSWORD)] = make_access_token(
        user_id=uuid.uuid4(), email=email, is_staff=is_staff, **token_options
    )


def sign_in(client, username=STAFF_EMAIL, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_staff_signs_in_with_auth_credentials(client, auth_service):
    account(auth_service)

    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"] == "/admin/common/"
    assert client.get("/admin/common/").status_code == 200
    assert auth_service.token_requests == [{"email": STAFF_EMAIL, "password": PASSWORD}]
    user = get_user_model().objects.get()
    assert (user.username, user.email, user.is_staff, user.is_superuser, user.is_active) == (
        STAFF_EMAIL,
        STAFF_EMAIL,
        True,
        True,
        True,
    )
    assert user.has_usable_password() is False


@pytest.mark.parametrize(
    ("forwarded_for", "remote_addr", "sent"),
    [
        # through the gateway: the chain as it made it, so auth picks the entry the gateway appended
        ("198.51.100.9, 203.0.113.7", "10.0.0.5", "198.51.100.9, 203.0.113.7"),
        # straight to this service: the client is the request's peer
        (None, "203.0.113.8", "203.0.113.8"),
    ],
)
def test_the_sign_in_tells_the_auth_service_the_clients_address_not_this_services(
    client, auth_service, forwarded_for, remote_addr, sent
):
    # given a staff account, and a sign-in from a client the auth service must count on its own
    account(auth_service)
    headers = {"REMOTE_ADDR": remote_addr, **({"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {})}

    # when it signs in
    response = client.post(LOGIN, {"username": STAFF_EMAIL, "password": PASSWORD}, **headers)

    # then the token request carried the client's address for the auth service's failure limits
    assert response.status_code == 302
    assert auth_service.token_forwarded_for == [sent]


def test_signing_in_again_reuses_the_local_user(client, auth_service):
    account(auth_service)
    sign_in(client)
    client.logout()

    sign_in(client)

    assert get_user_model().objects.count() == 1


def test_a_non_staff_user_cannot_sign_in(client, auth_service):
    account(auth_service, "customer@example.com", is_staff=False)

    response = sign_in(client, "customer@example.com")

    assert response.status_code == 200
    assert b"Please enter the correct username and password" in response.content
    assert get_user_model().objects.count() == 0
    assert client.get("/admin/common/").status_code == 302


def test_a_wrong_password_cannot_sign_in(client, auth_service):
    account(auth_service)

    response = sign_in(client, password="wrong")

    assert response.status_code == 200
    assert get_user_model().objects.count() == 0


def test_a_removed_staff_flag_takes_effect_at_the_next_sign_in_attempt(client, auth_service):
    account(auth_service)
    sign_in(client)
    client.logout()
    account(auth_service, is_staff=False)  # the flag is removed in auth

    response = sign_in(client)

    assert response.status_code == 200
    user = get_user_model().objects.get()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_an_open_admin_session_of_a_demoted_user_is_refused(client, auth_service):
    account(auth_service)
    sign_in(client)
    get_user_model().objects.update(is_staff=False, is_superuser=False)  # demoted by another sign-in attempt

    assert client.get("/admin/common/").status_code == 302


@pytest.mark.parametrize(
    "token_options",
    [
        {"private_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
        {"lifetime": dt.timedelta(minutes=-1)},
        {"aud": "another-system"},
        {"email": ""},
    ],
    ids=["signed-by-another-key", "expired", "wrong-audience", "no-email"],
)
def test_a_token_that_does_not_verify_signs_nobody_in(client, auth_service, token_options):
    email = token_options.pop("email", STAFF_EMAIL)
    auth_service.accounts[(STAFF_EMAIL, PASSWORD)] = make_access_token(email=email, is_staff=True, **token_options)

    response = sign_in(client)

    assert response.status_code == 200
    assert get_user_model().objects.count() == 0


@pytest.mark.parametrize("status", [429, 500, 503])
def test_auth_service_errors_sign_nobody_in(client, auth_service, status):
    account(auth_service)
    auth_service.token_status = status

    response = sign_in(client)

    assert response.status_code == 200
    assert get_user_model().objects.count() == 0


def test_an_unreachable_auth_service_signs_nobody_in(client, settings):
    settings.COMMON = {**settings.COMMON, "AUTH": {**settings.COMMON["AUTH"], "TOKEN_URL": "http://127.0.0.1:1/token/"}}

    response = sign_in(client)

    assert response.status_code == 200
    assert get_user_model().objects.count() == 0


def test_the_backend_is_enabled_in_every_service_built_by_build_settings(settings):
    assert settings.AUTHENTICATION_BACKENDS == ["common.auth.admin_sso.AuthServiceBackend"]


def test_the_backend_needs_both_username_and_password(auth_service):
    assert AuthServiceBackend().authenticate(None, username=STAFF_EMAIL, password="") is None
    assert AuthServiceBackend().authenticate(None, username="", password=PASSWORD) is None
    assert auth_service.token_requests == []


def test_the_token_url_default_and_timeout():
    from common.auth.keys import DEFAULTS

    assert DEFAULTS["TOKEN_URL"] == "http://127.0.0.1:8001/api/auth/token/"
    assert DEFAULTS["TOKEN_TIMEOUT_SECONDS"] == 3
