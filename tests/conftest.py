"""What the cross-service suites share: the one running system of a test session."""

from __future__ import annotations

import pytest
from e2e import support


@pytest.fixture(scope="session")
def system():
    """The whole system behind the gateway (``e2e.support``): started by the first test that asks
    for it, stopped when the session ends; the end-to-end journeys and the security sweep share it."""
    running = support.acquire()
    try:
        yield running
    finally:
        support.release()
