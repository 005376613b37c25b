"""Prometheus metrics of the event backbone (served at ``/metrics`` with django-prometheus's).

Counters count in the process that did the work, web or worker; one scrape sums a service's
processes (``common.observability.metrics``). The outbox backlog is read from the database at
scrape time by a collector registered once.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from common.observability.metrics import register_scrape_time

logger = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter("events_published", "Events the relay sent to the broker (confirmed)", ["type"])
EVENTS_CONSUMED = Counter("events_consumed", "Events taken off this service's queue, by outcome", ["type", "outcome"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered", "Events this consumer moved to its dead-letter queue", ["type"])

# The worker's lanes (``lanes.py``): whether ``CONSUMER_LANES`` keeps up. Waits that grow in every
# lane mean all lanes are busy, which more lanes help while the handling time is spent waiting
# outside the process (the database, a provider), not while it waits for a core.
# One lane's waits growing while the others' do not is a hot aggregate, which more lanes do not
# help (docs/events.md). Histograms, not a gauge of the waiting: a gauge's file outlives a killed
# worker in the multiprocess directory and would go on reporting what that process had waiting.
EVENTS_LANE_WAIT_SECONDS = Histogram(
    "events_lane_wait_seconds", "Time an event waited in its lane before the lane took it up", ["lane"]
)
EVENTS_HANDLING_SECONDS = Histogram(
    "events_handling_seconds", "Time a lane spent on one event: applying it, or handing its retry to a timer", ["type"]
)


class OutboxCollector:
    """``events_outbox_unsent``, ``events_outbox_oldest_unsent_age_seconds``, ``events_dead_letters``.

    Read at scrape time. The backlog is one indexed query with a short statement timeout on
    PostgreSQL; the dead letters are one passive queue declare, cached for a few seconds. What
    does not answer is left out of this scrape instead of failing it.
    """

    DEAD_LETTERS_TTL = 15.0

    def __init__(self) -> None:
        self._dead_letters: tuple[float, int] | None = None

    def describe(self):
        return []

    def collect(self):
        try:
            unsent, oldest_age = outbox_backlog()
        except Exception as exc:
            logger.warning("outbox backlog not collected: %s", exc)
        else:
            yield GaugeMetricFamily("events_outbox_unsent", "Outbox rows not sent (pending or failed)", value=unsent)
            yield GaugeMetricFamily(
                "events_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", value=oldest_age
            )
        dead = self.dead_letters()
        if dead is not None:
            yield GaugeMetricFamily("events_dead_letters", "Messages in this service's dead-letter queue", value=dead)

    def dead_letters(self) -> int | None:
        from .conf import consumed_types

        now = time.monotonic()
        if self._dead_letters and now - self._dead_letters[0] < self.DEAD_LETTERS_TTL:
            return self._dead_letters[1]
        try:
            if not consumed_types():
                return None
            from .consumer import dead_letter_count

            count = dead_letter_count(connect_timeout=1.0)
        except Exception as exc:
            logger.warning("dead letters not counted: %s", exc)
            return None
        self._dead_letters = (now, count)
        return count


def outbox_backlog() -> tuple[int, float]:
    from django.db import connection
    from django.db.models import Count, Min
    from django.utils import timezone

    from .models import OutboxEvent
    from .services import UNSENT

    unsent = OutboxEvent.objects.filter(status__in=UNSENT)
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


_collector = OutboxCollector()


def register_collector() -> None:
    """Export the outbox collector from this process (``EventsConfig.ready``; once per process)."""
    register_scrape_time(_collector)
