"""The verifier's keys come from the auth service's JWKS, fetched once and cached, refetched on an
unknown ``kid`` (a rotation) and after a maximum age (a withdrawal), never per request."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from common.auth import keys
from common.auth.keys import public_jwk
from common.auth.testing import make_access_token

pytestmark = pytest.mark.django_db

WHOAMI = "/api/common/whoami/"


@pytest.fixture(scope="module")
def key_a():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_b():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*private_keys):
    return {"keys": [public_jwk(key.public_key(), kid) for kid, key in private_keys]}


def status(private_key, kid):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_access_token(private_key=private_key, kid=kid)}")
    return client.get(WHOAMI).status_code


@pytest.fixture
def from_url(settings, fake_auth_service):
    def configure(**options):
        settings.COMMON = {
            **settings.COMMON,
            "AUTH": {"JWKS_URL": f"{fake_auth_service.url}/jwks/", "JWKS_REFRESH_SECONDS": 30, **options},
        }
        keys.reset_key_cache()

    return configure


def test_jwks_is_fetched_once_for_many_requests(fake_auth_service, from_url, key_a):
    fake_auth_service.jwks = jwks(("a", key_a))
    from_url()

    statuses = [status(key_a, "a") for _ in range(10)]

    assert statuses == [200] * 10
    assert fake_auth_service.hits["/jwks/"] == 1


def test_a_new_kid_refetches_and_is_accepted_so_a_rotation_logs_nobody_out(fake_auth_service, from_url, key_a, key_b):
    fake_auth_service.jwks = jwks(("a", key_a))
    from_url(JWKS_REFRESH_SECONDS=0)
    assert status(key_a, "a") == 200

    fake_auth_service.jwks = jwks(("b", key_b), ("a", key_a))  # auth now signs with b, still lists a

    assert status(key_b, "b") == 200
    assert status(key_a, "a") == 200
    assert fake_auth_service.hits["/jwks/"] == 2


def test_unknown_kids_refetch_at_most_every_refresh_interval(fake_auth_service, from_url, key_a, key_b):
    fake_auth_service.jwks = jwks(("a", key_a))
    from_url(JWKS_REFRESH_SECONDS=3600)
    status(key_a, "a")

    statuses = [status(key_b, f"forged-{n}") for n in range(5)]

    assert statuses == [401] * 5
    assert fake_auth_service.hits["/jwks/"] == 1


def test_a_withdrawn_key_stops_verifying_after_the_max_age(fake_auth_service, from_url, key_a, key_b):
    fake_auth_service.jwks = jwks(("b", key_b), ("a", key_a))
    from_url(JWKS_MAX_AGE_SECONDS=3600)
    assert status(key_a, "a") == 200

    fake_auth_service.jwks = jwks(("b", key_b))  # rotation finished: a withdrawn
    cached = status(key_a, "a")
    from_url(JWKS_MAX_AGE_SECONDS=0)  # (a new source resets the cache, as the max age would)
    withdrawn = status(key_a, "a")

    assert cached == 200
    assert withdrawn == 401
    assert status(key_b, "b") == 200


def test_the_max_age_refetches_in_place(fake_auth_service, from_url, key_a, key_b, monkeypatch):
    fake_auth_service.jwks = jwks(("b", key_b), ("a", key_a))
    from_url(JWKS_MAX_AGE_SECONDS=60)
    status(key_a, "a")
    fake_auth_service.jwks = jwks(("b", key_b))
    clock = keys.time.monotonic()
    monkeypatch.setattr(keys.time, "monotonic", lambda: clock + 61)

    assert status(key_a, "a") == 401
    assert fake_auth_service.hits["/jwks/"] == 2


def test_known_keys_keep_working_while_the_auth_service_is_down(fake_auth_service, from_url, key_a, monkeypatch):
    fake_auth_service.jwks = jwks(("a", key_a))
    from_url(JWKS_MAX_AGE_SECONDS=60)
    status(key_a, "a")
    fake_auth_service.stop()
    clock = keys.time.monotonic()
    monkeypatch.setattr(keys.time, "monotonic", lambda: clock + 61)

    assert status(key_a, "a") == 200


def test_with_the_auth_service_unreachable_and_no_keys_a_token_is_a_503_to_retry_not_a_401(settings, key_a):
    # given a verifier that has no keys yet and cannot reach the auth service
    settings.COMMON = {**settings.COMMON, "AUTH": {"JWKS_URL": "http://127.0.0.1:1/jwks/", "JWKS_TIMEOUT_SECONDS": 0.5}}
    keys.reset_key_cache()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_access_token(private_key=key_a, kid='a')}")

    # when a client presents a token
    response = client.get(WHOAMI)

    # then it is told to try again, not that its token is bad (which would send it to sign in afresh)
    assert response.status_code == 503
    assert response.json() == {"detail": "The token cannot be verified just now; try again shortly."}
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize("body", ["not a jwks", {"keys": "nope"}, {"keys": ["nope"]}, {}])
def test_a_jwks_of_the_wrong_shape_is_503_not_500(fake_auth_service, from_url, key_a, body):
    fake_auth_service.jwks = body
    from_url()

    assert status(key_a, "a") == 503


def test_with_no_keys_a_failed_fetch_is_not_tried_again_by_every_request(
    fake_auth_service, from_url, key_a, monkeypatch
):
    # given an auth service whose JWKS cannot be read, and a verifier with no keys
    fake_auth_service.jwks = "not a jwks"
    from_url(JWKS_RETRY_SECONDS=2)
    clock = keys.time.monotonic()
    monkeypatch.setattr(keys.time, "monotonic", lambda: clock)

    # when ten requests come within the retry interval
    statuses = [status(key_a, "a") for _ in range(10)]

    # then one fetch was tried, and each request answered at once
    assert statuses == [503] * 10
    assert fake_auth_service.hits["/jwks/"] == 1

    # and once the interval is over and the JWKS readable again, the next request fetches and verifies
    fake_auth_service.jwks = jwks(("a", key_a))
    monkeypatch.setattr(keys.time, "monotonic", lambda: clock + 2.1)
    assert status(key_a, "a") == 200
    assert fake_auth_service.hits["/jwks/"] == 2


def test_jwks_url_from_the_environment(fake_auth_service, settings, monkeypatch, key_a):
    fake_auth_service.jwks = jwks(("a", key_a))
    settings.COMMON = {**settings.COMMON, "AUTH": {}}
    monkeypatch.setenv("AUTH_JWKS_URL", f"{fake_auth_service.url}/jwks/")

    assert status(key_a, "a") == 200
    assert fake_auth_service.hits["/jwks/"] == 1


def test_jwks_from_a_file(settings, tmp_path, key_a):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(("a", key_a))))
    settings.COMMON = {**settings.COMMON, "AUTH": {"JWKS_FILE": str(path)}}

    assert status(key_a, "a") == 200
    assert status(key_a, "other") == 401


def test_settings_win_over_the_environment(settings, monkeypatch):
    monkeypatch.setenv("AUTH_TOKEN_URL", "http://from-env/token/")
    settings.COMMON = {**settings.COMMON, "AUTH": {"TOKEN_URL": "http://from-settings/token/"}}

    assert keys.token_settings()["TOKEN_URL"] == "http://from-settings/token/"
