"""How long the saga's events waited in the workers' lanes, from each service's ``/metrics``.

Under ``manage_all.py up`` a service's web server exports its Celery worker's metrics too (one
multiprocess directory a service), so two scrapes, before and after a phase, give what the
phase's events did in the lanes (``events_lane_wait_seconds``, ``events_handling_seconds``):
whether ``CONSUMER_LANES`` held them up.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from bench.stack import HOST, PORT_OFFSET, SERVICES

# The services whose workers consume the saga's events.
SAGA_CONSUMERS = ("booking", "payment", "notification")


@dataclass
class LaneTotals:
    """One service's cumulative lane histograms at one scrape, the lanes added up."""

    wait_buckets: dict[float, float] = field(default_factory=dict)  # upper bound (s) → events at most that
    wait_seconds: float = 0.0
    waits_by_lane: dict[str, float] = field(default_factory=dict)
    handled: float = 0.0
    handling_seconds: float = 0.0


def parse(exposition: str) -> LaneTotals:
    totals = LaneTotals()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "events_lane_wait_seconds_bucket":
                bound = float(sample.labels["le"])
                totals.wait_buckets[bound] = totals.wait_buckets.get(bound, 0.0) + sample.value
            elif sample.name == "events_lane_wait_seconds_count":
                lane = sample.labels["lane"]
                totals.waits_by_lane[lane] = totals.waits_by_lane.get(lane, 0.0) + sample.value
            elif sample.name == "events_lane_wait_seconds_sum":
                totals.wait_seconds += sample.value
            elif sample.name == "events_handling_seconds_count":
                totals.handled += sample.value
            elif sample.name == "events_handling_seconds_sum":
                totals.handling_seconds += sample.value
    return totals


def scrape(services: tuple[str, ...] = SAGA_CONSUMERS, timeout: float = 5.0) -> dict[str, LaneTotals]:
    """Each service's lane totals now; a service whose ``/metrics`` does not answer is left out."""
    totals = {}
    for name in services:
        url = f"http://{HOST}:{SERVICES[name].port + PORT_OFFSET}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                totals[name] = parse(response.read().decode())
        except OSError:
            continue
    return totals


def summary(before: LaneTotals, after: LaneTotals) -> dict:
    """What happened in between: events, the mean and the 95th percentile's bucket of their wait
    in a lane, the busiest lane's share of them, the mean time a lane spent on one."""
    events = sum(after.waits_by_lane.values()) - sum(before.waits_by_lane.values())
    if events <= 0:
        return {"events": 0}
    cumulative = sorted(
        (bound, count - before.wait_buckets.get(bound, 0.0)) for bound, count in after.wait_buckets.items()
    )
    p95_bound = next((bound for bound, count in cumulative if count >= 0.95 * events), float("inf"))
    by_lane = [after.waits_by_lane[lane] - before.waits_by_lane.get(lane, 0.0) for lane in after.waits_by_lane]
    handled = after.handled - before.handled
    return {
        "events": int(events),
        "wait_mean_ms": round(1000 * (after.wait_seconds - before.wait_seconds) / events, 2),
        "wait_p95_at_most_ms": round(1000 * p95_bound, 1),
        "busiest_lane_share": round(max(by_lane) / events, 2),
        "handling_mean_ms": round(1000 * (after.handling_seconds - before.handling_seconds) / handled, 2)
        if handled > 0
        else None,
    }


def summaries(before: dict[str, LaneTotals], after: dict[str, LaneTotals]) -> dict[str, dict]:
    return {name: summary(before[name], after[name]) for name in after if name in before}
