"""Exchange and queue names of one test, so tests never touch the running system's queues."""

from __future__ import annotations

from common.events import types

CONSUMED = [types.PAYMENT_SUCCEEDED, types.USER_REGISTERED]


def events_options(namespace: str) -> dict:
    return {
        "EXCHANGE": f"test.{namespace}.events",
        "QUEUE_PREFIX": f"test.{namespace}.",
        "CONSUMES": CONSUMED,
        "RELAY_BACKOFF_BASE": 0.1,
        "RELAY_BACKOFF_MAX": 1.0,
        "CONSUMER_RETRY_DELAY": 0.02,
        "CONSUMER_RETRY_DELAY_MAX": 0.1,
        "CONSUMER_MAX_ATTEMPTS": 4,
        "RELAY_IN_BACKGROUND": False,
    }
