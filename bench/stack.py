"""An isolated copy of the whole system for the benchmark, and its teardown.

Nothing here touches what others run on this machine: databases ``bench_<name>`` (fresh each run,
owned by the service's role), RabbitMQ vhost ``bench`` with a user of its own, Redis db 3, ports
8500-8505 (``manage_all.py up --port-offset 500``) and 8509/8510 for the baselines, and a run
directory under /tmp as ``VAR_DIR``. Every process started here is remembered by pid and stopped
by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from common.config.services import SERVICES
from common.testing.processes import stat_fields, stopped
from deploy.cli.provision import provision_roles

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST_PORT = "127.0.0.1:5432"
VHOST = "bench"
REDIS_URL = "redis://127.0.0.1:6379/3"
PORT_OFFSET = 500
HOST = "127.0.0.1"
GATEWAY_PORT = 8000 + PORT_OFFSET
BASELINE_GATEWAY_PORT = 8509
BASELINE_PORT = 8510
BASELINE_DB = "bench_baseline_db"
# Environment variables the bench passes on to the workers for experiments (CELERY_POOL=prefork,
# PAYMENT_EVENT_LANES=8, …).
WORKER_VARIABLES = ("CELERY_CONCURRENCY", "CELERY_POOL", "EVENT_LANES")
# The gateway's per-address limits on login and booking POSTs would turn a load test into a test of
# limit_req (every request comes from 127.0.0.1): raised for the bench, on both gateways alike.
GATEWAY_TUNABLES = {"login_rate": "100000r/s", "login_burst": "100000", "booking_rate": "100000r/s",
                    "booking_burst": "100000"}  # fmt: skip


def bench_database(service) -> str:
    return f"bench_{service.database}"


def psql(sql: str, url: str = ADMIN_URL, *, check: bool = True) -> str:
    done = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"psql failed: {sql[:80]}…: {done.stderr.strip()}")
    return done.stdout.strip()


def db_url(database: str, user: str = "postgres", password: str | None = None) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{PG_HOST_PORT}/{database}"


def rabbitmqctl(*args: str, check: bool = True) -> None:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own localhost URLs
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc), even those in sessions of their own."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid: int) -> int:
    if not (fields := stat_fields(pid)):
        return 0
    # utime + stime, plus cutime + cstime: the CPU of children it has reaped, such as the gunicorn
    # workers recycled after GUNICORN_MAX_REQUESTS, which would otherwise vanish from the sums.
    return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])


SHARED_SERVERS = {"rabbitmq (shared)": {"beam.smp"}, "redis (shared)": {"redis-server"}}


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class Stack:
    """Set up with :meth:`start`; :meth:`stop` always undoes whatever was done, in reverse."""

    def __init__(self, run_dir: Path, *, log=print):
        self.run_dir = run_dir
        self.log = log
        self.password = "bench-" + secrets.token_hex(12)  # not a dev password (trust auth ignores it)
        self.rabbit_user = "bench_" + secrets.token_hex(4)
        self.rabbit_password = secrets.token_hex(16)
        self.key_id = "bench-" + secrets.token_hex(4)
        self.key_file = run_dir / "jwt-private.pem"
        self.processes: dict[str, subprocess.Popen] = {}
        self.known_pids: set[int] = set()
        self._backend_ticks: dict[int, int] = {}  # last seen CPU ticks of each backend, gone or not
        self._undo: list[tuple[str, callable]] = []

    # --- environment -----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        for service in SERVICES.values():
            env[service.database_url_var] = db_url(bench_database(service), service.db_user, self.password)
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            VAR_DIR=str(self.run_dir / "var"),
            CELERY_BROKER_URL=f"amqp://{self.rabbit_user}:{self.rabbit_password}@127.0.0.1:5672/{VHOST}",
            REDIS_URL=REDIS_URL,
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48)[:64],
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            AUTH_JWT_PRIVATE_KEY_FILE=str(self.key_file),
            AUTH_JWT_KEY_ID=self.key_id,
            AUTH_NUM_PROXIES="1",
            PAYMENT_WEBHOOK_SECRETS=secrets.token_hex(32),
            # 2 cores, 5 services and the baselines: 2 processes x 4 threads each (the gunicorn
            # default threads), the same for the baseline project.
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="4",
            MANAGE_ALL_KEEP_GOING="1",
            NO_COLOR="1",
            BASELINE_DATABASE_URL=db_url(BASELINE_DB, "postgres", self.password),
        )
        # Experiments: GUNICORN_* set for the bench (e.g. GUNICORN_MAX_REQUESTS=0) apply to all, and
        # Celery pools and their sizes (CELERY_POOL=prefork, PAYMENT_CELERY_CONCURRENCY=2, …) and the event
        # lanes (EVENT_LANES=8) to their workers.
        env.update(
            {
                name: value
                for name, value in os.environ.items()
                if name.startswith("GUNICORN_") or name.endswith(WORKER_VARIABLES)
            }
        )
        # Minted and real tokens must outlive the run (the default access lifetime is 5 minutes).
        env["AUTH_ACCESS_TOKEN_LIFETIME_SECONDS"] = "3600"  # noqa: S105 - a lifetime, not a secret
        env.update({f"GATEWAY_{name.upper()}": value for name, value in GATEWAY_TUNABLES.items()})
        self._env = env
        return env

    # --- setup -------------------------------------------------------------------------------

    def start(self) -> dict[str, str]:
        busy = [
            p for p in [GATEWAY_PORT, *range(8501, 8506), BASELINE_GATEWAY_PORT, BASELINE_PORT] if not port_is_free(p)
        ]
        if busy:
            raise RuntimeError(f"ports already in use: {busy} (another bench running?)")
        (self.run_dir / "var").mkdir(parents=True, exist_ok=True)
        self._write_key()
        env = self.env()
        self._setup_rabbitmq()
        self._setup_databases()
        self._flush_redis()
        self._undo.append(("flush redis db 3", self._flush_redis))
        self._start_system(env)
        self._start_baseline(env)
        return env

    def _write_key(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.key_file.write_bytes(pem)
        self.key_file.chmod(0o600)

    def _setup_rabbitmq(self) -> None:
        rabbitmqctl("delete_vhost", VHOST, check=False)  # a leftover of a killed run
        rabbitmqctl("add_vhost", VHOST)
        self._undo.append(("delete vhost", lambda: rabbitmqctl("delete_vhost", VHOST, check=False)))
        # Production settings refuse guest (a development password): a user of this run's own.
        rabbitmqctl("add_user", self.rabbit_user, self.rabbit_password)
        self._undo.append(("delete rabbit user", lambda: rabbitmqctl("delete_user", self.rabbit_user, check=False)))
        rabbitmqctl("set_permissions", "-p", VHOST, self.rabbit_user, ".*", ".*", ".*")

    def _setup_databases(self) -> None:
        # The bench's databases belong to the services' roles: on a fresh server, create them first.
        provision_roles(ADMIN_URL)
        owners = [(bench_database(s), s.db_user) for s in SERVICES.values()] + [(BASELINE_DB, "postgres")]
        for database, owner in owners:
            psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            psql(f'CREATE DATABASE "{database}" OWNER "{owner}"')
            self._undo.append(
                (f"drop {database}", lambda d=database: psql(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)'))
            )
        schema = (Path(__file__).parent / "baseline" / "schema.sql").read_text()
        subprocess.run(["psql", db_url(BASELINE_DB), "-qAt", "-v", "ON_ERROR_STOP=1"], input=schema, text=True,
                       check=True, capture_output=True)  # fmt: skip

    def add_contacts(self, identities) -> None:
        """Contacts of the bench's minted users (``plans.Identity``) in the notification database,
        as ``auth.user.registered`` would have left them long before: one COPY, a few ms for
        thousands. Dated 2000-01-01, so any real update of the user's contact is newer."""
        import psycopg

        sql = "COPY notifications_contact (user_id, email, full_name, updated_at) FROM STDIN"
        database = db_url(bench_database(SERVICES["notification"]))
        with psycopg.connect(database) as connection, connection.cursor() as cursor, cursor.copy(sql) as copy:
            for identity in identities:
                copy.write_row((identity.user_id, identity.email, "", "2000-01-01T00:00:00Z"))

    def _flush_redis(self) -> None:
        import redis

        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(REDIS_URL, socket_timeout=3).flushdb()

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.run_dir / f"{name}.log").open("w")
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def _start_system(self, env: dict[str, str]) -> None:
        self.log("starting the system (migrations first) …")
        command = [PYTHON, "manage_all.py", "up", "--gateway", "--port-offset", str(PORT_OFFSET),
                   "--settings", "production", "--no-seed"]  # fmt: skip
        self._spawn("system", command, env)
        self._undo.append(("stop the system", lambda: self._stop_process("system")))
        deadline = time.monotonic() + 240
        urls = [f"http://127.0.0.1:{s.port + PORT_OFFSET}/health/ready/" for s in SERVICES.values()]
        urls.append(f"http://127.0.0.1:{GATEWAY_PORT}/gateway/health")
        while time.monotonic() < deadline:
            if self.processes["system"].poll() is not None:
                raise RuntimeError(f"manage_all.py up exited; see {self.run_dir / 'system.log'}")
            if all(http_status(url) == 200 for url in urls):
                break
            time.sleep(1)
        else:
            raise RuntimeError(f"the system was not ready in 240 s; see {self.run_dir / 'system.log'}")
        self.log("seeding the catalogue …")
        subprocess.run([PYTHON, "manage_all.py", "seed", "--settings", "production"], env=env, cwd=REPO_ROOT,
                       check=True, capture_output=True)  # fmt: skip

    def _start_baseline(self, env: dict[str, str]) -> None:
        from deploy import gateway

        baseline_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.baseline.settings"}
        command = [PYTHON, "-m", "gunicorn", "bench.baseline.wsgi:application",
                   "-c", str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
                   "--bind", f"127.0.0.1:{BASELINE_PORT}"]  # fmt: skip
        self._spawn("baseline", command, baseline_env)
        self._undo.append(("stop the baseline", lambda: self._stop_process("baseline")))
        run_dir = self.run_dir / "baseline-gateway"
        upstreams = dict.fromkeys(gateway.SERVICE_PORTS, f"127.0.0.1:{BASELINE_PORT}")
        conf = gateway.render_config(
            "local", run_dir, f"127.0.0.1:{BASELINE_GATEWAY_PORT}", upstreams=upstreams, **GATEWAY_TUNABLES
        )
        self._spawn("baseline-gateway", gateway.nginx_command(conf, run_dir), env)
        self._undo.append(("stop the baseline gateway", lambda: self._stop_process("baseline-gateway")))
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{BASELINE_GATEWAY_PORT}/api/movies/baseline/floor/"
        while http_status(url) != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the baseline did not start; see {self.run_dir / 'baseline.log'}")
            time.sleep(0.5)

    # --- while running -------------------------------------------------------------------------

    def pids(self) -> dict[str, list[int]]:
        """Every process of the stack by role (web, worker, beat, gateway, baseline, manage_all)."""
        groups: dict[str, list[int]] = {}
        for name, process in self.processes.items():
            if process.poll() is not None:
                continue
            for pid in descendants(process.pid):
                self.known_pids.add(pid)
                cmd = command_name(pid)
                service = next((s.name for s in SERVICES.values() if f"{s.package}" in cmd), "other")
                if name != "system":
                    role = name
                elif "gunicorn" in cmd:
                    role = f"{service} web"
                elif " worker" in cmd:
                    role = f"{service} worker"
                elif " beat" in cmd:
                    role = f"{service} beat"
                elif "nginx" in cmd:
                    role = "gateway (nginx)"
                else:
                    role = "manage_all.py up"
                groups.setdefault(role, []).append(pid)
        return groups

    @contextlib.contextmanager
    def saga_paused(self):
        """Every service's Celery worker and beat stopped (SIGSTOP) meanwhile, continued after.

        What still runs is the web tier, the gateway and the servers: a booking POST's own path.
        Its ``booking.created`` events leave with the web process's relay thread and wait in
        RabbitMQ; the workers take them up where they stopped once continued.
        """
        roles = {f"{service.name} {kind}" for service in SERVICES.values() for kind in ("worker", "beat")}
        with stopped([pid for role, found in self.pids().items() if role in roles for pid in found]) as pids:
            yield pids

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far per role, and by the bench databases' backends."""
        tick = os.sysconf("SC_CLK_TCK")
        totals = {role: sum(cpu_ticks(p) for p in pids) / tick for role, pids in self.pids().items()}
        backends = psql("SELECT pid FROM pg_stat_activity WHERE datname LIKE 'bench\\_%'", check=False).split()
        self._backend_ticks.update({int(p): cpu_ticks(int(p)) for p in backends if p.isdigit()})
        totals["postgres backends"] = sum(self._backend_ticks.values()) / tick
        # The broker and the cache serve the whole machine, but on an idle machine what they spend
        # during a phase is this run's; without them a booking's cost would look smaller than it is.
        for role, names in SHARED_SERVERS.items():
            pids = [pid for pid in _all_pids() if command_name(pid).split(" ", 1)[0].rsplit("/", 1)[-1] in names]
            totals[role] = sum(cpu_ticks(pid) for pid in pids) / tick
        return totals

    def memory(self) -> dict:
        """Sum of RSS (MiB) per role, plus the PostgreSQL backends serving the bench databases."""
        by_role = {role: round(sum(rss_kib(p) for p in pids) / 1024, 1) for role, pids in self.pids().items()}
        backends = psql("SELECT pid FROM pg_stat_activity WHERE datname LIKE 'bench\\_%'", check=False).split()
        postgres = round(sum(rss_kib(int(p)) for p in backends if p.isdigit()) / 1024, 1)
        return {
            "stack_rss_mib": round(sum(by_role.values()), 1),
            "by_role_mib": by_role,
            "processes": sum(len(p) for p in self.pids().values()),
            "postgres_backends_rss_mib": postgres,
            "postgres_backends": len(backends),
        }

    # --- teardown --------------------------------------------------------------------------------

    def _stop_process(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None:
            return
        pids = set(descendants(process.pid)) | (self.known_pids if name == "system" else set())
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)  # `up` stops its supervised processes itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(40)
        for pid in pids:  # whatever survived, by pid
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)

    def stop(self) -> list[str]:
        problems = []
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except Exception as error:
                problems.append(f"{what}: {error}")
        self.log("torn down: databases dropped, vhost and user deleted, processes stopped")
        return problems


def showtime_plan() -> list[dict]:
    """The showtimes the booking service knows, 90 minutes ahead or more, with their priced seats
    that no live booking holds (a phase after the capacity phases plans afresh from here: those
    plan far more requests than they manage to send)."""
    url = db_url(bench_database(SERVICES["booking"]))
    query = (
        "SELECT json_agg(json_build_object('id', id, 'seats', seats, 'prices', prices)) FROM bookings_showtimereplica"
        " WHERE has_snapshot AND status = 'scheduled' AND starts_at > now() + interval '90 minutes'"
    )
    showtimes = json.loads(psql(query, url) or "null") or []
    held = set(psql("SELECT showtime_id || ' ' || label FROM bookings_bookingseat WHERE is_live", url).splitlines())
    for showtime in showtimes:
        showtime["labels"] = [
            seat["label"]
            for seat in showtime["seats"]
            if seat["category"] in showtime["prices"] and f"{showtime['id']} {seat['label']}" not in held
        ]
    return showtimes
