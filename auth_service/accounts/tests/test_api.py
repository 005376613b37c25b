import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from auth_service.accounts.models import User
from common.auth.authentication import decode_access_token
from common.auth.testing import TEST_KID
from common.auth.testing import test_jwks as trusted_test_jwks
from common.events import types
from common.events.testing import published

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register/"
TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"


def sign_in(client, email, password=PASSWORD):
    return client.post(TOKEN, {"email": email, "password": password}, format="json")


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- register --------------------------------------------------------------------------------


def test_register_then_sign_in_then_me():
    client = APIClient()

    registered = client.post(
        REGISTER, {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada Lovelace"}, format="json"
    )
    tokens = sign_in(client, "ada@example.com")
    me = bearer(tokens.json()["access"]).get(ME)

    assert registered.status_code == 201
    user = User.objects.get()
    assert registered.json() == {"id": str(user.id), "email": "ada@example.com", "full_name": "Ada Lovelace"}
    assert user.check_password(PASSWORD)
    assert user.password.startswith("md5$")  # test settings; base settings put Argon2 first
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    assert me.status_code == 200
    assert me.json() == {
        "id": str(user.id),
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
        "is_staff": False,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_register_publishes_user_registered_with_exact_payload():
    response = APIClient().post(
        REGISTER, {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada Lovelace"}, format="json"
    )

    events = published()
    assert [event["type"] for event in events] == [types.USER_REGISTERED]
    assert events[0]["data"] == {
        "user_id": response.json()["id"],
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
    }
    assert events[0]["producer"] == "auth"


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.COM"])
def test_register_duplicate_email_is_400_naming_email(email):
    UserFactory(email="ada@example.com")

    response = APIClient().post(REGISTER, {"email": email, "password": PASSWORD, "full_name": "X"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1
    assert published() == []


def test_register_rejects_a_weak_password_with_the_validators_messages():
    response = APIClient().post(
        REGISTER, {"email": "ada@example.com", "password": "12345678", "full_name": ""}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "password": ["This password is too common.", "This password is entirely numeric."],
    }
    assert User.objects.count() == 0
    assert published() == []


def test_register_refuses_a_password_that_is_the_users_own_name():
    response = APIClient().post(
        REGISTER,
        {"email": "jw@example.com", "password": "Jonathan Whitaker", "full_name": "Jonathan Whitaker"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"password": ["The password is too similar to the full name."]}
    assert User.objects.count() == 0
    assert published() == []


def test_register_requires_email_and_password():
    response = APIClient().post(REGISTER, {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."], "password": ["This field is required."]}
    assert User.objects.count() == 0


@pytest.mark.parametrize("email", ["bob@müller.de", "bob@例え.jp", "a" * 64 + "@example.com"])
def test_addresses_django_accepts_register_and_reach_the_event(email):
    # given an address with a domain in another script, or the longest deliverable mailbox
    response = APIClient().post(REGISTER, {"email": email, "password": PASSWORD, "full_name": "Bob"}, format="json")

    # then the account is made and the notification service hears of it
    assert response.status_code == 201, response.content
    assert [(event["type"], event["data"]["email"]) for event in published()] == [(types.USER_REGISTERED, email)]


@pytest.mark.parametrize("email", ["bob@i\N{HEAVY BLACK HEART}.ws", "bob@ab--cd.com"])
def test_an_address_django_accepts_but_the_user_events_cannot_carry_is_a_400_not_a_500(email):
    response = APIClient().post(REGISTER, {"email": email, "password": PASSWORD, "full_name": ""}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["Enter a valid email address."]}
    assert User.objects.count() == 0
    assert published() == []


def test_a_mailbox_longer_than_64_characters_is_a_400_naming_email_not_a_500():
    response = APIClient().post(
        REGISTER, {"email": "a" * 65 + "@example.com", "password": PASSWORD, "full_name": ""}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"email": ["The part before the @ is at most 64 characters."]}
    assert User.objects.count() == 0
    assert published() == []


# --- token -----------------------------------------------------------------------------------


def test_access_token_claims_and_header():
    user = UserFactory(email="staff@example.com", is_staff=True)

    access = sign_in(APIClient(), "STAFF@example.com").json()["access"]

    header = jwt.get_unverified_header(access)
    claims = decode_access_token(access)
    assert header == {"alg": "RS256", "kid": TEST_KID, "typ": "JWT"}
    assert claims["user_id"] == str(user.id)
    assert claims["email"] == "staff@example.com"
    assert claims["is_staff"] is True
    assert claims["token_type"] == "access"
    assert claims["iss"] == "movie-booking-auth"
    assert claims["aud"] == "movie-booking"
    assert claims["exp"] - claims["iat"] == 300


def test_refresh_token_lives_one_day_and_is_recorded_as_outstanding():
    user = UserFactory()

    refresh = sign_in(APIClient(), user.email).json()["refresh"]

    claims = jwt.decode(refresh, options={"verify_signature": False})
    assert claims["token_type"] == "refresh"
    assert claims["exp"] - claims["iat"] == 24 * 60 * 60
    assert list(OutstandingToken.objects.values_list("jti", "user_id")) == [(claims["jti"], user.id)]


@pytest.mark.parametrize(
    ("email", "password"),
    [("user@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_credentials_are_401(email, password):
    UserFactory(email="user@example.com")

    response = sign_in(APIClient(), email, password)

    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials."}
    assert OutstandingToken.objects.count() == 0


def test_inactive_user_cannot_sign_in():
    user = UserFactory(is_active=False)

    response = sign_in(APIClient(), user.email)

    assert response.status_code == 401
    assert OutstandingToken.objects.count() == 0


def test_token_requires_both_fields():
    response = APIClient().post(TOKEN, {"email": "a@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


# --- refresh and logout ------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_fails_afterwards():
    user = UserFactory()
    first = sign_in(APIClient(), user.email).json()

    rotated = APIClient().post(REFRESH, {"refresh": first["refresh"]}, format="json")
    again = APIClient().post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]
    assert decode_access_token(rotated.json()["access"])["user_id"] == str(user.id)
    assert again.status_code == 401
    assert again.json() == {"detail": "Token is invalid or expired."}
    old_jti = jwt.decode(first["refresh"], options={"verify_signature": False})["jti"]
    assert list(BlacklistedToken.objects.values_list("token__jti", flat=True)) == [old_jti]
    assert APIClient().post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json").status_code == 200


def test_refresh_carries_the_users_current_claims():
    user = UserFactory(is_staff=False)
    refresh = sign_in(APIClient(), user.email).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_staff=True, email="new@example.com")

    access = APIClient().post(REFRESH, {"refresh": refresh}, format="json").json()["access"]

    claims = decode_access_token(access)
    assert (claims["email"], claims["is_staff"]) == ("new@example.com", True)


def test_an_access_token_is_refused_as_a_refresh_token():
    user = UserFactory()
    access = sign_in(APIClient(), user.email).json()["access"]

    response = APIClient().post(REFRESH, {"refresh": access}, format="json")

    assert response.status_code == 401
    assert BlacklistedToken.objects.count() == 0


def test_a_refresh_token_is_refused_as_an_access_token():
    user = UserFactory()
    refresh = sign_in(APIClient(), user.email).json()["refresh"]

    response = bearer(refresh).get(ME)

    assert response.status_code == 401


def test_logout_is_205_and_the_refresh_token_no_longer_works():
    user = UserFactory()
    tokens = sign_in(APIClient(), user.email).json()

    logout = APIClient().post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    refresh = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert logout.status_code == 205
    assert logout.content == b""
    assert refresh.status_code == 401
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.parametrize("token", ["garbage", ""])
def test_logout_with_an_invalid_token(token):
    response = APIClient().post(LOGOUT, {"refresh": token}, format="json")

    assert response.status_code in {400, 401}
    assert BlacklistedToken.objects.count() == 0


def test_refresh_of_a_deactivated_user_fails():
    user = UserFactory()
    refresh = sign_in(APIClient(), user.email).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = APIClient().post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401


# --- jwks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/jwks/", "/.well-known/jwks.json"])
def test_jwks_lists_the_current_public_key(path):
    response = APIClient().get(path)

    assert response.status_code == 200
    assert response.json() == trusted_test_jwks()
    assert response["Cache-Control"] == "public, max-age=300"
    assert "d" not in response.json()["keys"][0]  # never the private part


def test_the_openapi_schema_describes_the_endpoints():
    response = APIClient().get("/api/auth/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/auth/register/",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/logout/",
        "/api/auth/me/",
        "/api/auth/jwks/",
    } <= paths


@pytest.mark.parametrize(
    ("route", "method", "statuses"),
    [
        ("/api/auth/register/", "post", {"201", "400", "413", "414", "415", "502", "503", "504"}),
        ("/api/auth/token/", "post", {"200", "400", "401", "413", "414", "415", "429", "502", "503", "504"}),
        ("/api/auth/token/refresh/", "post", {"200", "400", "401", "413", "414", "415", "502", "503", "504"}),
        ("/api/auth/logout/", "post", {"205", "400", "401", "413", "414", "415", "502", "503", "504"}),
        ("/api/auth/me/", "get", {"200", "401", "414", "502", "503", "504"}),
    ],
)
def test_the_schema_documents_the_errors_of_each_operation(route, method, statuses):
    schema = APIClient().get("/api/auth/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert set(schema["paths"][route][method]["responses"]) == statuses


@pytest.mark.parametrize("path", ["/api/auth/register/", "/api/auth/token/", "/api/auth/token/refresh/"])
def test_a_body_nested_too_deeply_is_a_400_naming_it_not_a_500(path):
    # given 5 KB of "[": far under the body limit, far over Python's recursion limit
    body = "[" * 5000

    # when it is posted as JSON, with no token
    response = APIClient().post(path, data=body, content_type="application/json")

    # then it is refused as bad JSON
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is nested too deeply."}
