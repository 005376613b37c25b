"""The Celery application of one service."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.exceptions import Retry
from celery.signals import task_postrun, task_prerun, worker_init
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.db.backends.signals import connection_created

from common.events.connections import recycle_connection

logger = logging.getLogger(__name__)

# The service's own database went away (restarted, refusing connections, the session ended).
DATABASE_ERRORS = (OperationalError, InterfaceError)


def create_celery_app(service_name: str) -> Celery:
    """A Celery app configured from the service's Django settings (``CELERY_*``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service_name}_service.settings.local")
    app = Celery(f"{service_name}_service")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    # Every worker also consumes its service's queue of events (<service>.events), no flag needed.
    from common.events.lanes import EventLanesStep

    app.steps["worker"].add(EventLanesStep)
    task_prerun.connect(_before_task, weak=False, dispatch_uid="common.celery_app.before_task")
    task_postrun.connect(_after_task, weak=False, dispatch_uid="common.celery_app.after_task")
    worker_init.connect(_bound_statements_in_this_worker, weak=False, dispatch_uid="common.celery_app.bound_statements")
    worker_init.connect(_serve_metrics_of_this_worker, weak=False, dispatch_uid="common.celery_app.serve_metrics")
    return app


def _serve_metrics_of_this_worker(**kwargs) -> None:
    """``/metrics`` on ``WORKER_METRICS_PORT``: a worker's own counters (events consumed, relayed).

    Only where nothing else exports them: on one host (``manage_all.py up``) the worker writes to
    its service's metrics directory and the web server's ``/metrics`` sums it in.
    """
    port = settings.COMMON.get("WORKER_METRICS_PORT", 0)
    if port:
        from common.observability.metrics import serve_metrics

        serve_metrics(port)


def _bound_statements_in_this_worker(**kwargs) -> None:
    """Every PostgreSQL connection of this worker gets ``statement_timeout``.

    Celery cannot enforce task time limits in a pool of threads (celery/celery#9203): without
    this, a task or event waiting on a row lock that is never released would hold its thread
    for ever. Web requests have gunicorn's timeout instead; migrations and shells get none.
    """
    connection_created.connect(_set_statement_timeout, weak=False, dispatch_uid="common.celery_app.statement_timeout")


def _set_statement_timeout(sender, connection, **kwargs) -> None:
    milliseconds = int(settings.COMMON.get("WORKER_STATEMENT_TIMEOUT", 0) * 1000)
    if connection.vendor == "postgresql" and milliseconds > 0:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")


def _before_task(task=None, **kwargs) -> None:
    """A task gets the database lifecycle Django gives a request (see ``_after_task``).

    A task declared with ``retries_database_errors=True`` (it catches ``DATABASE_ERRORS`` and calls
    ``retry_after_database_error``) also skips Django's health check, a ``SELECT 1`` round trip
    before its first query: a dead connection fails its first statement instead, the task runs
    again, and the failed connection is dropped after it, so the check would buy nothing.
    """
    if _is_eager(task):
        return
    if getattr(task, "retries_database_errors", False):
        recycle_connection()
    else:
        close_old_connections()


def _after_task(task=None, **kwargs) -> None:
    """The connection is dropped only if it had an error, is in the wrong autocommit state or is
    older than ``CONN_MAX_AGE``; otherwise it is kept and health-checked at its next use
    (``CONN_HEALTH_CHECKS``). Celery's own Django fix-up would close it after every task
    (celery/celery#4116), a new PostgreSQL backend per task; ``CELERY_DB_REUSE_MAX`` in
    ``common.config.celery`` turns that down to a recycle every thousand tasks.
    """
    if not _is_eager(task):
        close_old_connections()


def _is_eager(task) -> bool:
    # An eager task runs in its caller's transaction (tests): its connection is not ours to close.
    return task is not None and getattr(task.request, "is_eager", False)


def retry_after_database_error(
    task, exc: Exception, *, subject: str, database_retries: int, max_retries: int, countdown: float, left_to: str
) -> Retry | None:
    """``task`` once more after ``countdown`` seconds, its ``database_retries`` keyword one higher:
    counted apart from its other retries (a provider's, say), whose budget a database outage
    should not spend. ``None`` once ``max_retries`` are spent: the work stays as it was, for
    ``left_to`` (the sweep that finds it again), and the caller returns.
    """
    if database_retries >= max_retries:
        logger.warning("%s of %s: the database stayed unavailable; left to %s", task.name, subject, left_to)
        return None
    logger.warning("%s of %s: database unavailable (%s); retrying in %.1fs", task.name, subject, exc, countdown)
    # A statement that failed outside a transaction leaves its connection broken until the task
    # ends (``_after_task``); an eager retry runs at once, in this thread, so drop it here.
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    return task.retry(
        exc=exc,
        countdown=countdown,
        kwargs={**task.request.kwargs, "database_retries": database_retries + 1},
        throw=False,
    )
