"""The commands `manage_all.py up` runs for each process of a service."""

from __future__ import annotations

import shutil

import pytest

from common.config.services import SERVICES
from deploy.cli import system

pytestmark = pytest.mark.skipif(shutil.which("nice") is None, reason="no nice(1) on this machine")


@pytest.mark.parametrize("command", [system.worker_command, system.beat_command])
@pytest.mark.parametrize(
    ("service", "niceness"),
    [("booking", 5), ("payment", 5), ("notification", 15), ("movie", 15), ("auth", 15)],
)
def test_the_saga_runs_before_the_work_nobody_confirms_with(command, service, niceness):
    assert command(SERVICES[service])[:3] == [shutil.which("nice"), "-n", str(niceness)]


def test_web_servers_run_at_normal_priority():
    assert system.web_command(SERVICES["payment"])[0] == system.PYTHON


def test_the_worker_pool_size_is_left_to_the_services_settings():
    assert "--concurrency" not in system.worker_command(SERVICES["payment"])
