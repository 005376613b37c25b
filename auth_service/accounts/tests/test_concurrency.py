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


@pytest.mark.django_db(transaction=True)
def test_concurrent_profile_changes_each_publish_the_profile_as_committed(settings):
    # given a user changing their email and their name at the same time, from many clients
    from common.auth.testing import authenticated_client
    from common.events.testing import published

    require_postgres_database(settings)
    user = UserFactory(email="old@example.com", full_name="Old")
    changes = [{"email": f"new{n}@example.com"} if n % 2 else {"full_name": f"Name {n}"} for n in range(8)]
    pending = list(changes)
    lock = threading.Lock()

    def patch():
        with lock:
            body = pending.pop()
        return authenticated_client(user_id=user.id, email=user.email).patch("/api/auth/me/", body, format="json")

    # when they all land
    statuses = _in_threads(len(changes), lambda: patch().status_code)

    # then the last event (in the order they were committed) is the profile the database holds:
    # one built from a copy read before another PATCH committed would give the old email back
    assert statuses == [200] * len(changes)
    user.refresh_from_db()
    events = published("auth.user.updated")
    assert len(events) == len(changes)
    assert (events[-1]["data"]["email"], events[-1]["data"]["full_name"]) == (user.email, user.full_name)
    assert user.email != "old@example.com"
    assert user.full_name != "Old"
