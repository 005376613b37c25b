"""Fixtures for every service's test run, re-exported by the repository's root conftest.py.

Test databases are created through an admin connection (``POSTGRES_ADMIN_URL``) and owned by
the service's own role, so the application roles never need CREATEDB. Django then finds the
database already there (keepdb) and only migrates it.
"""

from __future__ import annotations

import contextlib

import pytest

from .infrastructure import postgres_admin_url, require_postgres_admin, require_rabbitmq, require_redis


def drop_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_admin_url(), autocommit=True, connect_timeout=5) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def recreate_database(name: str, owner: str) -> None:
    import psycopg
    from psycopg import sql

    drop_database(name)
    with psycopg.connect(postgres_admin_url(), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        return
    require_postgres_admin()
    recreate_database(database["TEST"]["NAME"], database["USER"])


@pytest.fixture(scope="session")
def django_db_keepdb(request) -> bool:
    from django.conf import settings

    # For PostgreSQL the database was just made fresh above; keepdb stops Django from trying to
    # create (and so needing CREATEDB) or drop it.
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return True
    return request.config.getvalue("reuse_db")


@pytest.fixture
def rabbitmq_url() -> str:
    return require_rabbitmq()


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def postgres_admin() -> str:
    return require_postgres_admin()


@pytest.fixture
def own_database_accepting(settings):
    """``accepting(False)`` closes this service's own (test) database to connections and ends its
    sessions, as an outage would, on the real server; ``accepting(True)`` opens it. Open again after
    the test whatever happened."""
    from .infrastructure import require_postgres_database, set_own_database_accepting_connections

    require_postgres_database(settings)

    def accepting(value: bool) -> None:
        set_own_database_accepting_connections(accepting=value)

    yield accepting
    accepting(True)


@contextlib.contextmanager
def database_down_until_first_retry(accepting):
    """This service's database closed until a Celery task first retries, opened by that retry.

    Yields the kwargs of each run that asked for a retry (the first run's are the caller's own).
    ``accepting`` is the ``own_database_accepting`` fixture's function.
    """
    from celery.signals import task_retry

    retried_with: list[dict] = []

    def reopen(**kwargs):
        retried_with.append(dict(kwargs["request"].kwargs))
        accepting(True)

    task_retry.connect(reopen, weak=False)
    accepting(False)
    try:
        yield retried_with
    finally:
        task_retry.disconnect(reopen)
