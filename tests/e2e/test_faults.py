"""Fault scenarios: break one part during a burst of bookings, mend it, and check nothing was lost.

Each scenario restores what it broke in a ``finally`` (even when an assertion fails), then waits
for every booking to reach a final state and runs ``manage_all.py verify`` (nothing lost, nothing
duplicated, no seat sold twice, no booking left pending). The requests are paced (open loop), so
the fault lands in the middle of the burst rather than before or after it.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from common.testing.infrastructure import set_database_accepting_connections

from .support import (
    FINAL_STATUSES,
    Client,
    Response,
    assert_consistent,
    assert_seats,
    eventually,
    register,
    request,
)

pytestmark = pytest.mark.slow

LABELS = [f"{row}{number}" for row in "ABCDEFGHIJ" for number in range(1, 16)]
FAULT_SECONDS = 10
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


@dataclass
class Attempt:
    client: Client
    showtime: str
    label: str
    payment_method: str
    key: str
    replies: list[Response]

    def send(self) -> None:
        self.replies.append(self.client.book(self.showtime, [self.label], self.payment_method, key=self.key))

    @property
    def last(self) -> Response:
        return self.replies[-1]


def paced_bookings(
    clients: list[Client], showtimes: list[str], count: int, *, rate: float, payment_method: str = "pm_card_visa"
) -> list[Attempt]:
    """``count`` one-seat bookings at a fixed arrival rate, each with its own Idempotency-Key.

    The booking service allows one pending booking per customer and showtime, so booking ``i`` is
    customer ``i % C`` on showtime ``i // C``: every (customer, showtime) pair books once.
    """
    assert count <= len(clients) * len(showtimes)
    attempts = [
        Attempt(
            clients[i % len(clients)],
            showtimes[i // len(clients)],
            LABELS[i],
            payment_method,
            str(uuid.uuid4()),
            [],
        )
        for i in range(count)
    ]
    started = time.monotonic()

    def send(index: int) -> None:
        delay = started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        attempts[index].send()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(send, range(count)))
    return attempts


def assert_clear_answers(attempts: list[Attempt], allowed: frozenset[int] = frozenset({201, 503})) -> None:
    """201 or a clear 503 with a DRF-shaped body; never a 500, never a hang-up."""
    for attempt in attempts:
        reply = attempt.last
        assert reply.status in allowed, (attempt.label, reply)
        if reply.status == 503:
            assert isinstance(reply.body, dict), reply
            assert "detail" in reply.body, reply


def retry_until_accepted(attempts: list[Attempt], within: float = 60) -> None:
    """What a client does after a 503: send the same request again with the same key."""
    deadline = time.monotonic() + within
    for attempt in attempts:
        while attempt.last.status not in (200, 201) and time.monotonic() < deadline:
            time.sleep(0.5)
            attempt.send()
        assert attempt.last.status in (200, 201), (attempt.label, attempt.replies)


def final_bookings(clients: list[Client], booking_ids: set[str], within: float = 90) -> list[dict]:
    """The bookings, once every one is final (confirmed, cancelled or expired)."""

    def all_final():
        found = [b for client in clients for b in client.all_pages("/api/bookings/") if b["id"] in booking_ids]
        return found if len(found) == len(booking_ids) and all(b["status"] in FINAL_STATUSES for b in found) else None

    last: list[dict] = []

    def check():
        nonlocal last
        result = all_final()
        if result is None:
            last = [b for client in clients for b in client.all_pages("/api/bookings/") if b["id"] in booking_ids]
        return result

    try:
        return eventually(check, within, 1)
    except AssertionError:
        pending = [(b["id"], b["status"]) for b in last if b["status"] not in FINAL_STATUSES]
        raise AssertionError(
            f"{len(pending)} of {len(booking_ids)} bookings not final after {within}s: {pending[:10]}"
        ) from None


def assert_charged_once(clients: list[Client], bookings: list[dict], within: float = 30) -> None:
    """A confirmed booking has one succeeded payment; an ended one kept no money.

    A charge that succeeded just as its booking expired is refunded afterwards (the contract's saga,
    step 4), so an ended booking's succeeded payment gets ``within`` seconds to become refunded.
    """

    def payments_by_booking() -> dict[str, list[str]]:
        payments: dict[str, list[str]] = {}
        for client in clients:
            for payment in client.all_pages("/api/payments/"):
                payments.setdefault(payment["booking_id"], []).append(payment["status"])
        return payments

    def refunds_landed() -> dict[str, list[str]] | None:
        payments = payments_by_booking()
        ended = (b for b in bookings if b["status"] != "confirmed")
        return None if any("succeeded" in payments.get(b["id"], []) for b in ended) else payments

    try:
        payments = eventually(refunds_landed, within, 1)
    except AssertionError:
        payments = payments_by_booking()  # the assertions below name the booking
    for booking in bookings:
        statuses = payments.get(booking["id"], [])
        if booking["status"] == "confirmed":
            assert statuses == ["succeeded"], (booking["id"], statuses)
        else:
            assert "succeeded" not in statuses, (booking["id"], booking["status"], statuses)
            assert len(statuses) <= 1, (booking["id"], statuses)


def settle(system, clients: list[Client], attempts: list[Attempt]) -> list[dict]:
    ids = {attempt.last.body["id"] for attempt in attempts}
    assert len(ids) == len(attempts), "one booking per Idempotency-Key"
    bookings = final_bookings(clients, ids)
    record(system, attempts, bookings)
    for showtime in {attempt.showtime for attempt in attempts}:
        assert_consistent(showtime, [b for b in bookings if b["showtime_id"] == showtime])
    assert_charged_once(clients, bookings)
    system.verify()
    return bookings


def record(system, attempts: list[Attempt], bookings: list[dict]) -> None:
    """What the burst saw, for docs/testing.md: first answers, retries, final states (var/e2e/faults.jsonl)."""
    import collections
    import json
    import os

    summary = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "first_answers": collections.Counter(attempt.replies[0].status for attempt in attempts),
        "retried": sum(len(attempt.replies) > 1 for attempt in attempts),
        "final": collections.Counter(booking["status"] for booking in bookings),
    }
    with (system.log_dir / "faults.jsonl").open("a") as log:
        log.write(json.dumps(summary, default=str) + "\n")


@contextlib.contextmanager
def fault_after(delay: float, start, stop):
    """Run ``start`` after ``delay`` seconds in the background and ``stop`` FAULT_SECONDS later, always."""
    started = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []

    def run():
        time.sleep(delay)
        try:
            start()
            started.set()
            time.sleep(FAULT_SECONDS)
        except BaseException as error:  # reported by the test, after the restore below
            errors.append(error)
        finally:
            try:
                stop()
            except BaseException as error:
                errors.append(error)
            finished.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield started
    finally:
        thread.join(delay + FAULT_SECONDS + 120)
        assert finished.is_set(), "the fault was not restored in time"
    assert not errors, errors
    assert started.is_set()


# --------------------------------------------------------------------------------------------------
# RabbitMQ


def rabbitmq(command: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", command], check=True, capture_output=True, timeout=120)


def rabbitmq_start() -> None:
    rabbitmq("start_app")
    rabbitmq("await_startup")


def test_rabbitmq_stopped_during_100_bookings(system):
    # given ten customers and ten showtimes
    clients = [register("rabbit") for _ in range(10)]
    showtimes = system.create_showtimes(10)

    # when RabbitMQ stops for ~10 s in the middle of 100 bookings (5 per second)
    with fault_after(6, lambda: rabbitmq("stop_app"), rabbitmq_start):
        attempts = paced_bookings(clients, showtimes, 100, rate=5)

    # then the API answered 201 or a clear 503, never a 500
    assert_clear_answers(attempts)
    retry_until_accepted(attempts)
    # and every booking reaches a final state once RabbitMQ is back
    bookings = settle(system, clients, attempts)
    assert {b["status"] for b in bookings} <= FINAL_STATUSES


# --------------------------------------------------------------------------------------------------
# PostgreSQL databases refusing connections


def database_gate(system, variable: str, *, allow: bool) -> None:
    name = system.database_name(variable)
    set_database_accepting_connections(system.env["POSTGRES_ADMIN_URL"], name, accepting=allow)


def test_payment_database_refusing_connections(system):
    # given customers, and the payment database about to refuse connections for ~10 s
    clients = [register("paydb") for _ in range(5)]
    showtimes = system.create_showtimes(8)
    outage_replies: list[Response] = []

    def close():
        database_gate(system, "PAYMENT_DATABASE_URL", allow=False)
        outage_replies.append(clients[0].get("/api/payments/"))

    # when 40 bookings arrive during the outage
    with fault_after(2, close, lambda: database_gate(system, "PAYMENT_DATABASE_URL", allow=True)):
        attempts = paced_bookings(clients, showtimes, 40, rate=4)

    # then bookings were still accepted, the payment API said 503 in JSON meanwhile,
    assert_clear_answers(attempts, frozenset({201}))
    assert len(outage_replies) == 1
    assert outage_replies[0].status == 503, outage_replies
    assert "detail" in outage_replies[0].body
    # and afterwards every booking is settled and nobody was charged twice
    settle(system, clients, attempts)


def test_movie_database_unavailable(system, showtime, user):
    # given a showtime the booking service already knows
    try:
        # when the movie database refuses connections
        database_gate(system, "MOVIE_DATABASE_URL", allow=False)
        movie_reply = request("GET", f"/api/movies/?search={uuid.uuid4().hex}", token=user.token)
        created = user.book(showtime, ["H8"])
        seats_reply = request("GET", f"/api/bookings/showtimes/{showtime}/seats/")
    finally:
        database_gate(system, "MOVIE_DATABASE_URL", allow=True)

    # then the movie API answered 503 with a JSON body, and booking carried on from its own data
    assert movie_reply.status == 503, movie_reply
    assert "detail" in movie_reply.body
    assert created.status == 201, created
    assert seats_reply.status == 200, seats_reply
    user.wait_until_confirmed(created.body["id"])
    # and the movie API recovers by itself
    eventually(lambda: request("GET", "/api/movies/", token=user.token).status == 200, 30, 1)
    assert_consistent(showtime, [user.booking(created.body["id"])])
    system.verify()


# --------------------------------------------------------------------------------------------------
# Processes killed


def test_payment_worker_killed_during_a_batch(system):
    # given customers booking 40 seats (5 per second)
    clients = [register("sigkill") for _ in range(5)]
    showtimes = system.create_showtimes(8)
    killed = []

    def kill_worker():
        killed.append(system.kill("payment", "worker"))

    def restart_worker():
        if killed:
            system.start_like(killed[0], "payment.worker.restarted")

    # when the payment worker is killed with SIGKILL in the middle, and started again 10 s later
    with fault_after(3, kill_worker, restart_worker):
        attempts = paced_bookings(clients, showtimes, 40, rate=5)

    # then every booking was accepted and every payment completes exactly once
    assert_clear_answers(attempts, frozenset({201}))
    assert killed, "the worker was not killed"
    bookings = settle(system, clients, attempts)
    assert {b["status"] for b in bookings} <= FINAL_STATUSES


def test_redis_stopped(system, showtime, user):
    # given a booking made while Redis is up, and a second customer signed in
    before = user.book(showtime, ["G1"])
    assert before.status == 201, before
    user.wait_until_confirmed(before.body["id"])
    rival = register("redis")
    replies: dict[str, Response] = {}
    try:
        # when Redis is shut down
        subprocess.run(["redis-cli", "shutdown", "nosave"], capture_output=True, timeout=30, check=False)
        eventually(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode != 0, 10, 0.2)
        replies["seats"] = request("GET", f"/api/bookings/showtimes/{showtime}/seats/")
        replies["movies"] = request("GET", "/api/movies/", token=user.token)
        replies["book"] = user.book(showtime, ["G2"])
        replies["twice"] = rival.book(showtime, ["G2"])
        replies["list"] = user.get("/api/bookings/")
    finally:
        subprocess.run(REDIS_START, capture_output=True, timeout=30, check=True)
        eventually(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).stdout.strip() == b"PONG", 20)

    # then reads and bookings kept working from the database, and G2 was not sold twice
    assert replies["seats"].status == 200, replies["seats"]
    assert replies["movies"].status == 200, replies["movies"]
    assert replies["book"].status == 201, replies["book"]
    assert replies["twice"].status == 409, replies["twice"]
    assert replies["twice"].body["unavailable_seats"] == ["G2"]
    assert replies["list"].status == 200, replies["list"]
    bookings = [user.wait_for_booking(before.body["id"]), user.wait_for_booking(replies["book"].body["id"])]
    assert [b["status"] for b in bookings] == ["confirmed", "confirmed"]
    assert_consistent(showtime, bookings)
    system.verify()


def test_web_server_killed_then_idempotent_retry(system, showtime, user):
    # given a booking request the client is about to send
    key = str(uuid.uuid4())
    spec = system.kill("booking", "web")
    try:
        # when the booking web server is dead, the gateway answers at once
        started = time.monotonic()
        dead = user.book(showtime, ["J15"], key=key)
        elapsed = time.monotonic() - started
    finally:
        system.start_like(spec, "booking.web.restarted")
    eventually(lambda: request("GET", "http://127.0.0.1:8003/health/ready/", timeout=2).status == 200, 60, 0.5)

    # then it was a 502/503 in JSON, within a second
    assert dead.status in (502, 503), dead
    assert "detail" in dead.body
    assert elapsed < 1, elapsed
    # and the client's retries with the same key after the restart make one booking
    first = user.book(showtime, ["J15"], key=key)
    second = user.book(showtime, ["J15"], key=key)
    assert first.status == 201, first
    assert second.status in (200, 201), second
    assert second.body["id"] == first.body["id"]
    # and the same key with another body is refused (the contract's 422), creating nothing
    other_body = user.book(showtime, ["J14"], key=key)
    assert other_body.status == 422, other_body
    mine = [b for b in user.all_pages("/api/bookings/") if b["showtime_id"] == showtime]
    assert [b["id"] for b in mine] == [first.body["id"]]
    user.wait_until_confirmed(first.body["id"])
    assert_seats(showtime, J15="sold")
    system.verify()
