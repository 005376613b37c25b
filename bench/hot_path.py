"""The booking POST's own CPU in one process: a repeatable figure for A/B runs of the hot path.

    .venv/bin/python -m bench.hot_path [--posts 600] [--rounds 5] [--seats 140] [--profile FILE]

The open-loop run (``bench.run``) measures the whole stack, and its per-POST figures move by 15-20%
between runs on this VM. This runs the same request in one process instead: a throwaway test
database of the booking service (its test settings, the real PostgreSQL and RabbitMQ), one
showtime replica with a seat plan the size of the demo's big screen, and ``--posts`` requests
through the full Django and DRF stack (middleware, RS256 token check, serializers, the hold's
transaction, the outbox row; the relay in its background thread, as in production). It reports
the CPU time of the request's own thread per POST, the median and spread over ``--rounds``, and
the statements per POST. With ``--profile FILE`` it runs cProfile over one more round and writes
the 40 most expensive functions (cumulative CPU) and the 25 of most CPU in their own code to FILE.

Compare two revisions by running this in each, alternately; a change of a few percent shows.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_service.settings.test")
    os.environ["TEST_DB_SUFFIX"] = "_hot_path"  # beside, not over, a test run's database
    import django

    django.setup()
    from django.conf import settings

    # Production hands committed outbox rows to one relay thread; the test settings relay inline.
    settings.COMMON = {**settings.COMMON, "EVENTS": {**settings.COMMON["EVENTS"], "RELAY_IN_BACKGROUND": True}}


def _seat_plan(count: int) -> list[dict[str, str]]:
    rows = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    per_row = 14
    return [
        {"label": f"{rows[index // per_row]}{index % per_row + 1}", "category": "premium" if index < 42 else "standard"}
        for index in range(count)
    ]


def _requests(count: int, showtimes: list[uuid.UUID], seats: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(token, body) per POST: a distinct user each (one pending booking per user and showtime),
    two seats no other POST of the round asks for."""
    from common.auth.testing import make_access_token

    labels = [seat["label"] for seat in seats]
    pairs = [labels[i : i + 2] for i in range(0, len(labels) - 1, 2)]
    plan = [(showtime, pair) for showtime in showtimes for pair in pairs]
    if count > len(plan):
        raise SystemExit(f"{count} POSTs need more seats than {len(showtimes)} showtimes have")
    return [
        (
            make_access_token(user_id=uuid.uuid4(), email=f"hot{index}@example.com"),
            json.dumps({"showtime_id": str(showtime), "seats": pair, "payment_method": "pm_card_visa"}),
        )
        for index, (showtime, pair) in enumerate(plan[:count])
    ]


def _round(client, requests) -> float:
    """CPU seconds of this thread per POST."""
    cpu = 0.0
    for token, body in requests:
        started = time.thread_time()
        response = client.post(
            "/api/bookings/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        cpu += time.thread_time() - started
        if response.status_code != 201:
            raise SystemExit(f"POST answered {response.status_code}: {response.content[:300]!r}")
    return cpu / len(requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_path")
    parser.add_argument("--posts", type=int, default=600, help="POSTs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seats", type=int, default=140, help="seats in the showtime's plan")
    parser.add_argument("--profile", metavar="FILE", help="cProfile one more round, top 40 to FILE")
    args = parser.parse_args(argv)
    _setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from booking_service.bookings.models import Booking, BookingSeat
    from booking_service.bookings.tests.factories import ShowtimeReplicaFactory
    from common.events import background
    from common.testing.pytest_plugin import drop_database, recreate_database

    database = connection.settings_dict
    if "postgresql" not in database["ENGINE"]:
        raise SystemExit("bench.hot_path measures on PostgreSQL: set BOOKING_DATABASE_URL (see .ci/run)")
    setup_test_environment()
    # As the test runs do it: made through the admin connection, owned by the service's role.
    recreate_database(database["TEST"]["NAME"], database["USER"])
    test_database = connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    try:
        seats = _seat_plan(args.seats)
        showtimes = [
            ShowtimeReplicaFactory(seats=seats, prices={"standard": "12.50", "premium": "18.00"}).id
            for _ in range(max(args.posts, 50) * 2 // args.seats + 1)
        ]
        client = Client()
        # Warm-up (imports, the key cache, the broker connection), counting statements on the way;
        # the timed rounds run without the debug cursor that counting needs.
        with CaptureQueriesContext(connection) as queries:
            _round(client, _requests(50, showtimes, seats))
        statements = len(queries.captured_queries) / 50
        per_round = []
        for _ in range(args.rounds + bool(args.profile)):
            BookingSeat.objects.all().delete()
            Booking.objects.all().delete()
            background.drain(10.0)
            requests = _requests(args.posts, showtimes, seats)
            if args.profile and len(per_round) == args.rounds:
                profiler = cProfile.Profile(time.thread_time)  # CPU, not the wait for PostgreSQL
                profiler.runcall(_round, client, requests)
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("cumulative").print_stats(40)
                stats.sort_stats("tottime").print_stats(25)
                with open(args.profile, "w", encoding="utf-8") as handle:
                    handle.write(out.getvalue())
                continue
            per_round.append(_round(client, requests) * 1000)
        background.drain(10.0)
    finally:
        connection.close()
        drop_database(test_database)
    print(
        f"booking POST, request thread CPU: median {statistics.median(per_round):.3f} ms, "
        f"least {min(per_round):.3f} ms "
        f"(rounds {', '.join(f'{value:.3f}' for value in per_round)}), "
        f"{statements:.1f} statements a POST, {args.seats} seats in the plan"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
