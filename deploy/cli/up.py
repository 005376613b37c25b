"""``manage_all.py up``: the whole system on this machine, in the foreground."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common.config.paths import var_dir

from . import health, system
from .supervisor import Supervisor

READY_TIMEOUT = 120


def add_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated services to run (default: all five)")
    parser.add_argument("--settings", default="local", choices=["local", "production"], help="settings module")
    parser.add_argument("--no-migrate", action="store_true", help="skip migrations before starting")
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo catalogue when it is empty")
    parser.add_argument("--no-workers", action="store_true", help="web servers only (no Celery worker or beat)")
    parser.add_argument("--gateway", action="store_true", help="also run NGINX in front on 127.0.0.1:8000")
    parser.add_argument("--host", default="127.0.0.1", help="address the web servers bind to")
    parser.add_argument(
        "--port-offset", type=int, default=0, help="add this to every port (a second copy, in a VAR_DIR of its own)"
    )


def migrate(services, settings: str) -> None:
    for service in services:
        print(f"migrating {service.name} …", flush=True)
        subprocess.run(
            system.manage_command(service, "migrate", "--noinput", "-v", "0"),
            env=system.service_env(service, settings),
            check=True,
        )


def seed_if_empty(services, settings: str) -> None:
    """The demo catalogue, created through the movie service (its showtimes reach booking as events)."""
    movie = next((service for service in services if service.name == "movie"), None)
    if movie is None:
        return
    subprocess.run(
        system.manage_command(movie, "seed_catalogue", "--if-empty"),
        env=system.service_env(movie, settings),
        check=True,
    )


def ports_taken(services, port_offset: int, *, gateway: bool) -> list[int]:
    """The ports this ``up`` would listen on that something already answers on.

    A copy left running (its ``up`` killed with SIGKILL, or by a signal it did not handle) would
    otherwise answer the readiness checks in place of the new servers, which cannot bind.
    """
    ports = [service.port + port_offset for service in services] + ([8000 + port_offset] if gateway else [])
    taken = []
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                taken.append(port)
    return taken


def claim_var_dir():
    """An open file holding ``VAR_DIR``'s lock, or None while another ``up`` holds it.

    Two copies in one ``VAR_DIR`` (a second one with ``--port-offset``) would share its SQLite
    databases, file broker and run files: the second wiped the first's metrics files and took
    its control sockets and gateway pid file. Every process ``up`` starts inherits the lock, so
    it is free only once the last of them has gone: servers left running by an ``up`` killed
    with SIGKILL still hold it.
    """
    run_dir = var_dir() / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = (run_dir / "up.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def run(args) -> int:
    services = system.select(args.only)
    if taken := ports_taken(services, args.port_offset, gateway=args.gateway):
        print(
            f"manage_all.py up: something already listens on {', '.join(map(str, taken))} "
            "(another `up`, or one left running: stop it, or pass --port-offset)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    claim = claim_var_dir()
    if claim is None:
        print(
            f"manage_all.py up: another `up`, or processes one left running, use {var_dir()}; a second copy "
            "needs a VAR_DIR of its own (VAR_DIR=/tmp/second ./manage_all.py up --port-offset 100)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    with claim:
        return _run_claimed(args, services, claim.fileno())


def _run_claimed(args, services, lock_fd: int) -> int:
    if args.gateway and (problem := _gateway_missing()):
        print(f"manage_all.py up --gateway: {problem}", file=sys.stderr, flush=True)
        return 2
    if not args.no_migrate:
        migrate(services, args.settings)
    if not args.no_seed:
        seed_if_empty(services, args.settings)
    supervisor = Supervisor(inherited_fds=(lock_fd,))
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    # A closed terminal (SIGHUP) or Ctrl-\ (SIGQUIT) killed this process before its `finally`,
    # and left every server and worker running: each is a request to stop, as Ctrl-C is.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, request_stop)
    shared_env = _shared_env(args.port_offset)
    try:
        for service in services:
            env = system.service_env(service, args.settings, shared_env)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir(service))
            web = system.web_command(service, args.host, args.port_offset)
            web_env = {**env, "GUNICORN_CONTROL_SOCKET": str(system.control_socket(service))}
            supervisor.start(f"{service.name}.web", web, _named(web_env, service, "web"), cwd=str(system.REPO_ROOT))
            if not args.no_workers:
                worker_env, beat_env = _named(env, service, "worker"), _named(env, service, "beat")
                supervisor.start(
                    f"{service.name}.worker", system.worker_command(service), worker_env, cwd=str(system.REPO_ROOT)
                )
                supervisor.start(
                    f"{service.name}.beat", system.beat_command(service), beat_env, cwd=str(system.REPO_ROOT)
                )
        gateway_url = _start_gateway(supervisor, services, args.port_offset) if args.gateway else None
        if _wait_until_ready(services, supervisor, lambda: stopping, args.port_offset):
            _print_urls(services, gateway_url, args.port_offset)
        while not stopping:
            if supervisor.exited() and not os.environ.get("MANAGE_ALL_KEEP_GOING"):
                names = ", ".join(p.name for p in supervisor.exited())
                print(f"\n{names} stopped; stopping everything.", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\nstopping …", flush=True)
        supervisor.stop()
        print("all processes stopped.", flush=True)


def _named(env: dict[str, str], service: system.Service, role: str) -> dict[str, str]:
    """The process's PostgreSQL sessions carry its name (``application_name``, from libpq's
    ``PGAPPNAME``): ``pg_stat_activity`` and the server's log then tell which process each backend
    serves, ``booking-web`` or ``payment-worker``. A ``PGAPPNAME`` already set wins."""
    return {"PGAPPNAME": f"{service.name}-{role}", **env}


def _fresh_metrics_dir(service: system.Service) -> Path:
    # Counters start at zero with the processes: a previous run's files would be summed in.
    directory = system.metrics_dir(service)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def _shared_env(port_offset: int) -> dict[str, str]:
    """Where the services find each other on this host (the auth service's keys and login)."""
    auth = f"http://127.0.0.1:{8001 + port_offset}"
    env = {"AUTH_JWKS_URL": f"{auth}/api/auth/jwks/", "AUTH_TOKEN_URL": f"{auth}/api/auth/token/"}
    return {name: os.environ.get(name, value) for name, value in env.items()}


def _gateway_missing() -> str | None:
    """Asked before anything starts: a missing nginx would otherwise stop the system half-started."""
    from deploy import gateway

    return gateway.nginx_missing()


def _start_gateway(supervisor: Supervisor, services, port_offset: int) -> str:
    from deploy import gateway

    run_dir = var_dir() / "gateway"
    run_dir.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{8000 + port_offset}"
    upstreams = {service.name: f"127.0.0.1:{service.port + port_offset}" for service in services}
    conf = gateway.render_config("local", run_dir, listen, upstreams=upstreams)
    supervisor.start("gateway", gateway.nginx_command(conf, run_dir), dict(os.environ))
    return f"http://{listen}"


def _wait_until_ready(services, supervisor: Supervisor, stopping, port_offset: int) -> bool:
    """Whether every service answered ready, with nothing exited and no stop asked for meanwhile."""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = {service.name: service for service in services}
    while pending and not stopping() and time.monotonic() < deadline:
        for name, service in list(pending.items()):
            code, _ = health.readiness(service, timeout=1, port_offset=port_offset)
            if code == 200:
                del pending[name]
        if supervisor.exited():
            return False
        time.sleep(0.5)
    if pending and not stopping():
        print(f"not ready after {READY_TIMEOUT}s: {', '.join(pending)}", file=sys.stderr, flush=True)
    return not pending and not stopping() and not supervisor.exited()


def _print_urls(services, gateway_url: str | None, port_offset: int) -> None:
    lines = ["", "The system is up:", ""]
    lines.append(f"  {'service':<13} {'API':<40} {'docs':<44} admin")
    for service in services:
        base = f"http://127.0.0.1:{service.port + port_offset}"
        lines.append(
            f"  {service.name:<13} {base + '/api/' + service.prefix + '/':<40} "
            f"{base + '/api/' + service.prefix + '/docs/':<44} {base}/admin/{service.prefix}/"
        )
    if gateway_url:
        lines.append(f"\n  gateway: {gateway_url}/api/<prefix>/ routes to every service")
    lines.append("\nPress Ctrl-C to stop everything.\n")
    print("\n".join(lines), flush=True)
