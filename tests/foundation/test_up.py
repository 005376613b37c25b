"""``manage_all.py up`` on the embedded default, in a temporary copy of the repository."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from common.config.services import SERVICES
from deploy.cli.health import readiness

REPO = Path(__file__).resolve().parents[2]
PORT_OFFSET = 200
READY_WITHIN = 60
INFRA_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")

pytestmark = pytest.mark.slow


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith(INFRA_VARIABLES)}
    env.update(VAR_DIR=str(var_dir), NO_COLOR="1", GUNICORN_WORKERS="1", CELERY_CONCURRENCY="1")
    return env


def ready(service) -> bool:
    return readiness(service, timeout=2, port_offset=PORT_OFFSET)[0] == 200


def processes_under(path: Path) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(path) in command or cwd.startswith(str(path)):
            found.append(f"{entry.name}: {command.strip()}")
    return found


@pytest.fixture
def copy(tmp_path):
    target = tmp_path / "repo"
    shutil.copytree(
        REPO,
        target,
        ignore=shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".pytest_cache", ".ruff_cache", "bench"),
    )
    return target


def test_up_starts_everything_carries_events_and_stops_cleanly(copy):
    log_path = copy / "up.log"
    env = embedded_env(copy / "var")
    with log_path.open("w") as log:
        up = subprocess.Popen(
            [sys.executable, "manage_all.py", "up", "--port-offset", str(PORT_OFFSET)],
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        waiting = set(SERVICES)
        while waiting and time.monotonic() - started < READY_WITHIN + 30 and up.poll() is None:
            waiting = {name for name in waiting if not ready(SERVICES[name])}
            time.sleep(1)
        elapsed = time.monotonic() - started
        assert not waiting, f"not ready: {waiting}\n{log_path.read_text()[-4000:]}"
        # Migrations run before the servers start; readiness must follow within the minute.
        assert elapsed < READY_WITHIN + 30

        # Each web server answers gunicornc on a socket of its own, not on one path shared by all.
        assert {name: listener_of(copy / "var" / "run" / f"{name}-gunicorn.ctl") for name in SERVICES} == {
            name: f"http://127.0.0.1:{service.port + PORT_OFFSET}" for name, service in SERVICES.items()
        }

        # One service's process publishes; another service's worker receives it over the file broker.
        event_id = publish_from_auth(copy, env)
        deadline = time.monotonic() + 45
        pattern = re.compile(rf"^notification\.worker\s*\|.*{event_id}", re.MULTILINE)
        while time.monotonic() < deadline and not pattern.search(log_path.read_text()):
            time.sleep(1)
        assert pattern.search(log_path.read_text()), log_path.read_text()[-4000:]
    finally:
        up.send_signal(signal.SIGINT)
        try:
            code = up.wait(timeout=40)
        except subprocess.TimeoutExpired:
            up.kill()
            code = None
    time.sleep(1)
    assert code == 0
    assert processes_under(copy) == []
    assert "all processes stopped." in log_path.read_text()


def listener_of(control_socket: Path, within: float = 15) -> str:
    """The address the gunicorn behind ``control_socket`` listens on.

    The arbiter opens its control socket only after its first workers are spawned, and closes it
    around every fork, so a server that already answers HTTP may not answer here for a moment.
    """
    gunicornc = Path(sys.executable).with_name("gunicornc")
    deadline = time.monotonic() + within
    while True:
        result = subprocess.run(
            [str(gunicornc), "-s", str(control_socket), "-c", "show listeners", "-j"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert result.returncode == 0, f"gunicornc on {control_socket}: {result.stdout}{result.stderr}"
    return json.loads(result.stdout)["listeners"][0]["address"]


def publish_from_auth(copy: Path, env: dict[str, str]) -> str:
    user_id = uuid.uuid4()
    script = (
        "from django.db import transaction\n"
        "from common.events.publisher import publish\n"
        "with transaction.atomic():\n"
        f"    row = publish('auth.user.registered', {{'user_id': '{user_id}', 'email': 'up@example.com', "
        "'full_name': 'Up Test'}, "
        f"aggregate_id='{user_id}')\n"
        "print(row.event_id)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage_all.py", "auth", "shell", "-c", script],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def start_up(args: list[str], var_dir: Path, log_path: Path) -> subprocess.Popen:
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "manage_all.py", "up", *args],
            cwd=REPO,
            env=embedded_env(var_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(up: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while up.poll() is None and time.monotonic() < deadline and "The system is up" not in log_path.read_text():
        time.sleep(0.5)
    assert "The system is up" in log_path.read_text(), log_path.read_text()[-4000:]


def answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT], ids=["closed-terminal", "ctrl-backslash"])
def test_a_closed_terminal_stops_everything_up_started(tmp_path, signum):
    # given one service's web server up on the embedded default
    offset = 300
    movie = SERVICES["movie"]
    log_path = tmp_path / "up.log"
    up = start_up(["--only", "movie", "--no-workers", "--no-seed", "--port-offset", str(offset)], tmp_path, log_path)
    try:
        wait_until_up(up, log_path)

        # when its terminal goes away (or Ctrl-\ is pressed)
        up.send_signal(signum)
        code = up.wait(timeout=40)
    finally:
        if up.poll() is None:
            up.kill()

    # then it stopped what it started, as Ctrl-C does, instead of dying and leaving it running
    assert code == 0
    assert "all processes stopped." in log_path.read_text()
    assert not answers(movie.port + offset)


def processes_with_var_dir(var_dir: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"VAR_DIR={var_dir}".encode() in environ:
                found.append(int(entry.name))
    return found


def var_dir_is_locked(var_dir: Path) -> bool:
    import fcntl

    with (var_dir / "run" / "up.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


def test_servers_left_by_an_up_killed_with_sigkill_still_hold_its_var_dir(tmp_path):
    # given one service's web server up, and its `up` killed with SIGKILL (no chance to stop it)
    offset = 330
    log_path = tmp_path / "up.log"
    up = start_up(["--only", "movie", "--no-workers", "--no-seed", "--port-offset", str(offset)], tmp_path, log_path)
    try:
        wait_until_up(up, log_path)
        up.kill()
        up.wait(timeout=10)

        # then the servers it left behind keep VAR_DIR locked against a second `up` there
        assert answers(SERVICES["movie"].port + offset)
        assert var_dir_is_locked(tmp_path)
    finally:
        if up.poll() is None:
            up.kill()
        for pid in processes_with_var_dir(tmp_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # and once the last of them is gone, it is free
    deadline = time.monotonic() + 10
    while var_dir_is_locked(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not var_dir_is_locked(tmp_path)


def test_up_refuses_ports_something_already_listens_on(tmp_path):
    import socket

    # given something listening on the movie service's port (a copy left running)
    offset = 310
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", SERVICES["movie"].port + offset))
        squatter.listen()

        # when up is asked to start that service there
        log_path = tmp_path / "up.log"
        up = start_up(["--only", "movie", "--no-workers", "--port-offset", str(offset)], tmp_path, log_path)
        code = up.wait(timeout=60)

    # then it refuses at once, naming the port, having started and migrated nothing
    output = log_path.read_text()
    assert code == 2, output
    assert f"something already listens on {SERVICES['movie'].port + offset}" in output
    assert "migrating" not in output


def test_a_second_up_in_the_same_var_dir_is_refused_whatever_its_ports(tmp_path):
    import fcntl

    # given a VAR_DIR another `up` holds (its lock, as a running copy has it)
    (tmp_path / "run").mkdir()
    with (tmp_path / "run" / "up.lock").open("a") as first:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)

        # when a second copy starts there on ports of its own
        log_path = tmp_path / "up.log"
        up = start_up(["--only", "movie", "--no-workers", "--port-offset", "320"], tmp_path, log_path)
        code = up.wait(timeout=60)

    # then it refuses before migrating or starting anything, and says what to do instead
    output = log_path.read_text()
    assert code == 2, output
    assert f"another `up`, or processes one left running, use {tmp_path}; a second copy needs a VAR_DIR" in output
    assert "migrating" not in output
    assert not answers(SERVICES["movie"].port + 320)


def test_a_test_suite_that_does_not_exist_is_refused_not_counted_as_passing():
    result = subprocess.run(
        [sys.executable, "manage_all.py", "test", "--only", "bookings"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "unknown suite(s): bookings; choose from common, auth, movie, booking" in result.stderr
    assert "0 passed" not in result.stdout
