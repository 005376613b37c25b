"""The security sweep talks to the same running system as the end-to-end tests (one per session)."""

from __future__ import annotations

import pytest
from e2e import support


@pytest.fixture(scope="session")
def owners(system):
    """Two customers, each with a confirmed booking, its payment and notifications."""
    showtime = system.showtime()
    people = {}
    for name, seat in (("alice", "A1"), ("bob", "A2")):
        client = support.register(name)
        created = client.book(showtime, [seat])
        assert created.status == 201, created
        booking = client.wait_for_booking(created.body["id"])
        assert booking["status"] == "confirmed", booking
        payments = client.payments_for(booking["id"])
        notifications = client.wait_for_notifications(1)
        assert payments, "no payment"
        assert notifications, "no notification"
        people[name] = {
            "client": client,
            "showtime": showtime,
            "bookings": booking["id"],
            "payments": payments[0]["id"],
            "notifications": notifications[0]["id"],
        }
    return people
