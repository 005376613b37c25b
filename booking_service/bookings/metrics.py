"""Prometheus metrics computed when ``/metrics`` is scraped."""

from __future__ import annotations

import logging

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from common.observability.metrics import register_scrape_time

logger = logging.getLogger(__name__)


class PendingOverdueCollector(Collector):
    """``bookings_pending_overdue``: one indexed COUNT per scrape; a failing database hides it.

    No sample (rather than a wrong 0) when the query fails, so the scrape itself still succeeds
    and an ``absent()`` alert can tell "unknown" from "fine".
    """

    def collect(self):
        from .selectors import pending_overdue_count

        try:
            value = pending_overdue_count()
        except Exception:  # a scrape must never fail because the database did
            logger.warning("bookings_pending_overdue: could not count overdue bookings", exc_info=True)
            return
        gauge = GaugeMetricFamily(
            "bookings_pending_overdue",
            "Pending bookings past their hold plus the grace period (the expiry sweeper is behind).",
        )
        gauge.add_metric([], value)
        yield gauge

    def describe(self):
        # Describing nothing keeps registration from calling collect() (and the database) early.
        return []


_collector = PendingOverdueCollector()


def register() -> None:
    register_scrape_time(_collector)
