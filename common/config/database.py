"""``DATABASES`` from ``<SERVICE>_DATABASE_URL`` / ``DATABASE_URL``, or a SQLite file."""

from __future__ import annotations

import re
from typing import Any

import dj_database_url

from .env import env_int, env_str, service_env
from .paths import var_dir

# The design document writes SQLAlchemy URLs (postgresql+asyncpg://); Django picks its own
# driver (psycopg 3), so the "+driver" part only names what the URL's author used.
_DRIVER_SUFFIX = re.compile(r"^(?P<scheme>[a-z][a-z0-9]*)\+[a-z0-9_]+://", re.IGNORECASE)
_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def normalise_database_url(url: str) -> str:
    url = _DRIVER_SUFFIX.sub(lambda match: f"{match['scheme']}://", url.strip(), count=1)
    scheme = url.split("://", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"unsupported database URL scheme {scheme!r}: use postgresql:// or sqlite://")
    return url


def database_config(service_name: str, url: str | None = None) -> dict[str, Any]:
    """The ``default`` database of one service.

    PostgreSQL connections are persistent and health-checked, with a short connect timeout so a
    dead database makes a request fail fast (and readiness report it) instead of hanging.
    URL query options (``sslmode``, ``sslrootcert``, …) pass through to libpq.
    """
    if url is None:
        url = service_env(service_name.upper(), "DATABASE_URL")
    if not url:
        return _sqlite_default(service_name)
    config = dj_database_url.parse(
        normalise_database_url(url),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
        # TEST_DB_SUFFIX lets two checkouts (or two people) test against one server at once.
        config["TEST"] = {"NAME": f"test_{config['NAME']}{env_str('TEST_DB_SUFFIX', '')}"}
    return config


def _sqlite_default(service_name: str) -> dict[str, Any]:
    folder = var_dir() / service_name
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(folder / "db.sqlite3"),
        # The web server and the worker write the same file: WAL lets readers go on while one
        # writes, IMMEDIATE takes the write lock up front so two writers queue instead of failing.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
