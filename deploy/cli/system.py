"""Facts about the system as this machine runs it: services, their commands and environment."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from common.config.paths import var_dir
from common.config.services import SERVICES, Service

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def select(only: str | None) -> list[Service]:
    """``--only auth,booking`` → those services, in the system's order."""
    if not only:
        return list(SERVICES.values())
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    return [service for service in SERVICES.values() if service.name in names]


def service_env(service: Service, settings: str = "local", extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = f"{service.package}.settings.{settings}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def manage_command(service: Service, *args: str) -> list[str]:
    return [PYTHON, str(REPO_ROOT / service.package / "manage.py"), *args]


def port_of(service: Service, offset: int = 0) -> int:
    return service.port + offset


def control_socket(service: Service) -> Path:
    """Where ``gunicornc -s`` reaches this service's web server under ``manage_all.py up``."""
    return var_dir() / "run" / f"{service.name}-gunicorn.ctl"


def metrics_dir(service: Service) -> Path:
    """Where the service's web and worker processes keep their Prometheus counters under ``up``.

    Shared by both, so the web server's ``/metrics`` carries the worker's counters too (events
    consumed, relayed) with no port of the worker's own (common/observability/metrics.py).
    """
    return var_dir() / "run" / "metrics" / service.name


def web_command(service: Service, host: str = "127.0.0.1", port_offset: int = 0) -> list[str]:
    return [
        PYTHON, "-m", "gunicorn", f"{service.package}.wsgi:application",
        "-c", str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind", f"{host}:{port_of(service, port_offset)}",
    ]  # fmt: skip


# On one host the web servers and the background processes share the CPUs: a request someone is
# waiting for goes first, the saga's next step a moment later, and the work no confirmation waits
# for (the customer's e-mail, the catalogue's copies) last. In compose and Kubernetes each process
# has its own container and CPU share instead. Nice 5 (a CPU weight of 335 against the web's 1024)
# rather than 10 (110): at 10 the saga's charge step waited whenever the web was busy, saga p95
# 0.4-0.5 s at 50 bookings/s against 0.07-0.1 s at 5, for the same POST rate (docs/performance.md).
BACKGROUND_NICENESS = 5
AFTER_THE_SAGA_NICENESS = 15
SAGA_SERVICES = frozenset({"booking", "payment"})


def niceness(service: Service) -> int:
    return BACKGROUND_NICENESS if service.name in SAGA_SERVICES else AFTER_THE_SAGA_NICENESS


def _in_background(service: Service, command: list[str]) -> list[str]:
    nice = shutil.which("nice")
    return [nice, "-n", str(niceness(service)), *command] if nice else command


def worker_command(service: Service) -> list[str]:
    # The pool and its size are the service's settings (CELERY_WORKER_POOL and _CONCURRENCY, from
    # CELERY_POOL and CELERY_CONCURRENCY).
    return _in_background(service, [
        PYTHON, "-m", "celery", "-A", service.package, "worker",
        "-Q", service.tasks_queue, "-n", f"{service.name}@%h", "--loglevel", "INFO",
    ])  # fmt: skip


def beat_command(service: Service) -> list[str]:
    return _in_background(service, [PYTHON, "-m", "celery", "-A", service.package, "beat", "--loglevel", "INFO"])
