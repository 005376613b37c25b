"""The supervisor of ``manage_all.py up``: how its processes are grouped and stopped."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from common.testing.processes import process_state
from deploy.cli.supervisor import Supervisor

# A child that starts a grandchild and prints its pid, then both sleep.
PARENT = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(child.pid, flush=True); time.sleep(60)"
)


def _alive(pid: int) -> bool:
    return process_state(pid) not in ("", "Z")  # a zombie has exited, only not yet been reaped


def _grandchild(output: io.StringIO, within: float = 10) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if lines := [line for line in output.getvalue().splitlines() if line.split("|")[-1].strip().isdigit()]:
            return int(lines[0].split("|")[-1])
        time.sleep(0.05)
    raise AssertionError(f"no grandchild pid printed: {output.getvalue()!r}")


def test_a_process_gets_a_group_of_its_own_in_the_supervisors_session_and_stops_with_its_children():
    # given a supervised process that started a child of its own
    output = io.StringIO()
    supervisor = Supervisor(stream=output)
    process = supervisor.start("parent", [sys.executable, "-c", PARENT], dict(os.environ))
    grandchild = _grandchild(output)
    try:
        # then it leads a process group of its own, in the supervisor's session: under autogroup
        # scheduling one CPU group for all, where their nice values order them
        assert os.getpgid(process.popen.pid) == process.popen.pid
        assert os.getsid(process.popen.pid) == os.getsid(0)
        assert os.getpgid(grandchild) == process.popen.pid
    finally:
        # when the supervisor stops
        supervisor.stop(timeout=5)

    # then the process and its child are gone
    assert process.popen.poll() is not None
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


# A leader that, on SIGTERM, lets its child finish (as gunicorn and Celery do) and says so; the
# child says whether a SIGTERM reached it directly.
GRACEFUL_PARENT = (
    "import signal, subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, sys, time\\n"
    'signal.signal(signal.SIGTERM, lambda *a: (print("child got SIGTERM", flush=True), sys.exit(0)))\\n'
    'print("child ready", flush=True)\\n'
    "time.sleep(60)'])\n"
    "def stop(*args):\n"
    "    print('parent got SIGTERM', flush=True)\n"
    "    child.kill(); child.wait(); sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, stop)\n"
    "time.sleep(60)\n"
)


def test_stopping_signals_each_leader_which_stops_its_own_children_its_own_way():
    # given a supervised process whose child would die on the spot of a SIGTERM of its own
    output = io.StringIO()
    supervisor = Supervisor(stream=output)
    process = supervisor.start("parent", [sys.executable, "-c", GRACEFUL_PARENT], dict(os.environ))
    deadline = time.monotonic() + 10
    while "child ready" not in output.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)

    # when the supervisor stops
    supervisor.stop(timeout=5)

    # then only the leader was signalled, and it ended its child itself
    assert process.popen.returncode == 0
    assert "parent got SIGTERM" in output.getvalue()
    assert "child got SIGTERM" not in output.getvalue()


def test_the_supervisor_waits_longer_than_gunicorn_lets_requests_finish():
    from deploy.cli.supervisor import STOP_TIMEOUT

    config: dict = {}
    exec((Path(__file__).parents[2] / "deploy" / "gunicorn.conf.py").read_text(), config)  # noqa: S102 - our own config

    assert config["graceful_timeout"] < STOP_TIMEOUT
