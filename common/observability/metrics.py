"""``/metrics``: every process of a service in one scrape, plus what is read at scrape time.

A service runs several processes (gunicorn's workers, on one host also its Celery worker). With
``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps each process's counters in a file there
and the scrape sums them (its multiprocess mode): without it each scrape would answer one process's
counters, chosen at random, and ``rate()`` would read every switch as a counter reset.

The collectors that query the database or the broker when scraped (the outbox backlog, overdue
holds) live in no file; ``register_scrape_time`` keeps them so every scrape asks them afresh.
"""

from __future__ import annotations

import logging
import os
import threading

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

_scrape_time: list[Collector] = []
_lock = threading.Lock()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


def register_scrape_time(collector: Collector) -> None:
    """A collector that reads its value when scraped (in this process's registry as well)."""
    with _lock:
        if collector in _scrape_time:
            return
        _scrape_time.append(collector)
        REGISTRY.register(collector)


def metrics_registry() -> CollectorRegistry:
    """What one scrape exports: the files of every process of the service, or this process alone."""
    if not multiprocess_dir():
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    for collector in list(_scrape_time):
        registry.register(collector)
    return registry


def metrics_view(request) -> HttpResponse:
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104 - a container's own metrics port
    """``/metrics`` on its own port, for a process with no web server (a Celery worker in a container)."""
    start_http_server(port, addr=addr, registry=metrics_registry())
    logger.info("serving Prometheus metrics on %s:%s", addr, port)
