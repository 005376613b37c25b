"""Prometheus metrics of the event backbone (served at ``/metrics`` with django-prometheus's).

Counters count in the process that did the work (web and worker processes each export theirs);
the outbox backlog is read from the database at scrape time by a collector registered once.
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter("events_published", "Events the relay sent to the broker (confirmed)", ["type"])
EVENTS_CONSUMED = Counter("events_consumed", "Events taken off this service's queue, by outcome", ["type", "outcome"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered", "Events this consumer moved to its dead-letter queue", ["type"])
EVENTS_DEAD_LETTERS = Gauge(
    "events_dead_letters", "Messages in this service's dead-letter queue when last counted (events_status)"
)


class OutboxCollector:
    """``events_outbox_unsent`` and ``events_outbox_oldest_unsent_age_seconds`` at scrape time.

    One indexed query with a short statement timeout on PostgreSQL; if the database does not
    answer, the two gauges are left out of this scrape instead of failing it.
    """

    def describe(self):
        return []

    def collect(self):
        try:
            unsent, oldest_age = outbox_backlog()
        except Exception as exc:
            logger.warning("outbox backlog not collected: %s", exc)
            return
        yield GaugeMetricFamily("events_outbox_unsent", "Outbox rows not yet sent (pending or failed)", value=unsent)
        yield GaugeMetricFamily(
            "events_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", value=oldest_age
        )


def outbox_backlog() -> tuple[int, float]:
    from django.db import connection
    from django.db.models import Count, Min
    from django.utils import timezone

    from .models import OutboxEvent

    unsent = OutboxEvent.objects.exclude(status=OutboxEvent.Status.SENT)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 1000")
        try:
            result = unsent.aggregate(count=Count("position"), oldest=Min("created_at"))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = 0")
    else:
        result = unsent.aggregate(count=Count("position"), oldest=Min("created_at"))
    oldest = result["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return result["count"], max(age, 0.0)


_registered = False


def register_collector() -> None:
    """Register the outbox collector once per process (``EventsConfig.ready``)."""
    global _registered
    if _registered:
        return
    REGISTRY.register(OutboxCollector())
    _registered = True
