import threading
import time

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from auth_service.accounts import login_limits
from common.testing.infrastructure import skip_or_fail

from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/auth/token/"
WINDOW = 900


@pytest.fixture
def limits(settings):
    settings.AUTH_LOGIN_LIMITS = {
        **settings.AUTH_LOGIN_LIMITS,
        "ACCOUNT_FAILURES": 3,
        "ADDRESS_FAILURES": 5,
        "WINDOW_SECONDS": WINDOW,
    }
    return settings.AUTH_LOGIN_LIMITS


@pytest.fixture
def real_redis(redis_url, settings):
    if not login_limits._uses_redis():
        skip_or_fail("REDIS_URL is set but this run's cache is not django-redis")
    return redis_url


def sign_in(email, password, address="10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(TOKEN, {"email": email, "password": password}, format="json")


def test_after_the_account_limit_even_the_right_password_is_429_with_retry_after(limits):
    user = UserFactory()
    failures = [sign_in(user.email, "wrong").status_code for _ in range(3)]

    response = sign_in(user.email, PASSWORD)

    assert failures == [401, 401, 401]
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= WINDOW
    assert response.json()["detail"].startswith("Too many failed sign-in attempts.")
    assert OutstandingToken.objects.count() == 0


def test_the_account_limit_applies_whatever_the_case_of_the_email(limits):
    user = UserFactory(email="ada@example.com")
    for email in ("ada@example.com", "ADA@example.com", "Ada@Example.com"):
        sign_in(email, "wrong")

    response = sign_in("ada@example.com", PASSWORD)

    assert response.status_code == 429
    assert login_limits.failure_count(email=user.email) == 4


@pytest.mark.parametrize(
    ("email", "look_alike"),
    [("alice@example.com", "al\u0131ce@example.com"), ("sam@example.com", "\u017fam@example.com")],
)
def test_an_address_that_only_upper_cases_like_the_account_is_another_account(limits, settings, email, look_alike):
    # given an account with its failure limit used up (PostgreSQL's UPPER() makes a dotless i an I,
    # a long s an S)
    from common.testing.infrastructure import require_postgres_database

    require_postgres_database(settings)
    UserFactory(email=email)
    assert [sign_in(email, "wrong").status_code for _ in range(3)] == [401, 401, 401]

    # when the same guesses come with a spelling that Python lowers differently
    response = sign_in(look_alike, PASSWORD, address="10.0.0.2")

    # then it names no account: the spelling's own counter cannot open a second budget of guesses
    assert response.status_code == 401
    assert OutstandingToken.objects.count() == 0


def test_the_account_limit_applies_from_every_address(limits):
    user = UserFactory()
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        sign_in(user.email, "wrong", address=address)

    response = sign_in(user.email, PASSWORD, address="10.0.0.4")

    assert response.status_code == 429


def test_the_address_limit_covers_many_accounts_from_one_address(limits):
    users = UserFactory.create_batch(6)
    results = [sign_in(user.email, "wrong", address="10.9.9.9").status_code for user in users[:5]]

    blocked = sign_in(users[5].email, PASSWORD, address="10.9.9.9")
    elsewhere = sign_in(users[5].email, PASSWORD, address="10.1.1.1")

    assert results == [401] * 5
    assert blocked.status_code == 429
    assert elsewhere.status_code == 200


def test_successful_sign_ins_do_not_count(limits):
    user = UserFactory()
    sign_in(user.email, "wrong")
    sign_in(user.email, "wrong")

    statuses = [sign_in(user.email, PASSWORD).status_code for _ in range(5)]

    assert statuses == [200] * 5
    assert login_limits.failure_count(email=user.email) == 2
    assert login_limits.failure_count(address="10.0.0.1") == 2


def test_the_window_ends(limits, settings):
    settings.AUTH_LOGIN_LIMITS = {**limits, "WINDOW_SECONDS": 1}
    user = UserFactory()
    for _ in range(3):
        sign_in(user.email, "wrong")
    assert sign_in(user.email, PASSWORD).status_code == 429

    time.sleep(2.1)

    assert sign_in(user.email, PASSWORD).status_code == 200


def test_the_client_address_is_taken_from_x_forwarded_for_behind_the_gateway(limits, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    user = UserFactory()
    client = APIClient(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    for _ in range(2):
        client.post(TOKEN, {"email": user.email, "password": "wrong"}, format="json")

    assert login_limits.failure_count(address="203.0.113.7") == 2
    assert login_limits.failure_count(address="172.18.0.2") == 0


def test_without_a_proxy_a_forwarded_for_header_does_not_change_the_address(limits):
    user = UserFactory()
    for guess in range(5):
        APIClient(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{guess}").post(
            TOKEN, {"email": f"{guess}-{user.email}", "password": "wrong"}, format="json"
        )

    assert login_limits.failure_count(address="10.0.0.9") == 5
    response = APIClient(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.99").post(
        TOKEN, {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429


ADMIN_LOGIN = "/admin/auth/login/?next=/admin/auth/"


def admin_sign_in(client, email, password):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password})


def test_the_admin_sign_in_shares_the_failure_limits_with_the_api(limits, client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.defaults["REMOTE_ADDR"] = "10.0.0.1"
    for _ in range(3):
        assert admin_sign_in(client, staff.email, "wrong").status_code == 200  # the form again

    refused = admin_sign_in(client, staff.email, PASSWORD)

    assert refused.status_code == 200
    assert "Too many failed sign-ins. Try again in 15 minute(s)." in refused.content.decode()
    assert client.get("/admin/auth/").status_code == 302  # not signed in
    assert login_limits.failure_count(email=staff.email) == 4
    assert sign_in(staff.email, PASSWORD).status_code == 429


def test_a_right_password_at_the_admin_is_not_counted(limits, client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    customer = UserFactory()
    client.defaults["REMOTE_ADDR"] = "10.0.0.1"

    assert admin_sign_in(client, customer.email, PASSWORD).status_code == 200  # not staff: refused
    assert admin_sign_in(client, staff.email, PASSWORD).status_code == 302

    assert login_limits.failure_count(email=customer.email) == 0
    assert login_limits.failure_count(email=staff.email) == 0
    assert login_limits.failure_count(address="10.0.0.1") == 0


def _reserve_concurrently(count: int) -> list[bool]:
    barrier = threading.Barrier(count)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt():
        barrier.wait()
        allowed = login_limits.reserve_attempt(email="target@example.com", address="10.0.0.1").allowed
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_reservations_are_atomic_in_the_embedded_cache(limits):
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits-test"}}
    with override_settings(CACHES=locmem):
        results = _reserve_concurrently(40)
        count = login_limits.failure_count(email="target@example.com")

    assert results.count(True) == 3
    assert count == 40


def test_reservations_are_atomic_in_redis(limits, real_redis):
    results = _reserve_concurrently(40)

    assert results.count(True) == 3
    assert login_limits.failure_count(email="target@example.com") == 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_through_the_api_are_counted_exactly(limits, real_redis):
    user = UserFactory()
    attempts = 12
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            status = sign_in(user.email, "wrong").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401] * 3 + [429] * 9
    assert login_limits.failure_count(email=user.email) == attempts
    assert OutstandingToken.objects.count() == 0


def test_redis_keys_expire_with_the_window(limits, real_redis):
    login_limits.reserve_attempt(email="ttl@example.com", address="10.0.0.1")

    ttl = login_limits._redis().ttl(login_limits.account_key("ttl@example.com"))

    assert 0 < ttl <= WINDOW


# A Redis nobody listens on, for the counters' store being down.
REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
    }
}


def test_sign_in_fails_closed_with_503_when_redis_is_down(limits):
    user = UserFactory()
    with override_settings(CACHES=REDIS_DOWN):
        response = sign_in(user.email, PASSWORD)

    assert response.status_code == 503
    assert response.json() == {"detail": "Sign-in is temporarily unavailable."}
    assert OutstandingToken.objects.count() == 0


def test_the_admin_sign_in_fails_closed_when_redis_is_down(limits, client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    with override_settings(CACHES=REDIS_DOWN):
        response = admin_sign_in(client, staff.email, PASSWORD)

    assert response.status_code == 200
    assert "Sign-in is temporarily unavailable." in response.content.decode()
    assert client.get("/admin/auth/").status_code == 302
