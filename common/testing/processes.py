"""Processes held still for a while: a fault scenario's frozen worker, the bench's paused saga."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path


def stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (proc(5) numbers them from 3: the
    state is ``[0]``, the parent ``[1]``, utime ``[11]``); ``[]`` if the process is gone.

    Split after the last ")": the command name in its parentheses may hold spaces and ")".
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat (R running, S sleeping, T stopped, …); "" if gone."""
    fields = stat_fields(pid)
    return fields[0] if fields else ""


@contextlib.contextmanager
def stopped(pids: list[int], *, settle_seconds: float = 2.0) -> Iterator[list[int]]:
    """SIGSTOP ``pids``, wait until they are stopped, and SIGCONT them when the block ends, whatever happens.

    A process that has already gone is skipped. The signal takes effect when each process is next
    scheduled, so the block starts only once none of them runs any more (or after ``settle_seconds``).
    """
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + settle_seconds
    while any(process_state(pid) not in ("T", "") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield pids
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
