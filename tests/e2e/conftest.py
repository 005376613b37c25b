"""The whole system on the real PostgreSQL, RabbitMQ and Redis, once per session, behind the gateway.

Started with ``manage_all.py up --gateway`` (migrations, web servers, workers, beat, NGINX) and stopped
with SIGINT at the end of the session; the session fails if anything it started is left running.
"""

from __future__ import annotations

import pytest

from . import support


@pytest.fixture
def showtime(system) -> str:
    """A showtime no other test books, already known to the booking service."""
    return system.showtime()


@pytest.fixture
def user(system) -> support.Client:
    return support.register("user")


_LOG_OFFSET = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    system = item.funcargs.get("system")
    if system is not None:
        item.stash[_LOG_OFFSET] = system.log_size()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test shows what the system warned about meanwhile: CI keeps no logs but its output."""
    report = yield
    system = item.funcargs.get("system")
    if report.when == "call" and report.failed and system is not None and _LOG_OFFSET in item.stash:
        report.sections.append(("system warnings during the test", system.warnings_since(item.stash[_LOG_OFFSET])))
    return report
