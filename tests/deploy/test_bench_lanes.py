"""The bench's reading of the lanes' metrics: what a phase's events did, from two scrapes."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest

from bench.lanes import parse, summary
from common.events import metrics


def scraped():
    return parse(generate_latest(REGISTRY).decode())


def test_a_phase_reads_as_its_events_waits_busiest_lane_and_handling_time():
    # given the lanes' histograms as a scrape shows them
    before = scraped()

    # when 19 events wait 2 ms in one lane, one waits 300 ms in another, and each takes 10 ms
    for _ in range(19):
        metrics.EVENTS_LANE_WAIT_SECONDS.labels(lane="bench-test-a").observe(0.002)
    metrics.EVENTS_LANE_WAIT_SECONDS.labels(lane="bench-test-b").observe(0.3)
    for _ in range(20):
        metrics.EVENTS_HANDLING_SECONDS.labels(type="bench.test.happened").observe(0.01)

    # then the summary of the two scrapes counts exactly those
    assert summary(before, scraped()) == {
        "events": 20,
        "wait_mean_ms": pytest.approx(16.9),
        "wait_p95_at_most_ms": 5.0,  # 19 of 20 in the 5 ms bucket
        "busiest_lane_share": 0.95,
        "handling_mean_ms": pytest.approx(10.0),
    }


def test_a_phase_without_events_reads_as_none():
    assert summary(scraped(), scraped()) == {"events": 0}
