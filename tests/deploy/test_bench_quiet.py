"""The bench starts each measured phase on a quiet machine, not in what the last phase left behind."""

from __future__ import annotations

import os
import threading
import time

from bench import machine as bench_machine


def samples(*cores: float):
    remaining = list(cores)

    def sample() -> float:
        return remaining.pop(0)

    return sample, remaining


def test_a_phase_waits_for_two_quiet_windows_in_a_row():
    # given a machine busy, then quiet for one window, busy again, then quiet
    sample, remaining = samples(1.8, 0.1, 0.9, 0.1, 0.1, 1.9)

    # when the bench waits for quiet
    bench_machine.wait_until_quiet(threshold=0.25, max_wait=10, sample=sample)

    # then one quiet window between busy ones did not count, and it stopped at the second in a row
    assert remaining == [1.9]


def test_a_machine_that_stays_busy_delays_a_phase_by_the_maximum_wait_only(capsys):
    def busy() -> float:
        time.sleep(0.02)
        return 1.5

    waited = bench_machine.wait_until_quiet(threshold=0.25, max_wait=0.2, sample=busy)

    assert 0.2 <= waited < 1.0
    assert "the machine was still busy after 0.2 s" in capsys.readouterr().out


def test_busy_cores_sees_a_core_kept_busy():
    # given one thread spinning for longer than the sample
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        # when the machine's CPU is sampled
        busy = bench_machine.busy_cores(0.5)
    finally:
        stop.set()
        spinner.join()

    # then at least most of that core is counted, and never more than the machine has
    assert 0.5 < busy <= os.cpu_count() + 0.1
