"""The shared gunicorn config, as gunicorn itself reads it."""

from __future__ import annotations

import os
from types import SimpleNamespace

from gunicorn.app.base import Application
from gunicorn.config import Config

from tests.deploy.conftest import REPO_ROOT

CONFIG = REPO_ROOT / "deploy" / "gunicorn.conf.py"


class ConfigFile(Application):
    """Only gunicorn's own reading of a config file: no command line, no application."""

    def __init__(self, path):
        self.cfg = Config()
        self.load_config_from_file(str(path))


def gunicorn_config(monkeypatch, **environ: str) -> Config:
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    # Set (not deleted) so that monkeypatch puts back the test process's own value afterwards.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return ConfigFile(CONFIG).cfg


def test_a_container_opens_no_control_socket_under_its_home(monkeypatch):
    config = gunicorn_config(monkeypatch)

    assert config.control_socket_disable is True


def test_a_server_given_a_control_socket_opens_it_there(monkeypatch, tmp_path):
    config = gunicorn_config(monkeypatch, GUNICORN_CONTROL_SOCKET=str(tmp_path / "booking.ctl"))

    assert config.control_socket_disable is False
    assert config.control_socket == str(tmp_path / "booking.ctl")


def test_a_server_keeps_its_workers_metrics_in_a_fresh_directory(monkeypatch):
    gunicorn_config(monkeypatch)

    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert os.path.isdir(directory)
    assert os.listdir(directory) == []


def test_a_metrics_directory_given_from_outside_is_kept(monkeypatch, tmp_path):
    gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_a_dead_workers_live_gauges_leave_and_its_counters_stay(monkeypatch, tmp_path):
    # given the files of worker 4242 and of a live worker 4343
    config = gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    for name in ("counter_4242.db", "gauge_livesum_4242.db", "gauge_liveall_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")

    # when gunicorn reaps worker 4242
    config.child_exit(None, SimpleNamespace(pid=4242))

    # then only its live gauges are gone
    assert sorted(os.listdir(tmp_path)) == ["counter_4242.db", "gauge_livesum_4343.db"]
