"""``make bench``: the whole system under open-loop load, with its baselines, in one run.

    .venv/bin/python -m bench.run [--scale 1.0] [--profile] [--phases saga,booking_post_alone] [--saga-rate N]

Starts an isolated copy of the system (bench/stack.py) with production settings behind NGINX,
drives fixed-rate load at the seat map, the movie list, booking creation and the booking saga, and
in the same run measures the baselines on the same gateway and gunicorn settings: a bare Django
view returning fixed JSON (framework floor), a bare Django view running the seat-hold SQL, and
pgbench running that SQL (database limit). Then booking creation again with every worker stopped
(the POST's own path) and the saga alone on the backlog that leaves. Prints a summary and saves
bench/results/<stamp>.json and .md. Tears everything down at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import jwt

from bench import load
from bench.stack import (
    BASELINE_DB,
    BASELINE_GATEWAY_PORT,
    CELERY_POOL_VARIABLES,
    GATEWAY_PORT,
    PORT_OFFSET,
    SERVICES,
    Stack,
    bench_database,
    db_url,
    psql,
    showtime_plan,
)

RESULTS = Path(__file__).resolve().parent / "results"
HOST = "127.0.0.1"
SEATS_PER_BOOKING = 2
TARGETS = {
    "seat_map_vs_floor": 0.50,
    "booking_post_vs_hold_view": 0.40,
    "booking_post_rate": 150,
    "booking_post_p99_ms": 100,
    "saga_rate": 50,
    "saga_p95_ms": 500,
    "saga_p99_ms": 1000,
}
# Each measured phase starts on a quiet machine: what the last one left behind (requests the client
# cut off but a server still has queued, PostgreSQL's autovacuum after pgbench's 20,000 inserts)
# would otherwise run into it. The idle stack itself uses ~0.06 cores (beats, sweeps).
QUIET_CORES = 0.25
QUIET_MAX_WAIT_SECONDS = 30.0  # a machine busy with something else: each phase waits this long, logged


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)


# --- users and tokens ----------------------------------------------------------------------------


class Tokens:
    """Real users registered through the API, and per-request users signed with the run's key.

    Registering thousands of users through the API is thousands of Argon2 hashes (~0.1 s of CPU
    each): minutes on this machine. So a handful of users register and sign in for real, and each
    booking request gets a distinct user whose token is signed with the auth service's own key of
    this run, with exactly the header and claims of a real token (checked against one below).
    """

    def __init__(self, key_file: Path, real_token: str):
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        # Parsed once: PyJWT would parse (and check) the PEM again for every token, ~30 ms each.
        self.key = load_pem_private_key(key_file.read_bytes(), password=None)
        self.header = jwt.get_unverified_header(real_token)
        self.claims = jwt.decode(real_token, options={"verify_signature": False})

    def mint(self, index: int) -> str:
        now = int(time.time())
        lifetime = self.claims["exp"] - self.claims["iat"]
        claims = {
            **self.claims,
            "user_id": str(uuid.uuid4()),
            "email": f"bench-{index}@example.com",
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm=self.header["alg"], headers={"kid": self.header["kid"]})


async def register_users(client: load.Client, count: int) -> list[str]:
    password = "Bench-" + uuid.uuid4().hex
    run = uuid.uuid4().hex[:8]

    async def one(index: int) -> str:
        email = f"bench-{run}-{index}@example.com"
        body = json.dumps({"email": email, "password": password, "full_name": f"Bench User {index}"}).encode()
        status, answer = await client.request(load.Request("POST", "/api/auth/register/", body=body))
        if status != 201:
            raise RuntimeError(f"register answered {status}: {answer[:200]!r}")
        body = json.dumps({"email": email, "password": password}).encode()
        status, answer = await client.request(load.Request("POST", "/api/auth/token/", body=body))
        if status != 200:
            raise RuntimeError(f"token answered {status}: {answer[:200]!r}")
        return json.loads(answer)["access"]

    # One at a time: concurrent first requests to a fresh gthread worker can deadlock on a lazy
    # import (seen: auth's login limits importing redis; see docs/performance.md).
    return [await one(index) for index in range(count)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


# --- request plans ---------------------------------------------------------------------------------


class SeatPlanner:
    """Distinct seats for every booking, spread round-robin over all showtimes."""

    def __init__(self, showtimes: list[dict]):
        self.queues = []
        for showtime in showtimes:
            labels = showtime["labels"]
            pairs = [labels[i : i + SEATS_PER_BOOKING] for i in range(0, len(labels) - SEATS_PER_BOOKING + 1, 2)]
            self.queues.append((showtime["id"], pairs))
        self._cycle = itertools.cycle(range(len(self.queues)))
        self.capacity = sum(len(pairs) for _, pairs in self.queues)

    @property
    def remaining(self) -> int:
        return sum(len(pairs) for _, pairs in self.queues)

    def next(self) -> tuple[str, list[str]]:
        for _ in range(len(self.queues)):
            showtime_id, pairs = self.queues[next(self._cycle)]
            if pairs:
                return showtime_id, pairs.pop()
        raise RuntimeError("out of seats: seed more days of showtimes")


def booking_requests(count: int, planner: SeatPlanner, tokens: Tokens, offset: int) -> list[load.Request]:
    requests = []
    for index in range(count):
        showtime_id, seats = planner.next()
        token = tokens.mint(offset + index)
        body = {"showtime_id": showtime_id, "seats": seats, "payment_method": "pm_card_visa"}
        requests.append(
            load.Request("POST", "/api/bookings/", bearer(token), json.dumps(body).encode(), tag={"token": token})
        )
    return requests


# --- a quiet machine between phases --------------------------------------------------------------


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


# --- phases -----------------------------------------------------------------------------------------


STACK: Stack | None = None  # set by measure(): run_phase charges each phase's CPU to its requests


def run_phase(name: str, port: int, requests: list[load.Request], rate: float, seconds: float, **kw) -> tuple:
    log(f"{name}: {len(requests)} requests at {rate:g}/s (≤ {seconds:g} s)")
    stack_cpu_before = STACK.cpu_seconds() if STACK else {}

    async def go():
        client = load.Client(HOST, port, max_connections=kw.pop("max_connections", 256))
        try:
            return await load.open_loop(client, requests, rate=rate, max_seconds=seconds, **kw)
        finally:
            client.close()

    cpu_before = time.process_time()
    results, meta = asyncio.run(go())
    summary = load.summarise(results, meta)
    # The load generator shares the 2 cores: near 100% here means the client was the limit.
    if STACK:
        # CPU ms per successful answer, by role (includes background work such as the saga and the
        # outbox sweeps running meanwhile): where a request's cost goes on this machine.
        after = STACK.cpu_seconds()
        used = {role: after[role] - stack_cpu_before.get(role, 0.0) for role in after}
        summary["cpu_ms_per_ok"] = {
            role: round(1000 * value / max(summary["ok"], 1), 2)
            for role, value in sorted(used.items(), key=lambda item: -item[1])
            if value >= 0.05
        }
    summary["client_cpu_percent"] = round(
        100 * (time.process_time() - cpu_before) / max(meta["end"] - meta["start"], 1e-9)
    )
    log(
        f"  → {summary['throughput']}/s ok, p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"p99 {summary['p99_ms']} ms, errors {summary['errors'] or 0}"
    )
    return results, summary


def pgbench(seconds: int, clients: int, run_dir: Path) -> dict:
    """The seat-hold SQL at full speed (closed loop: the database's own limit), 8 clients like the
    baseline's 2 gunicorn processes x 4 threads."""
    script = Path(__file__).parent / "baseline" / "seat_hold.sql"
    prefix = run_dir / "pgbench"
    log(f"pgbench: seat-hold SQL, {clients} clients, {seconds} s")
    # An empty table as the view's phase had: its holds would be in the way of random labels (and
    # pgbench aborts a client at its first unique violation).
    subprocess.run(
        ["psql", db_url(BASELINE_DB), "-qAt", "-c", "TRUNCATE hold_seat, hold_booking"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    done = subprocess.run(
        ["pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", "2", "-T", str(seconds),
         "-l", "--log-prefix", str(prefix), db_url(BASELINE_DB)],
        capture_output=True, text=True, cwd=run_dir, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    latencies = []
    for log_file in run_dir.glob("pgbench.*"):
        for line in log_file.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                latencies.append(int(parts[2]) / 1e6)
    latencies.sort()
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)

    def ms(fraction):
        value = load.percentile(latencies, fraction)
        return None if value is None else round(value * 1000, 2)

    summary = {
        "clients": clients,
        "transactions": len(latencies),
        "throughput": round(float(tps.group(1)), 1) if tps else None,
        "p50_ms": ms(0.5),
        "p95_ms": ms(0.95),
        "p99_ms": ms(0.99),
        "errors": {},
    }
    log(f"  → {summary['throughput']}/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms")
    return summary


def wait_until_final(booking_ids: list[str], timeout: float) -> dict[str, int]:
    """Poll the bench booking database until none of these bookings is pending (bounded)."""
    url = db_url(bench_database(SERVICES["booking"]))
    deadline = time.monotonic() + timeout
    ids = ",".join(f"'{uuid.UUID(i)}'" for i in booking_ids) or "NULL"  # UUIDs only: safe to inline
    query = f"SELECT status, count(*) FROM bookings_booking WHERE id IN ({ids}) GROUP BY status"  # noqa: S608
    while True:
        rows = psql(query, url)
        counts = {status: int(n) for status, n in (row.split("|") for row in rows.splitlines() if row)}
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def wait_for_backlog(timeout: float, poll_seconds: float = 2.0) -> dict[str, int]:
    url = db_url(bench_database(SERVICES["booking"]))
    deadline = time.monotonic() + timeout
    while True:
        rows = psql("SELECT status, count(*) FROM bookings_booking GROUP BY status", url)
        counts = {status: int(n) for status, n in (row.split("|") for row in rows.splitlines() if row)}
        if not counts.get("pending") or time.monotonic() > deadline:
            return counts
        time.sleep(poll_seconds)


def saga_latencies(results: list[load.Result]) -> tuple[list[float], list[float], dict[str, int]]:
    """Seconds from each booking's scheduled POST to its ``confirmed`` timeline entry (via the API),
    and from its ``created`` entry to ``confirmed`` (the saga alone, without the POST's queueing)."""
    created = [(r, r.json()) for r in results if r.status == 201]

    async def go():
        client = load.Client(HOST, GATEWAY_PORT, max_connections=8)
        semaphore = asyncio.Semaphore(8)

        async def one(result, booking):
            async with semaphore:
                request = load.Request("GET", f"/api/bookings/{booking['id']}/", bearer(result.request.tag["token"]))
                status, body = await client.request(request)
            return result, status, body

        try:
            return await asyncio.gather(*(one(r, b) for r, b in created))
        finally:
            client.close()

    latencies, after_created, outcomes = [], [], {}
    for result, status, body in asyncio.run(go()):
        if status != 200:
            outcomes[f"detail {status}"] = outcomes.get(f"detail {status}", 0) + 1
            continue
        detail = json.loads(body)
        outcomes[detail["status"]] = outcomes.get(detail["status"], 0) + 1
        confirmed = [e for e in detail["timeline"] if e["to_status"] == "confirmed"]
        if confirmed:
            at = dt.datetime.fromisoformat(confirmed[0]["at"]).timestamp()
            latencies.append(at - result.scheduled)
            created = dt.datetime.fromisoformat(detail["timeline"][0]["at"]).timestamp()
            after_created.append(at - created)
    return sorted(latencies), sorted(after_created), outcomes


def integrity() -> dict:
    """Seats held by two live bookings, and bookings with more than one payment."""
    booking_db = db_url(bench_database(SERVICES["booking"]))
    double_booked = psql(
        "SELECT count(*) FROM (SELECT s.showtime_id, s.label FROM bookings_bookingseat s"
        " JOIN bookings_booking b ON b.id = s.booking_id WHERE b.status IN ('pending', 'confirmed')"
        " GROUP BY s.showtime_id, s.label HAVING count(*) > 1) AS twice",
        booking_db,
    )
    double_charged = psql(
        "SELECT count(*) FROM (SELECT booking_id FROM payments_payment GROUP BY booking_id HAVING count(*) > 1) AS t",
        db_url(bench_database(SERVICES["payment"])),
    )
    statuses = psql("SELECT status, count(*) FROM bookings_booking GROUP BY status ORDER BY status", booking_db)
    return {
        "double_booked_seats": int(double_booked),
        "bookings_with_two_payments": int(double_charged),
        "bookings_by_status": {s: int(n) for s, n in (row.split("|") for row in statuses.splitlines() if row)},
    }


def saga_stages(booking_ids: list[str]) -> dict:
    """Where the saga's time goes, per confirmed booking, from both databases' own timestamps.

    created → payment row (booking.created relayed and applied by payment) → payment succeeded
    (the charge task queued, run and recorded) → booking confirmed (payment.succeeded relayed and
    applied by booking). Percentiles in ms.
    """
    if not booking_ids:
        return {}
    ids = ",".join(f"'{uuid.UUID(booking_id)}'" for booking_id in booking_ids)  # UUIDs only, so no quoting issue
    confirmed_sql = (
        "SELECT b.id, extract(epoch FROM b.created_at), extract(epoch FROM t.at) FROM bookings_booking b"
        " JOIN bookings_bookingtransition t ON t.booking_id = b.id AND t.to_status = 'confirmed'"
        " WHERE b.id IN ({ids})"
    )
    paid_sql = (
        "SELECT booking_id, extract(epoch FROM created_at), extract(epoch FROM updated_at) FROM payments_payment"
        " WHERE status = 'succeeded' AND booking_id IN ({ids})"
    )
    bookings = psql(confirmed_sql.format(ids=ids), db_url(bench_database(SERVICES["booking"])))
    payments = psql(paid_sql.format(ids=ids), db_url(bench_database(SERVICES["payment"])))
    paid = {row.split("|")[0]: [float(x) for x in row.split("|")[1:]] for row in payments.splitlines() if row}
    stages: dict[str, list[float]] = {"to_payment_created": [], "to_payment_succeeded": [], "to_confirmed": []}
    for row in bookings.splitlines():
        booking_id, created, confirmed = row.split("|")
        if booking_id not in paid:
            continue
        payment_created, payment_succeeded = paid[booking_id]
        stages["to_payment_created"].append(payment_created - float(created))
        stages["to_payment_succeeded"].append(payment_succeeded - payment_created)
        stages["to_confirmed"].append(float(confirmed) - payment_succeeded)

    def summary(values):
        values = sorted(values)
        return {f"p{int(q * 100)}": round(1000 * load.percentile(values, q), 1) for q in (0.5, 0.95, 0.99)}

    return {stage: summary(values) for stage, values in stages.items() if values}


class MemorySampler(threading.Thread):
    def __init__(self, stack: Stack):
        super().__init__(daemon=True)
        self.stack = stack
        self.peak: dict = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(2):
            try:
                sample = self.stack.memory()
            except Exception:  # noqa: S112 - a process exiting mid-sample; try again
                continue
            if sample["stack_rss_mib"] > self.peak.get("stack_rss_mib", 0):
                self.peak = sample


def profile(pids: list[int], seconds: int, run_dir: Path, name: str, *, gil: bool = False) -> list[Path]:
    """py-spy on the given processes while load runs (``--profile``); with ``gil``, only samples that
    hold the GIL (CPU, not waiting on the database or the broker)."""
    spy = py_spy()
    outputs = []
    for pid in pids:
        output = run_dir / f"profile-{name}-{pid}.txt"
        subprocess.Popen(
            [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(output),
             "--nonblocking", *(["--gil"] if gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        outputs.append(output)
    return outputs


# Frames worth ranking by inclusive share: our code, and the libraries it spends its time in.
HOT_FRAME_PARTS = ("_service/", "common/", "psycopg/connection.py", "amqp/", "jwt/", "kombu/", "celery/app/trace.py")

# The processes a booking's saga runs in after its POST (``--profile`` samples them in the saga phase).
SAGA_ROLES = ("booking web", "booking worker", "payment worker", "notification worker")


def hot_frames(outputs: list[Path], top: int = 12, marker: str | None = "handle_request") -> dict:
    """Where the sampled threads were: our code and the libraries it waits in (inclusive share of
    samples), and the innermost frames (self share). Only stacks through ``marker`` count (for web
    workers, requests: not the master or the relay thread); ``None`` counts every busy sample."""
    inclusive: dict[str, int] = {}
    innermost: dict[str, int] = {}
    total = 0
    for output in outputs:
        if not output.exists():
            continue
        for line in output.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if not samples.isdigit() or (marker and marker not in stack):
                continue  # idle threads and the gunicorn master
            count = int(samples)
            total += count
            frames = stack.split(";")
            innermost[frames[-1]] = innermost.get(frames[-1], 0) + count
            for frame in set(frames):
                if any(part in frame for part in HOT_FRAME_PARTS):
                    inclusive[frame] = inclusive.get(frame, 0) + count

    def ranked(counts):
        items = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [(frame, round(100 * n / max(total, 1), 1)) for frame, n in items]

    return {"samples": total, "inclusive": ranked(inclusive), "innermost": ranked(innermost)}


# --- the run ------------------------------------------------------------------------------------------


PHASES = (
    "idle", "floor", "seat_map", "seat_map_service", "movie_list", "hold_view", "pgbench", "saga", "booking_post",
    "booking_post_alone",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every phase's duration")
    parser.add_argument("--read-rate", type=float, default=2000, help="offered rate of the read phases")
    parser.add_argument("--write-rate", type=float, default=1500, help="offered rate of the write capacity phases")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the booking web workers, and the saga's processes, under load"
    )
    parser.add_argument("--saga-rate", type=float, default=None, help="bookings per second of the saga phase")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all; the targets need all)",
    )
    args = parser.parse_args(argv)
    args.phases = {name.strip() for name in args.phases.split(",") if name.strip()}
    if args.phases - set(PHASES):
        parser.error(f"unknown phase(s): {', '.join(sorted(args.phases - set(PHASES)))}")
    missing = missing_tools(args.phases, profile=args.profile)
    if missing:
        parser.error("missing: " + "; ".join(missing))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{stamp}-"))
    log(f"run directory {run_dir}")
    stack = Stack(run_dir, log=log)
    report: dict = {"started_at": stamp, "machine": machine()}
    try:
        stack.start()
        report.update(measure(stack, run_dir, args))
    except KeyboardInterrupt:
        log("interrupted; tearing down")
        report["error"] = "interrupted"
    except Exception as error:
        log(f"FAILED: {error}")
        report["error"] = str(error)
    finally:
        report["teardown_problems"] = stack.stop()
    report["finished_at"] = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    summary = markdown(report)
    (RESULTS / f"{stamp}.md").write_text(summary)
    print("\n" + summary)
    log(f"saved {RESULTS / (stamp + '.json')} and .md (logs in {run_dir})")
    return 1 if report.get("error") else 0


def missing_tools(phases: set[str], *, profile: bool) -> list[str]:
    """What this run would fail on minutes in, said before anything starts."""
    from deploy import gateway

    missing = [problem] if (problem := gateway.nginx_missing()) else []
    if not shutil.which("psql"):
        missing.append("psql is not installed (Debian: apt-get install postgresql-client)")
    if "pgbench" in phases and not shutil.which("pgbench"):
        missing.append("pgbench is not installed (Debian: it comes with the postgresql package)")
    if profile and not py_spy():
        missing.append("py-spy is not installed (make bench installs requirements/bench.txt)")
    return missing


def py_spy() -> str | None:
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


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


def measure(stack: Stack, run_dir: Path, args) -> dict:
    global STACK  # one run per process
    STACK = stack
    scale = args.scale
    log("waiting until the booking service knows every showtime …")
    movie_db = db_url(bench_database(SERVICES["movie"]))
    booking_db = db_url(bench_database(SERVICES["booking"]))
    deadline = time.monotonic() + 120
    while True:
        published = int(psql("SELECT count(*) FROM showtimes_showtime", movie_db))
        known = int(psql("SELECT count(*) FROM bookings_showtimereplica WHERE has_snapshot", booking_db))
        if published and known >= published:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"booking knows {known} of {published} showtimes after 120 s")
        time.sleep(1)
    showtimes = showtime_plan()
    planner = SeatPlanner(showtimes)
    log(f"{known} showtimes replicated; {len(showtimes)} bookable, {planner.capacity} seat pairs")

    client = load.Client(HOST, GATEWAY_PORT, max_connections=8)
    users = asyncio.run(register_users(client, 8))
    client.close()
    tokens = Tokens(stack.key_file, users[0])
    movie_list = "/api/movies/"
    seat_map = [f"/api/bookings/showtimes/{s['id']}/seats/" for s in showtimes]

    sampler = MemorySampler(stack)
    sampler.start()
    phases: dict[str, dict] = {}
    quiet_waits: dict[str, float] = {}

    def quiet(phase: str) -> None:
        quiet_waits[phase] = wait_until_quiet()

    def reads(paths, n):
        return [load.Request("GET", paths[i % len(paths)], bearer(users[i % len(users)])) for i in range(n)]

    # Warm-up: every process imports lazily, opens its database connection, fills its caches.
    # First one request at a time (see register_users), then at a modest fixed rate.
    sequential = reads(seat_map, 16) + reads([movie_list], 16)
    sequential += booking_requests(16, planner, tokens, 3 * 10**6)
    run_phase("warm-up (sequential)", GATEWAY_PORT, sequential, 1000, 5, max_connections=1)
    run_phase("warm-up", GATEWAY_PORT, reads(seat_map, 200) + reads([movie_list], 200), 100, 5)
    run_phase("warm-up baseline", BASELINE_GATEWAY_PORT,
              reads(["/api/movies/baseline/floor/"], 200), 100, 3)  # fmt: skip
    hold = [load.Request("POST", "/api/bookings/baseline/hold/", body=b"{}") for _ in range(100)]
    run_phase("warm-up baseline hold", BASELINE_GATEWAY_PORT, hold, 50, 3)

    seconds = 6 * scale
    n_reads = int(args.read_rate * seconds)
    n_writes = int(args.write_rate * seconds)

    def capacity(name, port, requests, rate):
        # Offered above what the server sustains: what arrives within the window is its capacity;
        # what has not been answered 3 s after the window is cut off (at most max_connections).
        return run_phase(name, port, requests, rate, seconds, drain_seconds=3)[1]

    if "idle" in args.phases:
        quiet("idle")
        phases["idle"] = idle_phase(10 * scale)
    if "floor" in args.phases:
        quiet("framework_floor")
        floor = reads(["/api/movies/baseline/floor/"], n_reads)
        phases["framework_floor"] = capacity(
            "framework floor (bare Django)", BASELINE_GATEWAY_PORT, floor, args.read_rate
        )
    hot: dict[str, dict] = {}

    def booking_web_pids():
        return stack.pids().get("booking web", [])

    if "seat_map" in args.phases:
        quiet("seat_map")
        requests = reads(seat_map, n_reads)
        outputs = profile(booking_web_pids(), int(seconds) + 2, run_dir, "seat-map") if args.profile else []
        phases["seat_map"] = capacity("seat map", GATEWAY_PORT, requests, args.read_rate)
        if outputs:
            time.sleep(1)
            hot["seat_map"] = hot_frames(outputs)
    if "seat_map_service" in args.phases:
        quiet("seat_map_service")
        # The same reads straight to the booking service, past the gateway's one-second cache: what
        # the service itself sustains (every request renders the seat map from the database).
        service_port = SERVICES["booking"].port + PORT_OFFSET
        phases["seat_map_service"] = capacity(
            "seat map, service without the gateway cache", service_port, reads(seat_map, n_reads), args.read_rate
        )
    if "movie_list" in args.phases:
        quiet("movie_list")
        phases["movie_list"] = capacity("movie list", GATEWAY_PORT, reads([movie_list], n_reads), args.read_rate)
    if "hold_view" in args.phases:
        quiet("seat_hold_view")
        hold = [load.Request("POST", "/api/bookings/baseline/hold/", body=b"{}") for _ in range(n_writes)]
        phases["seat_hold_view"] = capacity("bare seat-hold view", BASELINE_GATEWAY_PORT, hold, args.write_rate)
    if "pgbench" in args.phases:
        quiet("pgbench_seat_hold")
        phases["pgbench_seat_hold"] = pgbench(max(4, int(seconds)), 8, run_dir)
    if "saga" in args.phases:
        quiet("saga")
        phases["saga"] = saga_phase(planner, tokens, scale, args.saga_rate, run_dir if args.profile else None)
        hot.update(phases["saga"].pop("hot_frames", {}))
    if "booking_post" in args.phases:
        quiet("booking_post_at_target")
        rate = TARGETS["booking_post_rate"]
        _, phases["booking_post_at_target"] = run_phase(
            "booking POST at 150/s", GATEWAY_PORT,
            booking_requests(int(rate * seconds), planner, tokens, 10**6), rate, seconds, drain_seconds=30,
        )  # fmt: skip
        # Far more is offered than is answered; what is left of the catalogue's seats is plenty (the
        # day's showtimes that have started are gone, so late in the day there are fewer).
        requests = booking_requests(min(n_writes, planner.remaining), planner, tokens, 2 * 10**6)
        quiet("booking_post_capacity")
        outputs = profile(booking_web_pids(), int(seconds) + 2, run_dir, "booking-post") if args.profile else []
        phases["booking_post_capacity"] = capacity("booking POST capacity", GATEWAY_PORT, requests, args.write_rate)
        if outputs:
            time.sleep(1)
            hot["booking_post"] = hot_frames(outputs)
    saga_drain = None
    if "booking_post_alone" in args.phases:
        quiet("booking_post_alone_at_target")
        alone = booking_post_alone_phase(tokens, seconds, args.write_rate)
        phases["booking_post_alone_at_target"], phases["booking_post_alone_capacity"], saga_drain = alone
    sampler.stopping.set()
    log("waiting for the saga backlog to settle (≤ 120 s) …")
    backlog = wait_for_backlog(120)
    memory_now = stack.memory()
    return {
        "settings": {
            "read_rate": args.read_rate,
            "write_rate": args.write_rate,
            "phase_seconds": seconds,
            "phases": sorted(args.phases),
            "seats_per_booking": SEATS_PER_BOOKING,
            "gunicorn": {name: value for name, value in stack._env.items() if name.startswith("GUNICORN_")},
            "celery_pools": {name: value for name, value in stack._env.items() if name.endswith(CELERY_POOL_VARIABLES)},
            "showtimes": len(showtimes),
            "quiet_cores": QUIET_CORES,
        },
        "quiet_waits_seconds": quiet_waits,
        "phases": phases,
        "saga_drain": saga_drain,
        "ratios": ratios(phases),
        "integrity": {**integrity(), "pending_after_wait": backlog.get("pending", 0)},
        "memory": {"peak_under_load": sampler.peak, "after_load": memory_now},
        "hot_frames": hot,
        "targets": TARGETS,
    }


def idle_phase(seconds: float) -> dict:
    """What the stack spends with no request at all (beats, sweeps, heartbeats), per second by role."""
    log(f"idle: {seconds:g} s without load")
    before = STACK.cpu_seconds()
    time.sleep(seconds)
    after = STACK.cpu_seconds()
    used = {role: round(1000 * (after[role] - before.get(role, 0.0)) / seconds, 1) for role in after}
    used = {role: value for role, value in sorted(used.items(), key=lambda item: -item[1]) if value > 0}
    log(f"  → CPU ms per second: {used} (sum {round(sum(used.values()), 1)})")
    return {"seconds": seconds, "cpu_ms_per_second": used}


def booking_post_alone_phase(tokens: Tokens, seconds: float, write_rate: float) -> tuple[dict, dict, dict]:
    """The booking POST with the saga paused, then the saga alone on the backlog it left.

    Every POST starts a saga (payment, confirmation, ticket, e-mail) that costs the two cores
    several times what the POST does, and in the ``booking_post`` phases it runs alongside. Here
    every worker and beat is stopped while the POSTs arrive: what is measured is the POST's own
    path (gateway, booking web, PostgreSQL, the relay to RabbitMQ), the same work the bare
    seat-hold view is the baseline of. Then the workers continue, and the time until every booking
    is final gives the saga's own rate with the whole machine to itself.
    """
    planner = SeatPlanner(showtime_plan())  # afresh: seats the earlier phases planned may still be free
    rate = TARGETS["booking_post_rate"]
    at_target_requests = booking_requests(int(rate * seconds), planner, tokens, 4 * 10**6)
    capacity_requests = booking_requests(min(int(write_rate * seconds), planner.remaining), planner, tokens, 5 * 10**6)
    booking_db = db_url(bench_database(SERVICES["booking"]))
    with STACK.saga_paused() as paused:
        log(f"saga paused: {len(paused)} worker and beat processes stopped")
        _, at_target = run_phase(
            "booking POST at 150/s, saga paused", GATEWAY_PORT, at_target_requests, rate, seconds, drain_seconds=30
        )
        wait_until_quiet()
        capacity = run_phase(
            "booking POST capacity, saga paused", GATEWAY_PORT, capacity_requests, write_rate, seconds,
            drain_seconds=3,
        )[1]  # fmt: skip
        wait_until_quiet()  # what the cut-off requests left queued in the web tier, still paused
        pending = int(psql("SELECT count(*) FROM bookings_booking WHERE status = 'pending'", booking_db))
    resumed = time.monotonic()
    log(f"saga continued with {pending} bookings pending; waiting until they are final (≤ 300 s) …")
    left = wait_for_backlog(300, poll_seconds=0.5).get("pending", 0)
    drain_seconds = time.monotonic() - resumed
    drain = {
        "pending_at_resume": pending,
        "seconds": round(drain_seconds, 1),
        "still_pending": left,
        "bookings_per_second": round((pending - left) / drain_seconds, 1),
    }
    log(f"  → saga alone: {drain}")
    return at_target, capacity, drain


def saga_phase(
    planner: SeatPlanner, tokens: Tokens, scale: float, rate: float | None = None, profile_dir: Path | None = None
) -> dict:
    """The saga at its target rate, on a quiet system; then wait for every booking to settle.

    With ``profile_dir``, py-spy samples every process of ``SAGA_ROLES`` while the bookings arrive."""
    saga_rate = rate or TARGETS["saga_rate"]
    saga_seconds = 10 * scale
    pids = STACK.pids()
    outputs = {
        role: profile(
            pids.get(role, []), int(saga_seconds) + 2, profile_dir, f"saga-{role.replace(' ', '-')}", gil=True
        )
        for role in (SAGA_ROLES if profile_dir else ())
    }
    cpu_before = STACK.cpu_seconds()
    results, post = run_phase(
        f"saga (POST at {saga_rate:g}/s)", GATEWAY_PORT,
        booking_requests(int(saga_rate * saga_seconds), planner, tokens, 0), saga_rate, saga_seconds,
        keep_body=True, drain_seconds=30,
    )  # fmt: skip
    created = [r.json()["id"] for r in results if r.status == 201]
    final = wait_until_final(created, timeout=90)
    # From the first POST until every booking is final: everything each booking cost, by role.
    cpu_after = STACK.cpu_seconds()
    cpu_per_booking = {
        role: round(1000 * (cpu_after[role] - cpu_before.get(role, 0.0)) / max(len(created), 1), 2)
        for role in sorted(cpu_after, key=lambda role: cpu_before.get(role, 0.0) - cpu_after[role])
        if cpu_after[role] - cpu_before.get(role, 0.0) >= 0.05
    }
    latencies, after_created, outcomes = saga_latencies(results)

    def ms(fraction, values=latencies):
        value = load.percentile(values, fraction)
        return None if value is None else round(value * 1000, 1)

    stages = saga_stages(created)
    log(f"  saga → {len(latencies)} confirmed, p50 {ms(0.5)} ms, p95 {ms(0.95)} ms, p99 {ms(0.99)} ms ({outcomes})")
    log(f"  saga stages: {stages}")
    log(f"  CPU ms per booking, POST to final: {cpu_per_booking} (sum {round(sum(cpu_per_booking.values()), 1)})")
    if outputs:
        time.sleep(1)
    return {
        "hot_frames": {f"saga: {role}": hot_frames(files, marker=None) for role, files in outputs.items()},
        "stages_ms": stages,
        "cpu_ms_per_booking": cpu_per_booking,
        "offered_rate": saga_rate,
        "posted": post,
        "confirmed": len(latencies),
        "outcomes": outcomes,
        "final_statuses": final,
        "p50_ms": ms(0.5),
        "p95_ms": ms(0.95),
        "p99_ms": ms(0.99),
        "max_ms": ms(1.0),
        "created_to_confirmed_ms": {"p50": ms(0.5, after_created), "p95": ms(0.95, after_created),
                                    "p99": ms(0.99, after_created)},
    }  # fmt: skip


def _cmd(pid: int) -> str:
    from bench.stack import command_name

    return command_name(pid)


def ratios(phases: dict) -> dict:
    def ratio(a, b):
        top, bottom = phases.get(a, {}).get("throughput"), phases.get(b, {}).get("throughput")
        return round(top / bottom, 3) if top and bottom else None

    return {
        "seat_map_vs_floor": ratio("seat_map", "framework_floor"),
        "seat_map_service_vs_floor": ratio("seat_map_service", "framework_floor"),
        "movie_list_vs_floor": ratio("movie_list", "framework_floor"),
        "seat_hold_view_vs_floor": ratio("seat_hold_view", "framework_floor"),
        "booking_post_vs_hold_view": ratio("booking_post_capacity", "seat_hold_view"),
        "booking_post_alone_vs_hold_view": ratio("booking_post_alone_capacity", "seat_hold_view"),
        "booking_post_vs_pgbench": ratio("booking_post_capacity", "pgbench_seat_hold"),
        "seat_hold_view_vs_pgbench": ratio("seat_hold_view", "pgbench_seat_hold"),
    }


def verdicts(report: dict) -> list[tuple[str, str, bool | None]]:
    """The targets of issue 9; the POST's two also with the saga paused (``booking_post_alone``),
    the same work the bare seat-hold view does, for what limits them."""
    phases, r = report.get("phases", {}), report.get("ratios", {})
    saga = phases.get("saga", {})

    def check(value, good):
        return None if value is None else good(value)

    def post_at_target(phase: str, label: str) -> tuple[str, str, bool | None]:
        at_target = phases.get(phase, {})
        sent_ok = at_target.get("ok") == at_target.get("sent") and not at_target.get("not_sent")
        return (
            f"booking POST 150/s, all 201, p99 ≤ 100 ms{label}",
            f"{at_target.get('throughput')}/s, {at_target.get('ok')}/{at_target.get('sent')} ok, "
            f"p99 {at_target.get('p99_ms')} ms",
            check(at_target.get("p99_ms"), lambda v: sent_ok and v <= TARGETS["booking_post_p99_ms"]),
        )

    def post_vs_hold_view(ratio: str, label: str) -> tuple[str, str, bool | None]:
        return (
            f"booking POST ≥ 40% of the bare seat-hold view{label}", f"{r.get(ratio)}",
            check(r.get(ratio), lambda v: v >= TARGETS["booking_post_vs_hold_view"]),
        )  # fmt: skip

    paused = " (saga paused: the POST's own path)"
    alone = (
        [
            post_vs_hold_view("booking_post_alone_vs_hold_view", paused),
            post_at_target("booking_post_alone_at_target", paused),
        ]
        if "booking_post_alone_capacity" in phases
        else []
    )
    return [
        ("seat map ≥ 50% of the framework floor", f"{r.get('seat_map_vs_floor')}",
         check(r.get("seat_map_vs_floor"), lambda v: v >= TARGETS["seat_map_vs_floor"])),
        post_vs_hold_view("booking_post_vs_hold_view", ""),
        post_at_target("booking_post_at_target", ""),
        *alone,
        ("saga at 50/s: p95 ≤ 500 ms, p99 ≤ 1 s", f"p95 {saga.get('p95_ms')} ms, p99 {saga.get('p99_ms')} ms",
         check(saga.get("p99_ms"), lambda v: saga["p95_ms"] <= TARGETS["saga_p95_ms"] and v <= TARGETS["saga_p99_ms"])),
        ("zero double-booked seats", f"{report.get('integrity', {}).get('double_booked_seats')}",
         check(report.get("integrity", {}).get("double_booked_seats"), lambda v: v == 0)),
    ]  # fmt: skip


def markdown(report: dict) -> str:
    lines = [f"# Benchmark {report['started_at']}", ""]
    if report.get("error"):
        lines += [f"**Run failed:** {report['error']}", ""]
    m = report.get("machine", {})
    lines += [
        f"{m.get('cpus')} CPUs, load average before the run {m.get('loadavg_1m_before')} (1 min); "
        f"{m.get('other_pytest_processes')} other pytest processes running when it started.",
        "",
    ]
    phases = report.get("phases", {})
    if phases:
        lines += [
            "| phase | offered/s | ok/s | ok | errors | p50 ms | p95 ms | p99 ms | client CPU % |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, p in phases.items():
            if name in ("saga", "idle"):
                continue
            lines.append(
                f"| {name} | {p.get('offered_rate', 'max')} | {p.get('throughput')} | "
                f"{p.get('ok', p.get('transactions'))} | {p.get('errors') or 0} | {p.get('p50_ms')} | "
                f"{p.get('p95_ms')} | {p.get('p99_ms')} | {p.get('client_cpu_percent', '-')} |"
            )
        lines += ["", "CPU ms per successful answer, by process role (top 4):", ""]
        for name, p in phases.items():
            cpu = p.get("cpu_ms_per_ok") or p.get("posted", {}).get("cpu_ms_per_ok")
            if cpu:
                lines.append(f"- {name}: " + ", ".join(f"{role} {ms}" for role, ms in list(cpu.items())[:4]))
        saga = phases.get("saga")
        if saga:
            lines += ["", f"Saga (POST → `confirmed`, from the timeline) at {saga['offered_rate']}/s: "
                      f"{saga['confirmed']} confirmed, p50 {saga['p50_ms']} ms, p95 {saga['p95_ms']} ms, "
                      f"p99 {saga['p99_ms']} ms, max {saga['max_ms']} ms; outcomes {saga['outcomes']}; "
                      f"`created` → `confirmed` alone {saga['created_to_confirmed_ms']} ms."]  # fmt: skip
            lines += ["", f"Saga stages (ms): {saga.get('stages_ms')}.", "",
                      f"CPU ms per booking, from the first POST until every booking was final: "
                      f"{saga.get('cpu_ms_per_booking')}."]  # fmt: skip
        drain = report.get("saga_drain")
        if drain:
            lines += ["", f"Saga alone, after the POSTs with the saga paused: {drain['pending_at_resume']} bookings "
                      f"pending when the workers continued, {drain['still_pending']} still pending after "
                      f"{drain['seconds']} s: {drain['bookings_per_second']} bookings final per second."]  # fmt: skip
        idle = phases.get("idle")
        if idle:
            lines += ["", f"Idle stack, CPU ms per second: {idle['cpu_ms_per_second']}."]
        lines += ["", "Ratios: " + ", ".join(f"{k} {v}" for k, v in report.get("ratios", {}).items()), ""]
        lines += ["| target | measured | met |", "|---|---|---|"]
        for name, measured, met in verdicts(report):
            lines.append(f"| {name} | {measured} | {'yes' if met else 'n/a' if met is None else '**no**'} |")
        integrity_ = report.get("integrity", {})
        memory = report.get("memory", {})
        peak = memory.get("peak_under_load") or memory.get("after_load", {})
        lines += [
            "",
            f"Integrity: {integrity_.get('double_booked_seats')} double-booked seats, "
            f"{integrity_.get('bookings_with_two_payments')} bookings with two payments, "
            f"{integrity_.get('pending_after_wait')} still pending; bookings by status "
            f"{integrity_.get('bookings_by_status')}.",
            "",
            f"Memory (sum of RSS, peak under load): {peak.get('stack_rss_mib')} MiB in {peak.get('processes')} "
            f"processes {peak.get('by_role_mib')}; PostgreSQL backends of the bench databases "
            f"{peak.get('postgres_backends_rss_mib')} MiB ({peak.get('postgres_backends')}).",
        ]
        for phase, frames in (report.get("hot_frames") or {}).items():
            if phase.startswith("saga: "):
                title = (
                    f"Profile of the {phase[6:]} processes in the saga ({frames['samples']} samples holding the GIL)"
                )
            else:
                title = f"Profile of the booking web workers during {phase} ({frames['samples']} samples in requests)"
            lines += ["", title + ", share of samples:", ""]
            lines += [f"- {share}% `{frame}`" for frame, share in frames["inclusive"]]
            lines += ["", "Innermost frames:", ""] + [f"- {share}% `{frame}`" for frame, share in frames["innermost"]]
    if report.get("teardown_problems"):
        lines += ["", f"Teardown problems: {report['teardown_problems']}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
