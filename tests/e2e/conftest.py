"""The whole system on the real PostgreSQL, RabbitMQ and Redis, once per session, behind the gateway.

Started with ``manage_all.py up --gateway`` (migrations, web servers, workers, beat, NGINX) and stopped
with SIGINT at the end of the session; the session fails if anything it started is left running.
"""

from __future__ import annotations

import pytest

from . import support


@pytest.fixture(scope="session")
def system():
    running = support.acquire()
    try:
        yield running
    finally:
        support.release()


@pytest.fixture
def showtime(system) -> str:
    """A showtime no other test books, already known to the booking service."""
    return system.showtime()


@pytest.fixture
def user(system) -> support.Client:
    return support.register("user")
