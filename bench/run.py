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
import json
import shutil
import tempfile
import time
from pathlib import Path

from bench import load
from bench import phases as phase
from bench.console import log
from bench.machine import QUIET_CORES, machine, wait_until_quiet
from bench.outcomes import MemorySampler, integrity, wait_until_emailed, wait_until_settled
from bench.plans import SEATS_PER_BOOKING, SeatPlanner, Tokens, bearer, booking_requests, register_users
from bench.profiling import hot_frames, profile, py_spy
from bench.report import TARGETS, markdown, ratios
from bench.stack import (
    BASELINE_GATEWAY_PORT,
    GATEWAY_PORT,
    HOST,
    PORT_OFFSET,
    SERVICES,
    WORKER_VARIABLES,
    Stack,
    bench_database,
    db_url,
    psql,
    showtime_plan,
)

RESULTS = Path(__file__).resolve().parent / "results"


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


def measure(stack: Stack, run_dir: Path, args) -> dict:
    phase.STACK = stack  # one run per process
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
    tokens = Tokens(stack.key_file, users[0], contacts=stack.add_contacts)
    movie_list = "/api/movies/"
    seat_map = [f"/api/bookings/showtimes/{s['id']}/seats/" for s in showtimes]

    sampler = MemorySampler(stack)
    sampler.start()
    phases: dict[str, dict] = {}
    quiet_waits: dict[str, float] = {}

    def quiet(name: str) -> None:
        quiet_waits[name] = wait_until_quiet()

    def reads(paths, n):
        return [load.Request("GET", paths[i % len(paths)], bearer(users[i % len(users)])) for i in range(n)]

    # Warm-up: every process imports lazily, opens its database connection, fills its caches.
    # First one request at a time (see register_users), then at a modest fixed rate.
    sequential = reads(seat_map, 16) + reads([movie_list], 16)
    sequential += booking_requests(16, planner, tokens, 3 * 10**6)
    phase.run_phase("warm-up (sequential)", GATEWAY_PORT, sequential, 1000, 5, max_connections=1)
    phase.run_phase("warm-up", GATEWAY_PORT, reads(seat_map, 200) + reads([movie_list], 200), 100, 5)
    phase.run_phase("warm-up baseline", BASELINE_GATEWAY_PORT,
              reads(["/api/movies/baseline/floor/"], 200), 100, 3)  # fmt: skip
    hold = [load.Request("POST", "/api/bookings/baseline/hold/", body=b"{}") for _ in range(100)]
    phase.run_phase("warm-up baseline hold", BASELINE_GATEWAY_PORT, hold, 50, 3)

    seconds = 6 * scale
    n_reads = int(args.read_rate * seconds)
    n_writes = int(args.write_rate * seconds)

    def capacity(name, port, requests, rate):
        # Offered above what the server sustains: what arrives within the window is its capacity;
        # what has not been answered 3 s after the window is cut off (at most max_connections).
        return phase.run_phase(name, port, requests, rate, seconds, drain_seconds=3)[1]

    if "idle" in args.phases:
        quiet("idle")
        phases["idle"] = phase.idle_phase(10 * scale)
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
        phases["pgbench_seat_hold"] = phase.pgbench(max(4, int(seconds)), 8, run_dir)
    if "saga" in args.phases:
        quiet("saga")
        phases["saga"] = phase.saga_phase(planner, tokens, scale, args.saga_rate, run_dir if args.profile else None)
        hot.update(phases["saga"].pop("hot_frames", {}))
    if "booking_post" in args.phases:
        quiet("booking_post_at_target")
        rate = TARGETS["booking_post_rate"]
        _, phases["booking_post_at_target"] = phase.run_phase(
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
        alone = phase.booking_post_alone_phase(tokens, seconds, args.write_rate, run_dir if args.profile else None)
        phases["booking_post_alone_at_target"], phases["booking_post_alone_capacity"], saga_drain, frames = alone
        if frames:
            hot["booking_post_alone"] = frames
    sampler.stopping.set()
    log("waiting for the saga backlog to settle (≤ 120 s) …")
    backlog = wait_until_settled(120, poll_seconds=2.0)
    log("waiting for the confirmations' e-mails (≤ 120 s) …")
    emailed_after = wait_until_emailed(120)
    memory_now = stack.memory()
    return {
        "settings": {
            "read_rate": args.read_rate,
            "write_rate": args.write_rate,
            "phase_seconds": seconds,
            "phases": sorted(args.phases),
            "seats_per_booking": SEATS_PER_BOOKING,
            "gunicorn": {name: value for name, value in stack._env.items() if name.startswith("GUNICORN_")},
            "workers": {name: value for name, value in stack._env.items() if name.endswith(WORKER_VARIABLES)},
            "showtimes": len(showtimes),
            "quiet_cores": QUIET_CORES,
        },
        "quiet_waits_seconds": quiet_waits,
        "phases": phases,
        "saga_drain": saga_drain,
        "ratios": ratios(phases),
        "integrity": {
            **integrity(),
            "pending_after_wait": backlog.get("pending", 0),
            "emailed_after_seconds": emailed_after,
        },
        "memory": {"peak_under_load": sampler.peak, "after_load": memory_now},
        "hot_frames": hot,
        "targets": TARGETS,
    }


if __name__ == "__main__":
    raise SystemExit(main())
