import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from auth_service.accounts.models import User
from common.testing.infrastructure import require_postgres_database

from .factories import PASSWORD, UserFactory


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = target()
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_rotates_once_under_concurrent_use(settings):
    require_postgres_database(settings)
    user = UserFactory()
    refresh = (
        APIClient()
        .post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
        .json()["refresh"]
    )

    statuses = _in_threads(8, lambda: APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}).status_code)

    assert sorted(statuses) == [200] + [401] * 7
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 2  # the sign-in's and the one rotation's


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_email_create_one_user(settings):
    require_postgres_database(settings)

    statuses = _in_threads(
        6,
        lambda: (
            APIClient()
            .post("/api/auth/register/", {"email": "Race@Example.com", "password": PASSWORD, "full_name": "R"})
            .status_code
        ),
    )

    assert sorted(statuses) == [201] + [400] * 5
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
