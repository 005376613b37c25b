"""The targets of issue 9, the ratios to the baselines, and the Markdown summary of a run."""

from __future__ import annotations

TARGETS = {
    "seat_map_vs_floor": 0.50,
    "booking_post_vs_hold_view": 0.40,
    "booking_post_rate": 150,
    "booking_post_p99_ms": 100,
    "saga_rate": 50,
    "saga_p95_ms": 500,
    "saga_p99_ms": 1000,
}


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
            if saga.get("event_lanes"):
                lines += ["", "Event lanes during the saga, per consuming service (events taken up, mean wait in "
                          "a lane, the bucket 95% of waits fall in, the busiest lane's share, mean time applying "
                          f"one): {saga['event_lanes']}."]  # fmt: skip
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
            f"{integrity_.get('bookings_by_status')}; confirmation e-mails by status "
            f"{integrity_.get('confirmation_emails_by_status')} (every one sent "
            f"{integrity_.get('emailed_after_seconds')} s after the bookings were final; None: not within 120 s).",
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
            elif phase == "booking_post_alone":
                title = (
                    "Profile of the booking web processes during the POST at target, saga paused "
                    f"({frames['samples']} samples holding the GIL, every thread)"
                )
            else:
                title = f"Profile of the booking web workers during {phase} ({frames['samples']} samples in requests)"
            lines += ["", title + ", share of samples:", ""]
            lines += [f"- {share}% `{frame}`" for frame, share in frames["inclusive"]]
            lines += ["", "Innermost frames:", ""] + [f"- {share}% `{frame}`" for frame, share in frames["innermost"]]
    if report.get("teardown_problems"):
        lines += ["", f"Teardown problems: {report['teardown_problems']}"]
    return "\n".join(lines) + "\n"
