"""Tasks in a real worker keep their database connection as requests do (common.celery_app).

Both in a solo worker and in the pool the services run (threads, from the settings), where each
task runs in a thread of the pool, not in the thread that consumes the events.
"""

import uuid

import pytest
from django.db import connection

from common.testing.infrastructure import require_postgres_database
from common.tests.app.models import Counter
from common.tests.celery import app
from common.tests.events.support import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TASK = "common.tests.record_database_backend"
# None: the pool of the settings (threads), one thread so that consecutive tasks share it.
POOLS = pytest.mark.parametrize("pool", ["solo", None], ids=["solo", "settings"])


def _start_one_task_worker(namespace: str, log, pool: str | None, **env: str):
    """A worker running one task at a time; ``pool=None``: the settings' pool, whatever CELERY_POOL says here."""
    return start_worker(namespace, log, pool=pool, CELERY_CONCURRENCY="1", CELERY_POOL="", **env)


def _run_task(namespace: str, log, task: str = TASK) -> int:
    """What the worker's next ``task`` recorded (by default, the backend pid it ran on)."""
    key = uuid.uuid4().hex
    app.send_task(task, args=[key], queue=f"test.{namespace}.tasks")
    assert wait_for(lambda: Counter.objects.filter(key=key).exists(), timeout=60), log.read_text()
    return Counter.objects.get(key=key).value


def _terminate_backend(pid: int) -> None:
    """End a worker's PostgreSQL session from outside, as a server restart or an admin would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)


@POOLS
def test_tasks_reuse_one_database_connection(settings, rabbitmq_url, events_namespace, tmp_path, pool):
    require_postgres_database(settings)
    log = tmp_path / "worker.log"
    worker = _start_one_task_worker(events_namespace, log, pool)
    try:
        # when the worker runs three tasks one after another
        backends = [_run_task(events_namespace, log) for _ in range(3)]
    finally:
        stop_worker(worker)

    # then they ran on one PostgreSQL backend, not a new connection each
    assert len(set(backends)) == 1, backends
    # and, left to the settings, the worker ran them in its pool of threads
    assert pool or "concurrency: 1 (thread)" in log.read_text(), log.read_text()


@POOLS
def test_a_task_after_its_connection_was_killed_gets_a_new_one(
    settings, rabbitmq_url, events_namespace, tmp_path, pool
):
    require_postgres_database(settings)
    log = tmp_path / "worker.log"
    worker = _start_one_task_worker(events_namespace, log, pool)
    try:
        # given the backend of the worker's connection terminated between two tasks
        first = _run_task(events_namespace, log)
        _terminate_backend(first)

        # when the next task runs
        second = _run_task(events_namespace, log)
    finally:
        stop_worker(worker)

    # then it ran, on a new connection (the health check dropped the dead one)
    assert second != first


@POOLS
def test_a_task_that_retries_its_database_errors_meets_a_dead_connection_without_a_health_check(
    settings, rabbitmq_url, events_namespace, tmp_path, pool
):
    require_postgres_database(settings)
    log = tmp_path / "worker.log"
    worker = _start_one_task_worker(events_namespace, log, pool)
    try:
        # given the backend of the worker's connection terminated between two tasks
        first = _run_task(events_namespace, log)
        _terminate_backend(first)

        # when the next task is one declared with retries_database_errors=True
        retries = _run_task(events_namespace, log, task="common.tests.record_database_retries")
    finally:
        stop_worker(worker)

    # then no SELECT 1 ran before it: its first statement met the dead connection, it retried once,
    # and the retry ran on a new connection
    assert retries == 1
    (pid,) = Counter.objects.filter(key__endswith=":pid").values_list("value", flat=True)
    assert pid != first


def test_a_workers_statements_are_bounded_as_its_tasks_are_not(settings, rabbitmq_url, events_namespace, tmp_path):
    require_postgres_database(settings)
    log = tmp_path / "worker.log"
    # given a worker in the settings' pool of threads, where Celery enforces no time limit
    worker = _start_one_task_worker(events_namespace, log, None, WORKER_STATEMENT_TIMEOUT_MS="1500")
    try:
        # when a task asks PostgreSQL for its connection's statement timeout
        timeout_ms = _run_task(events_namespace, log, task="common.tests.record_statement_timeout")
    finally:
        stop_worker(worker)

    # then its statements are bounded as configured
    assert timeout_ms == 1500
    # and a process that is not a worker (here the test; a web request, a migration) is not
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)
