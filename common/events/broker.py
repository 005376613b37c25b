"""Connections to the broker for the relay, the consumer's republishing and the operations."""

from __future__ import annotations

from django.conf import settings
from kombu import Connection

from .conf import events_settings

# Options of the broker connection that make kombu retry connecting: here we want one try.
_RETRY_OPTIONS = {"max_retries", "interval_start", "interval_step", "interval_max", "connect_retries_timeout"}


def broker_connection(connect_timeout: float | None = None) -> Connection:
    """A connection to this service's broker, with publisher confirms where the broker has them.

    Use it through ``kombu.pools.connections[broker_connection()].acquire(...)``: the pool is
    keyed by the connection's parameters, so each process keeps a few open connections.
    """
    options = {
        key: value for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items() if key not in _RETRY_OPTIONS
    }
    timeout = connect_timeout if connect_timeout is not None else events_settings()["RELAY_CONNECT_TIMEOUT"]
    return Connection(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=timeout, heartbeat=0)
