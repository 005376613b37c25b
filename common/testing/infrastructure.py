"""Reaching the real PostgreSQL, RabbitMQ and Redis from tests.

A test that needs one of them asks for it with a fixture or marker from here. When the server is
not configured or not reachable the test is skipped with the reason; with ``REQUIRE_SERVICES=1``
(what CI sets) that skip becomes a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): a server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(url: str, default_port: int, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str:
    return os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL)


def require_postgres_admin() -> str:
    url = postgres_admin_url()
    if not port_open(url, 5432):
        skip_or_fail(f"PostgreSQL is not reachable at {url} (set POSTGRES_ADMIN_URL)")
    return url


def require_rabbitmq() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("amqp"):
        skip_or_fail("CELERY_BROKER_URL does not point at RabbitMQ")
    if not port_open(url, 5672):
        skip_or_fail(f"RabbitMQ is not reachable at {url}")
    return url


def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        skip_or_fail("REDIS_URL is not set")
    if not port_open(url, 6379):
        skip_or_fail(f"Redis is not reachable at {url}")
    return url


def require_postgres_database(settings) -> None:
    """Skip or fail unless this service's own database is PostgreSQL."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        skip_or_fail("this service's DATABASE_URL does not point at PostgreSQL")


def set_database_accepting_connections(admin_url: str, name: str, *, accepting: bool) -> None:
    """Open or close database ``name`` to new connections; closing also ends its sessions.

    A database that is down for its service while the server stays up for everyone else.
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(name), sql.SQL(str(accepting)))
        )
        if not accepting:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])


def set_own_database_accepting_connections(*, accepting: bool) -> None:
    """The same for this test process's own database (pytest-django's), through the admin URL."""
    from django.db import connection

    set_database_accepting_connections(require_postgres_admin(), connection.settings_dict["NAME"], accepting=accepting)
