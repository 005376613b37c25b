"""The backbone with real processes and faults: a killed worker, a stopped broker, the file broker."""

import sqlite3
import subprocess
import sys
import time
import uuid

import pytest
from django.db import transaction

from common.config.paths import REPO_ROOT
from common.events import relay, types
from common.events.models import InboxEvent, OutboxEvent
from common.events.publisher import publish
from common.testing.infrastructure import port_open, require_postgres_database
from common.tests.app.models import Counter
from common.tests.events.support import (
    drain,
    events_queue_size,
    payment_data,
    start_worker,
    stop_worker,
    user_data,
    wait_for,
    worker_env,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_worker_killed_mid_handler_gets_the_event_again_and_applies_it_once(
    settings, rabbitmq_url, events_namespace, tmp_path
):
    require_postgres_database(settings)
    # given an event whose handler will hang the first time (the marker file exists)
    marker = tmp_path / "sleep-marker"
    marker.write_text("sleep once")
    data = user_data()
    with transaction.atomic():
        publish(types.USER_REGISTERED, data, aggregate_id=data["user_id"])
    assert events_queue_size() == 1
    log = tmp_path / "worker.log"
    first = start_worker(events_namespace, log, EVENTS_TEST_SLEEP_MARKER=str(marker))
    try:
        assert wait_for((tmp_path / "sleep-marker.started").exists, timeout=60), log.read_text()

        # when the worker is killed with SIGKILL in the middle of the handler
        first.kill()
        first.wait(timeout=10)
    finally:
        stop_worker(first)
    assert not Counter.objects.filter(key=data["user_id"]).exists()

    # then a new worker gets the unacked event again and applies it once
    second = start_worker(events_namespace, log, EVENTS_TEST_SLEEP_MARKER=str(marker))
    try:
        assert wait_for(lambda: Counter.objects.filter(key=data["user_id"]).exists(), timeout=60), log.read_text()
        assert wait_for(lambda: events_queue_size() == 0, timeout=10)
    finally:
        stop_worker(second)
    assert Counter.objects.get(key=data["user_id"]).value == 1
    assert InboxEvent.objects.filter(type=types.USER_REGISTERED).count() == 1


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


def test_events_published_while_rabbitmq_is_stopped_are_all_delivered_once_after_it_restarts(rabbitmq_url):
    # given RabbitMQ stopped
    payments = [payment_data() for _ in range(50)]
    _rabbitmqctl("stop_app")
    try:
        # when 50 events are published, each in its own transaction, as 50 requests would
        started = time.monotonic()
        for data in payments:
            with transaction.atomic():
                publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data["payment_id"])
        elapsed = time.monotonic() - started

        # then every request committed quickly and every event waits in the outbox
        assert elapsed < 15
        assert OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).count() == 50
        assert relay.sweep_outbox() == 0
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")
    assert wait_for(lambda: port_open(rabbitmq_url, 5672), timeout=30)

    # when the relay sweeps again
    assert relay.wait_until_sent(OutboxEvent.objects.values_list("position", flat=True), timeout=60)

    # then all 50 reach the consumer and each takes effect once
    assert OutboxEvent.objects.filter(status=OutboxEvent.Status.SENT).count() == 50
    assert drain(expected=50, timeout=60) == 50
    assert drain(idle=0.5) == 0
    assert dict(Counter.objects.values_list("key", "value")) == {data["payment_id"]: 1 for data in payments}


def _django(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def _counter_value(database, key: str) -> int | None:
    with sqlite3.connect(database, timeout=10) as db:
        row = db.execute("SELECT value FROM common_test_app_counter WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def test_file_system_broker_carries_an_event_from_one_process_to_another(tmp_path):
    # given two processes with their own SQLite databases and one broker on disk, no servers
    namespace = uuid.uuid4().hex[:10]
    base = {"VAR_DIR": str(tmp_path / "var"), "CELERY_BROKER_URL": "", "REDIS_URL": "", "REQUIRE_SERVICES": ""}
    producer_env = worker_env(namespace, **base, COMMON_DATABASE_URL=f"sqlite:///{tmp_path / 'producer.sqlite3'}")
    consumer_env = worker_env(namespace, **base, COMMON_DATABASE_URL=f"sqlite:///{tmp_path / 'consumer.sqlite3'}")
    for env in (producer_env, consumer_env):
        _django(env, "migrate", "--noinput", "-v", "0")
    worker = start_worker(namespace, tmp_path / "worker.log", **{**base, **consumer_env})
    data = payment_data()
    try:
        # when the first process publishes an event in a transaction
        _django(
            producer_env,
            "shell",
            "-c",
            "from django.db import transaction\n"
            "from common.events import types\n"
            "from common.events.models import OutboxEvent\n"
            "from common.events.publisher import publish\n"
            f"data = {data!r}\n"
            "with transaction.atomic():\n"
            "    publish(types.PAYMENT_SUCCEEDED, data, aggregate_id=data['payment_id'])\n"
            "assert OutboxEvent.objects.get().status == 'sent'\n",
        )

        # then the other process's worker applies it, once
        applied = wait_for(lambda: _counter_value(tmp_path / "consumer.sqlite3", data["payment_id"]) == 1, timeout=60)
        assert applied, (tmp_path / "worker.log").read_text()
    finally:
        stop_worker(worker)
    assert _counter_value(tmp_path / "consumer.sqlite3", data["payment_id"]) == 1
    assert _counter_value(tmp_path / "producer.sqlite3", data["payment_id"]) is None
