"""Runs a set of long-lived processes with prefixed, coloured output; stops them all together."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

_COLOURS = itertools.cycle(["36", "33", "35", "32", "34", "31", "96", "93", "95", "92", "94", "91"])


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    colour: str = field(default_factory=lambda: next(_COLOURS))
    popen: subprocess.Popen | None = None


# Longer than gunicorn's graceful_timeout (GUNICORN_GRACEFUL_TIMEOUT, 20 s): requests in flight
# when `up` stops finish instead of being cut off at 10 s.
STOP_TIMEOUT = 30.0


class Supervisor:
    def __init__(self, *, width: int = 20, stream=sys.stdout, inherited_fds: tuple[int, ...] = ()):
        """``inherited_fds``: descriptors every process keeps open (``up``'s lock on ``VAR_DIR``)."""
        self.processes: list[Process] = []
        self.inherited_fds = inherited_fds
        self.width = width
        self.stream = stream
        self._lock = threading.Lock()
        self.use_colour = stream.isatty() and not os.environ.get("NO_COLOR")

    def say(self, name: str, line: str, colour: str = "0") -> None:
        prefix = f"{name:<{self.width}}|"
        if self.use_colour:
            prefix = f"\033[{colour}m{prefix}\033[0m"
        with self._lock:
            self.stream.write(f"{prefix} {line}\n")
            self.stream.flush()

    def start(self, name: str, command: list[str], env: dict[str, str], cwd: str | None = None) -> Process:
        process = Process(name, command, env)
        # A process group of its own, so that stopping it stops its children too (gunicorn workers,
        # a pool), but in this session: where Linux schedules by autogroup (a CPU group per
        # session, sched(7)), a session per process made each an equal of the others whatever its
        # nice value, and the saga's workers (niced) took as much CPU as the web servers.
        process.popen = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
            pass_fds=self.inherited_fds,
            text=True,
            bufsize=1,
        )
        self.processes.append(process)
        threading.Thread(target=self._pump, args=(process,), daemon=True).start()
        return process

    def _pump(self, process: Process) -> None:
        for line in process.popen.stdout:
            self.say(process.name, line.rstrip(), process.colour)
        code = process.popen.wait()
        self.say(process.name, f"exited with status {code}", process.colour)

    def exited(self) -> list[Process]:
        return [p for p in self.processes if p.popen and p.popen.poll() is not None]

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to each process it started, then SIGKILL to whatever is left of their groups.

        Only the leader gets the SIGTERM: it stops its own children its own way (gunicorn lets
        its workers finish their requests, Celery its pool its tasks), where a signal to the
        whole group reached the children at once too (Celery's prefork children reset SIGTERM
        to dying on the spot). The wait is longer than gunicorn's ``graceful_timeout``.
        """
        for process in self.processes:
            if process.popen is not None and process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            remaining = max(0.1, deadline - time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(remaining)
        for process in self.processes:
            # Whatever is left of each group (also grandchildren whose parent already exited).
            _signal_group(process, signal.SIGKILL)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(2)


def _signal_group(process: Process, sig: int) -> None:
    if process.popen is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.popen.pid, sig)
