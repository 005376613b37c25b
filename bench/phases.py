"""The measured phases: open-loop load at a fixed rate, pgbench, the idle stack, the saga, and
the booking POST with the saga paused."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from pathlib import Path

from bench import lanes, load
from bench.console import log
from bench.machine import wait_until_quiet
from bench.outcomes import saga_latencies, saga_stages, wait_until_settled
from bench.plans import SeatPlanner, Tokens, booking_requests
from bench.profiling import SAGA_ROLES, hot_frames, profile
from bench.report import TARGETS
from bench.stack import BASELINE_DB, GATEWAY_PORT, HOST, SERVICES, Stack, bench_database, db_url, psql, showtime_plan

STACK: Stack | None = None  # set by bench.run.measure(): run_phase charges each phase's CPU to its requests


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


def booking_post_alone_phase(
    tokens: Tokens, seconds: float, write_rate: float, profile_dir: Path | None = None
) -> tuple[dict, dict, dict, dict]:
    """The booking POST with the saga paused, then the saga alone on the backlog it left.

    Every POST starts a saga (payment, confirmation, ticket, e-mail) that costs the two cores
    several times what the POST does, and in the ``booking_post`` phases it runs alongside. Here
    every worker and beat is stopped while the POSTs arrive: what is measured is the POST's own
    path (gateway, booking web, PostgreSQL, the relay to RabbitMQ), the same work the bare
    seat-hold view is the baseline of. Then the workers continue, and the time until every booking
    is final gives the saga's own rate with the whole machine to itself.

    With ``profile_dir``, py-spy samples the booking web processes during the POSTs at the target
    rate, only samples holding the GIL and every thread (the relay thread is the POST's work too):
    where the POST's own CPU goes. Returns the two phases, the saga's drain and those hot frames.
    """
    planner = SeatPlanner(showtime_plan())  # afresh: seats the earlier phases planned may still be free
    rate = TARGETS["booking_post_rate"]
    at_target_requests = booking_requests(int(rate * seconds), planner, tokens, 4 * 10**6)
    capacity_requests = booking_requests(min(int(write_rate * seconds), planner.remaining), planner, tokens, 5 * 10**6)
    booking_db = db_url(bench_database(SERVICES["booking"]))
    with STACK.saga_paused() as paused:
        log(f"saga paused: {len(paused)} worker and beat processes stopped")
        web_pids = STACK.pids().get("booking web", []) if profile_dir else []
        outputs = profile(web_pids, int(seconds) + 2, profile_dir, "booking-post-alone", gil=True) if web_pids else []
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
    left = wait_until_settled(300, poll_seconds=0.5).get("pending", 0)
    drain_seconds = time.monotonic() - resumed
    drain = {
        "pending_at_resume": pending,
        "seconds": round(drain_seconds, 1),
        "still_pending": left,
        "bookings_per_second": round((pending - left) / drain_seconds, 1),
    }
    log(f"  → saga alone: {drain}")
    return at_target, capacity, drain, (hot_frames(outputs, marker=None) if outputs else {})


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
    lanes_before = lanes.scrape()  # before the CPU is counted: a scrape is not a booking's work
    cpu_before = STACK.cpu_seconds()
    results, post = run_phase(
        f"saga (POST at {saga_rate:g}/s)", GATEWAY_PORT,
        booking_requests(int(saga_rate * saga_seconds), planner, tokens, 0), saga_rate, saga_seconds,
        keep_body=True, drain_seconds=30,
    )  # fmt: skip
    created = [r.json()["id"] for r in results if r.status == 201]
    final = wait_until_settled(90, booking_ids=created)
    # From the first POST until every booking is final: everything each booking cost, by role.
    cpu_after = STACK.cpu_seconds()
    in_lanes = lanes.summaries(lanes_before, lanes.scrape())
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
    log(f"  event lanes: {in_lanes}")
    if outputs:
        time.sleep(1)
    return {
        "hot_frames": {f"saga: {role}": hot_frames(files, marker=None) for role, files in outputs.items()},
        "stages_ms": stages,
        "cpu_ms_per_booking": cpu_per_booking,
        "event_lanes": in_lanes,
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
