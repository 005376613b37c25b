"""The shared gunicorn config, as gunicorn itself reads it."""

from __future__ import annotations

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
