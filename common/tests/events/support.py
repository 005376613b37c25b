"""Helpers of the event tests: payloads, draining a queue in this process, worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from kombu import Consumer
from kombu.pools import connections

from common.config.paths import REPO_ROOT
from common.events.broker import broker_connection
from common.events.conf import events_settings
from common.events.consumer import EventHandlerRunner
from common.events.topology import consumer_services, dead_letter_queue, declare_all, events_queue, exchange


def payment_data(payment_id: uuid.UUID | None = None, amount: str = "12.50") -> dict:
    return {
        "payment_id": str(payment_id or uuid.uuid4()),
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "amount": amount,
        "currency": "EUR",
    }


def booking_created_data(**overrides) -> dict:
    return {
        "booking_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "showtime_id": str(uuid.uuid4()),
        "seats": ["A1", "A2"],
        "amount": "24.00",
        "currency": "EUR",
        "payment_method": "pm_card_visa",
        "expires_at": "2026-12-07T06:15:00+00:00",
        **overrides,
    }


def user_data(user_id: uuid.UUID | None = None, full_name: str = "Ada Lovelace") -> dict:
    return {"user_id": str(user_id or uuid.uuid4()), "email": "ada@example.com", "full_name": full_name}


def queue_size(name_of: Callable[[str], object], service: str = "common") -> int:
    with connections[broker_connection()].acquire(block=True, timeout=10) as conn:
        declare_all(conn.default_channel)
        queue = name_of(service)(conn.default_channel)
        return queue.queue_declare(passive=True).message_count


def events_queue_size(service: str = "common") -> int:
    return queue_size(events_queue, service)


def dead_queue_size(service: str = "common") -> int:
    return queue_size(dead_letter_queue, service)


def drain(*, expected: int | None = None, idle: float = 1.0, timeout: float = 60.0) -> int:
    """Consume this project's queue in this process until ``expected`` messages or ``idle`` s of quiet."""
    runner = EventHandlerRunner()
    handled = 0
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    with broker_connection() as conn:
        conn.ensure_connection(max_retries=3)
        channel = conn.channel()

        def on_message(message):
            nonlocal handled, quiet_since
            runner.on_message(message)
            handled += 1
            quiet_since = time.monotonic()

        declare_all(channel)
        consumer = Consumer(channel, queues=[events_queue(runner.service)], on_message=on_message, no_ack=False)
        consumer.qos(prefetch_count=1)  # one at a time, in this thread: the runner alone, without lanes
        with consumer:
            while time.monotonic() < deadline:
                if expected is not None and handled >= expected:
                    break
                if expected is None and time.monotonic() - quiet_since > idle:
                    break
                try:
                    conn.drain_events(timeout=0.2)
                except TimeoutError:
                    continue
    return handled


def delete_topology() -> None:
    """Remove this test's exchange and queues from the broker."""
    with broker_connection() as conn:
        conn.ensure_connection(max_retries=1)
        channel = conn.channel()
        for service in consumer_services():
            for queue in (events_queue(service), dead_letter_queue(service)):
                try:
                    bound = queue(channel)
                    bound.purge()
                    bound.delete()
                except Exception:  # noqa: S112 - best effort: the queue may never have been declared
                    continue
        with contextlib.suppress(Exception):
            exchange()(channel).delete()
        # The task queue and exchange of the worker processes a test started (-Q <prefix>tasks).
        tasks = f"{events_settings()['QUEUE_PREFIX']}tasks"
        with contextlib.suppress(Exception):
            channel.queue_delete(tasks)
        with contextlib.suppress(Exception):
            channel.exchange_delete(tasks)


def test_database_url() -> str:
    """The URL of the test database pytest-django created, for a worker process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(namespace: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "common.tests.events.worker_settings",
            "EVENTS_TEST_NAMESPACE": namespace,
            "COMMON_DATABASE_URL": test_database_url(),
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_FORMAT": "plain",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }
    )
    env.update(extra)
    return env


def start_worker(namespace: str, log_path: Path, pool: str | None = "solo", **extra_env: str) -> subprocess.Popen:
    """A real worker of the test app; ``pool=None`` leaves the pool to the settings (CELERY_POOL)."""
    command = [
        sys.executable, "-m", "celery", "-A", "common.tests.celery", "worker",
        "--loglevel", "INFO", "-Q", f"test.{namespace}.tasks",
        "-n", f"events-test-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        *(["--pool", pool] if pool else []),
    ]  # fmt: skip
    log = log_path.open("ab")
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=worker_env(namespace, **extra_env), stdout=log, stderr=subprocess.STDOUT
    )


def stop_worker(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
