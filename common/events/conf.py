"""The options of the event backbone: ``settings.COMMON["EVENTS"]`` over these defaults.

Exchange and queue names come from here alone, so a test run can use names of its own and
never touch the queues of the running system.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .catalogue import types_consumed_by

DEFAULTS: dict[str, Any] = {
    # Topology.
    "EXCHANGE": "events",
    "QUEUE_PREFIX": "",  # queues are "<prefix><service>.events" and "<prefix><service>.events.dead"
    # Types this service's queue is bound to; None means the catalogue's (types_consumed_by).
    "CONSUMES": None,
    # Relay (outbox → broker).
    "RELAY_BATCH_SIZE": 100,
    "RELAY_MAX_ATTEMPTS": 20,
    "RELAY_BACKOFF_BASE": 1.0,
    "RELAY_BACKOFF_MAX": 60.0,
    "RELAY_CONNECT_TIMEOUT": 2.0,  # seconds; the after-commit send must not hold a request up
    "RELAY_CONFIRM_TIMEOUT": 5.0,
    "SWEEP_INTERVAL": 2.0,
    # Send after commit on a thread of its own, so a request does not wait for the broker's
    # confirm. Tests turn it off to see the row sent when the transaction returns.
    "RELAY_IN_BACKGROUND": True,
    # Consumer (broker → inbox + handler).
    "CONSUMER_MAX_ATTEMPTS": 8,
    "CONSUMER_RETRY_DELAY": 1.0,
    "CONSUMER_RETRY_DELAY_MAX": 10.0,
    # Events applied at once by a worker (common/events/lanes.py), each aggregate's in order.
    "CONSUMER_LANES": 4,
    "CONSUMER_PREFETCH_PER_LANE": 4,
    # Retention (the hourly ``events.prune``). The inbox must outlive the outbox: a sent row can
    # be replayed from the admin for as long as it is kept, and its consumers must still find the
    # event in their inbox to take it as a duplicate.
    "OUTBOX_RETENTION_DAYS": 7,
    "INBOX_RETENTION_DAYS": 30,
    "PRUNE_BATCH_SIZE": 5000,
}


def events_settings() -> dict[str, Any]:
    return {**DEFAULTS, **getattr(settings, "COMMON", {}).get("EVENTS", {})}


def service_name() -> str:
    return settings.SERVICE_NAME


def queue_name(service: str) -> str:
    return f"{events_settings()['QUEUE_PREFIX']}{service}.events"


def dead_queue_name(service: str) -> str:
    return f"{queue_name(service)}.dead"


def consumed_types(service: str | None = None) -> list[str]:
    """The types ``service``'s queue is bound to (this service's may be overridden)."""
    service = service or service_name()
    configured = events_settings()["CONSUMES"]
    if service == service_name() and configured is not None:
        return sorted(configured)
    return types_consumed_by(service)
