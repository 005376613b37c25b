"""Readiness checks: can this process reach its database, its broker and its cache?

Each check runs in its own thread with a deadline, so a dependency that hangs (a dropped
packet, a full accept queue) fails the check instead of hanging the probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from kombu import Connection

logger = logging.getLogger(__name__)

Check = Callable[[float], None]


def check_database(timeout: float) -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # This thread is about to end; its connection must not outlive it.
        connection.close()


def check_broker(timeout: float) -> None:
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=timeout,
    ) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        # Opening a channel proves the broker accepts work, not just TCP.
        connection.default_channel  # noqa: B018


def check_cache(timeout: float) -> None:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis"):
        # The cache ignores Redis errors by design; readiness must see them.
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return
    cache.set("health:ping", "pong", timeout=5)
    if cache.get("health:ping") != "pong":
        raise RuntimeError("cache did not return what was stored")


CHECKS: dict[str, Check] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


def run_checks(timeout: float | None = None) -> dict[str, str]:
    """``{"database": "ok", "broker": "error: ConnectionRefusedError", …}``."""
    timeout = timeout or settings.COMMON.get("HEALTH_CHECK_TIMEOUT", 1.0)
    results: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="health")
    try:
        futures = {name: pool.submit(check, timeout) for name, check in CHECKS.items()}
        for name, future in futures.items():
            try:
                future.result(timeout=timeout + 0.5)
                results[name] = "ok"
            except FutureTimeout:
                results[name] = f"error: no answer within {timeout:g}s"
            except Exception as exc:
                logger.warning("readiness check %s failed: %s", name, exc)
                results[name] = f"error: {exc.__class__.__name__}"
    finally:
        # Do not wait for a hung check; its thread ends with its own timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    return results
