"""Celery settings from ``CELERY_BROKER_URL`` / ``REDIS_URL``, or a broker on disk.

The embedded default is kombu's file-system transport under ``var/broker``: every process of
every service reads and writes the same folders, so messages (and topic-exchange bindings,
kept in the control folder) cross process boundaries without any server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .env import env_float, env_int, service_env
from .paths import var_dir


def filesystem_broker_options(root: Path | None = None) -> dict[str, Any]:
    """kombu's file-system transport in ``root`` (the embedded default's ``<VAR_DIR>/broker``)."""
    root = root or var_dir() / "broker"
    folders = {name: root / name for name in ("data", "control", "processed")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folders["data"]),
        "data_folder_out": str(folders["data"]),
        "control_folder": str(folders["control"]),
        "processed_folder": str(folders["processed"]),
        "store_processed": False,
    }


def broker_config(service_name: str) -> dict[str, Any]:
    """``CELERY_BROKER_URL`` and ``CELERY_BROKER_TRANSPORT_OPTIONS``."""
    url = service_env(service_name.upper(), "CELERY_BROKER_URL")
    if not url:
        return {"url": "filesystem://", "transport_options": filesystem_broker_options()}
    return {
        "url": url,
        "transport_options": {
            # Publishing waits for RabbitMQ's confirm, so "sent" means "the broker has it".
            "confirm_publish": True,
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 2,
        },
    }


# Threads, not prefork: the tasks wait on PostgreSQL, the broker, the payment provider and SMTP,
# and a thread costs no process of its own (~180 MB less per worker) and no round trip through a
# pipe per task (docs/performance.md: 2.6 ms less CPU per charge). The price is that Celery
# cannot enforce task time limits in threads (celery/celery#9203): what bounds a task there is
# every call's own timeout (the workers' statement_timeout, common.celery_app; DB_CONNECT_TIMEOUT,
# the provider's, EMAIL_TIMEOUT, the broker's).
WORKER_POOLS = ("threads", "prefork", "solo")
DEFAULT_WORKER_POOL = "threads"


def worker_pool(service_name: str) -> str:
    """The worker's pool: ``<SERVICE>_CELERY_POOL``, ``CELERY_POOL``, or threads."""
    value = service_env(service_name.upper(), "CELERY_POOL") or DEFAULT_WORKER_POOL
    if value not in WORKER_POOLS:
        raise ImproperlyConfigured(f"CELERY_POOL must be one of {', '.join(WORKER_POOLS)}, not {value!r}")
    return value


def worker_concurrency(service_name: str, default: int = 2) -> int:
    """Tasks a service's worker runs at once (threads or processes of its pool).

    ``<SERVICE>_CELERY_CONCURRENCY``, ``CELERY_CONCURRENCY``, ``default``.
    """
    concurrency = _positive_service_int(service_name, "CELERY_CONCURRENCY")
    return default if concurrency is None else concurrency


def events_options(service_name: str) -> dict[str, Any]:
    """The options of ``common/events/conf.py`` that a deployment sets from the environment.

    ``<SERVICE>_EVENT_LANES`` or ``EVENT_LANES``: events the worker applies at once
    (``CONSUMER_LANES``; the events' own default when unset). docs/events.md says when to change it.
    ``[<SERVICE>_]EVENTS_OUTBOX_RETENTION_DAYS`` and ``…_INBOX_RETENTION_DAYS``: how long sent
    outbox rows and inbox rows are kept.
    """
    names = {
        "CONSUMER_LANES": "EVENT_LANES",
        "OUTBOX_RETENTION_DAYS": "EVENTS_OUTBOX_RETENTION_DAYS",
        "INBOX_RETENTION_DAYS": "EVENTS_INBOX_RETENTION_DAYS",
    }
    options = {option: _positive_service_int(service_name, name) for option, name in names.items()}
    return {option: value for option, value in options.items() if value is not None}


def _positive_service_int(service_name: str, name: str) -> int | None:
    value = service_env(service_name.upper(), name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1, not {number}")
    return number


def celery_settings(service_name: str) -> dict[str, Any]:
    """Settings read by ``app.config_from_object(settings, namespace="CELERY")``."""
    broker = broker_config(service_name)
    redis_url = service_env(service_name.upper(), "REDIS_URL")
    tasks_queue = f"{service_name}.tasks"
    return {
        "CELERY_BROKER_URL": broker["url"],
        "CELERY_BROKER_TRANSPORT_OPTIONS": broker["transport_options"],
        "CELERY_BROKER_CONNECTION_TIMEOUT": env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3),
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_BROKER_HEARTBEAT": 30,
        "CELERY_RESULT_BACKEND": redis_url or None,
        "CELERY_TASK_IGNORE_RESULT": True,
        # All services share one broker: each keeps its tasks on its own queue, so a worker
        # never receives a task another service defined.
        "CELERY_TASK_DEFAULT_QUEUE": tasks_queue,
        "CELERY_TASK_DEFAULT_EXCHANGE": tasks_queue,
        "CELERY_TASK_DEFAULT_ROUTING_KEY": tasks_queue,
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_TASK_REJECT_ON_WORKER_LOST": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_WORKER_POOL": worker_pool(service_name),
        # Tasks run at once (``<SERVICE>_CELERY_CONCURRENCY`` or ``CELERY_CONCURRENCY``); a service
        # whose tasks mostly wait (payment: the provider, three commits) raises the default.
        "CELERY_WORKER_CONCURRENCY": worker_concurrency(service_name),
        # Celery's Django fix-up closes the database connection after every task unless this is
        # set (celery/celery#4116): with it, only every 1000th task; common.celery_app keeps the
        # connection otherwise as Django keeps a request's (CONN_MAX_AGE, health checks).
        "CELERY_DB_REUSE_MAX": 1000,
        "CELERY_TASK_TIME_LIMIT": 120,
        "CELERY_TASK_SOFT_TIME_LIMIT": 100,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        "CELERY_WORKER_SEND_TASK_EVENTS": False,
        # Every service relays its own outbox; a service adds its entries to this dict.
        "CELERY_BEAT_SCHEDULE": {
            "events.sweep_outbox": {
                "task": "events.sweep_outbox",
                "schedule": env_float("EVENTS_SWEEP_INTERVAL", 2.0),
                # A sweep not started within a few seconds is superseded by the next one.
                "options": {"expires": 10},
            },
            "events.prune": {"task": "events.prune", "schedule": 3600.0, "options": {"expires": 600}},
        },
        "CELERY_BEAT_SCHEDULE_FILENAME": str(var_dir() / service_name / "celerybeat-schedule"),
        "CELERY_TIMEZONE": "UTC",
    }
