"""Connections to the broker for the relay, the consumer's republishing and the operations."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from kombu import Connection
from kombu.pools import connections

from .conf import events_settings

# Options of the broker connection that make kombu retry connecting: here we want one try.
_RETRY_OPTIONS = {"max_retries", "interval_start", "interval_step", "interval_max", "connect_retries_timeout"}


def broker_connection(connect_timeout: float | None = None) -> Connection:
    """A new connection to this service's broker, with publisher confirms where the broker has them.

    For sending, prefer ``broker_pool()``: each process keeps a few connections open.
    """
    return _connection(*_parameters(connect_timeout))


def broker_pool(connect_timeout: float | None = None):
    """kombu's pool of connections like ``broker_connection()``: ``broker_pool().acquire(...)``."""
    return connections[_pool_key(*_parameters(connect_timeout))]


def _parameters(connect_timeout: float | None) -> tuple[str, tuple, float]:
    options = tuple(
        sorted(
            (key, value) for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items() if key not in _RETRY_OPTIONS
        )
    )
    timeout = connect_timeout if connect_timeout is not None else events_settings()["RELAY_CONNECT_TIMEOUT"]
    return settings.CELERY_BROKER_URL, options, timeout


def _connection(url: str, options: tuple, timeout: float) -> Connection:
    return Connection(url, transport_options=dict(options), connect_timeout=timeout, heartbeat=0)


# The pool is keyed by the connection's parameters; its key is never connected itself. Kept once
# per process: building a Connection probes for librabbitmq with an import attempt, which cost
# more than the rest of an after-commit send.
_pool_key = lru_cache(maxsize=16)(_connection)
