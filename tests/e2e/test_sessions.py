"""What the database server sees of the running system: which process each session serves."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.slow


def application_names(system, variable: str) -> set[str]:
    with psycopg.connect(system.env["POSTGRES_ADMIN_URL"], autocommit=True, connect_timeout=5) as admin:
        rows = admin.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = %s",
            [system.database_name(variable)],
        ).fetchall()
    return {name for (name,) in rows}


def test_each_postgresql_session_names_the_process_it_serves(system, showtime, user):
    # given a confirmed booking: booking's web took the POST, payment's worker charged it, and
    # booking's worker applied the payment
    created = user.book(showtime, ["C1", "C2"])
    assert created.status == 201, created
    user.wait_until_confirmed(created.body["id"])

    # when the database server lists the sessions of the two services' databases
    booking = application_names(system, "BOOKING_DATABASE_URL")
    payment = application_names(system, "PAYMENT_DATABASE_URL")

    # then each names its service and role (the connections are kept between requests and tasks)
    assert {"booking-web", "booking-worker"} <= booking, booking
    assert "payment-worker" in payment, payment
