"""The machine the bench runs on: how busy it is, and what else was running when the run began."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.console import log

# Each measured phase starts on a quiet machine: what the last one left behind (requests the client
# cut off but a server still has queued, PostgreSQL's autovacuum after pgbench's 20,000 inserts)
# would otherwise run into it. The idle stack itself uses ~0.06 cores (beats, sweeps).
QUIET_CORES = 0.25
QUIET_MAX_WAIT_SECONDS = 30.0  # a machine busy with something else: each phase waits this long, logged


def _cpu_ticks() -> tuple[int, int]:
    """(all, idle) ticks of every CPU since boot, from the first line of /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[3] + fields[4]  # idle and iowait


def busy_cores(interval: float = 0.5) -> float:
    """How many cores' worth of CPU the whole machine used over the next ``interval`` seconds."""
    total_before, idle_before = _cpu_ticks()
    time.sleep(interval)
    total_after, idle_after = _cpu_ticks()
    busy = (total_after - total_before) - (idle_after - idle_before)
    return busy / os.sysconf("SC_CLK_TCK") / interval


def wait_until_quiet(
    *, threshold: float = QUIET_CORES, max_wait: float = QUIET_MAX_WAIT_SECONDS, sample=busy_cores
) -> float:
    """Wait for two quiet half-second windows in a row (at most ``max_wait``); the seconds waited."""
    started = time.monotonic()
    quiet_windows = 0
    while quiet_windows < 2:
        if time.monotonic() - started >= max_wait:
            log(f"  the machine was still busy after {max_wait:g} s; the phase starts anyway")
            break
        quiet_windows = quiet_windows + 1 if sample() < threshold else 0
    waited = round(time.monotonic() - started, 1)
    if waited > 1.5:
        log(f"  waited {waited:g} s for the machine to become quiet")
    return waited


def machine() -> dict:
    load1, load5, _ = (float(x) for x in Path("/proc/loadavg").read_text().split()[:3])
    cpus = len([line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor")])
    others = sum(
        1
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and "pytest" in _cmd(int(entry.name)) and "bench" not in _cmd(int(entry.name))
    )
    # Figures from a machine another test suite is loading are not comparable: say so in the report.
    return {"cpus": cpus, "loadavg_1m_before": load1, "loadavg_5m_before": load5, "other_pytest_processes": others}


def _cmd(pid: int) -> str:
    from bench.stack import command_name

    return command_name(pid)
