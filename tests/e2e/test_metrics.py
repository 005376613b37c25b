"""What Prometheus sees of the running system: one scrape of a service carries all its processes."""

from __future__ import annotations

import itertools
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .support import SERVICES

pytestmark = pytest.mark.slow


def scrape(service: str) -> dict[tuple[str, frozenset], float]:
    """``/metrics`` of the service's web server (not through the gateway, as Prometheus scrapes)."""
    port = SERVICES[service][0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_services_scrape_sums_its_web_processes_and_carries_its_workers_counts(system, showtime, user):
    # given a confirmed booking: payment's Celery worker took its booking.created and charged it
    created = user.book(showtime, ["B1", "B2"])
    assert created.status == 201, created
    user.wait_until_confirmed(created.body["id"])

    # when Prometheus scrapes payment's web server a few times (its requests spread over its processes)
    scrapes = [scrape("payment") for _ in range(8)]

    # then every scrape has the worker's count of events it applied ...
    applied = ("events_consumed_total", frozenset({"type": "bookings.booking.created", "outcome": "applied"}.items()))
    assert all(samples.get(applied, 0) >= 1 for samples in scrapes), [samples.get(applied) for samples in scrapes]
    # ... and the web's request count only grows, scrape after scrape (each scrape is a request)
    requests = ("django_http_requests_total_by_method_total", frozenset({"method": "GET"}.items()))
    counts = [samples[requests] for samples in scrapes]
    assert all(later > earlier for earlier, later in itertools.pairwise(counts)), counts
