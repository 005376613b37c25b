"""The bench's POST phases with the saga paused: workers and beats stopped, nothing else."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import report as bench_report
from bench.stack import Stack
from common.testing.processes import process_state


@pytest.fixture
def sleepers():
    processes = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(4)]
    yield [process.pid for process in processes]
    for process in processes:
        process.kill()
        process.wait()


def test_workers_and_beats_are_stopped_meanwhile_and_continued_after(tmp_path, monkeypatch, sleepers):
    # given a stack with a web process, a worker, a beat and NGINX's worker process
    web, worker, beat, nginx_worker = sleepers
    stack = Stack(tmp_path)
    roles = {
        "booking web": [web],
        "payment worker": [worker],
        "notification beat": [beat],
        "other worker": [nginx_worker],
    }
    monkeypatch.setattr(stack, "pids", lambda: roles)

    # when the saga is paused
    with stack.saga_paused() as paused:
        # then the service's worker and beat are stopped, the web tier and the gateway are not
        assert sorted(paused) == sorted([worker, beat])
        assert (process_state(worker), process_state(beat)) == ("T", "T")
        assert process_state(web) != "T"
        assert process_state(nginx_worker) != "T"

    # and afterwards they run again
    assert process_state(worker) != "T"
    assert process_state(beat) != "T"


def test_a_failure_while_paused_still_continues_the_workers(tmp_path, monkeypatch, sleepers):
    worker = sleepers[0]
    stack = Stack(tmp_path)
    monkeypatch.setattr(stack, "pids", lambda: {"booking worker": [worker]})

    with pytest.raises(RuntimeError), stack.saga_paused():
        raise RuntimeError("the phase failed")

    assert process_state(worker) != "T"


def test_the_post_targets_are_also_judged_with_the_saga_paused():
    # given a report whose POST met the targets only with the saga paused
    alone = {"throughput": 150.0, "ok": 900, "sent": 900, "not_sent": 0, "p99_ms": 80.0}
    report = {
        "phases": {
            "booking_post_at_target": {"throughput": 40.0, "ok": 900, "sent": 900, "not_sent": 0, "p99_ms": 9000.0},
            "booking_post_alone_at_target": alone,
            "booking_post_alone_capacity": {"throughput": 450.0},
        },
        "ratios": {"booking_post_vs_hold_view": 0.05, "booking_post_alone_vs_hold_view": 0.45},
    }

    # when the verdicts are drawn
    verdicts = {name: met for name, _, met in bench_report.verdicts(report)}

    # then both readings are there, each judged on its own figures
    assert verdicts["booking POST ≥ 40% of the bare seat-hold view"] is False
    assert verdicts["booking POST ≥ 40% of the bare seat-hold view (saga paused: the POST's own path)"] is True
    assert verdicts["booking POST 150/s, all 201, p99 ≤ 100 ms"] is False
    assert verdicts["booking POST 150/s, all 201, p99 ≤ 100 ms (saga paused: the POST's own path)"] is True
