"""``/metrics`` sums every process of a service and still asks the scrape-time collectors."""

import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.core import GaugeMetricFamily

from common import celery_app
from common.observability import metrics
from common.testing.infrastructure import closed_port

pytestmark = pytest.mark.django_db


class _Seats:
    """A scrape-time collector like the outbox backlog: no file, asked on every scrape."""

    def __init__(self):
        self.scrapes = 0

    def describe(self):
        return []

    def collect(self):
        self.scrapes += 1
        yield GaugeMetricFamily("test_seats_free", "Seats free, read at scrape time", value=42)


@pytest.fixture
def scrape_time_collector():
    collector = _Seats()
    metrics.register_scrape_time(collector)
    yield collector
    metrics._scrape_time.remove(collector)
    metrics.REGISTRY.unregister(collector)


def count_in_another_process(directory, amount: int) -> None:
    """What a gunicorn worker or a Celery worker does: count, in its own process and file."""
    program = f"from prometheus_client import Counter; Counter('test_bookings', 'Bookings').inc({amount})"
    subprocess.run([sys.executable, "-c", program], env={"PROMETHEUS_MULTIPROC_DIR": str(directory)}, check=True)


def test_a_scrape_sums_the_counters_of_every_process(client, monkeypatch, tmp_path, scrape_time_collector):
    # given two processes of the service that counted 3 and 4
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    count_in_another_process(tmp_path, 3)
    count_in_another_process(tmp_path, 4)

    # when Prometheus scrapes any one of them
    text = client.get("/metrics").content.decode()

    # then it sees both, and what is read at scrape time
    assert "test_bookings_total 7.0" in text
    assert "test_seats_free 42.0" in text
    assert scrape_time_collector.scrapes == 1


def test_without_a_directory_a_scrape_is_this_process_alone(client, monkeypatch, scrape_time_collector):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    text = client.get("/metrics").content.decode()

    assert metrics.metrics_registry() is metrics.REGISTRY
    assert "django_http_requests_total_by_method_total" in text
    assert "test_seats_free 42.0" in text


def test_a_collector_registered_twice_is_exported_once(scrape_time_collector):
    metrics.register_scrape_time(scrape_time_collector)

    assert metrics._scrape_time.count(scrape_time_collector) == 1


def test_a_worker_given_a_metrics_port_serves_them_there(monkeypatch, settings, tmp_path, scrape_time_collector):
    # given a Celery worker in a container, with a metrics port and nothing else sharing its files
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    count_in_another_process(tmp_path, 5)
    port = closed_port()  # free now: the worker listens there next
    settings.COMMON = {**settings.COMMON, "WORKER_METRICS_PORT": port}

    # when the worker starts
    celery_app._serve_metrics_of_this_worker()

    # then Prometheus can scrape it there
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert "test_bookings_total 5.0" in text
    assert "test_seats_free 42.0" in text


def test_a_worker_without_a_metrics_port_opens_none(settings, monkeypatch):
    started = []
    monkeypatch.setattr(metrics, "start_http_server", lambda *args, **kwargs: started.append(args))
    settings.COMMON = {**settings.COMMON, "WORKER_METRICS_PORT": 0}

    celery_app._serve_metrics_of_this_worker()

    assert started == []
