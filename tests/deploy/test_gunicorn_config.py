"""The shared gunicorn config, as gunicorn itself reads it."""

from __future__ import annotations

from gunicorn.config import Config

from tests.deploy.conftest import REPO_ROOT

CONFIG = REPO_ROOT / "deploy" / "gunicorn.conf.py"


def gunicorn_config(monkeypatch, **environ: str) -> Config:
    for name in ("GUNICORN_CONTROL_SOCKET", "GUNICORN_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    namespace: dict = {"__file__": str(CONFIG)}
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)  # noqa: S102 - our own config file
    config = Config()
    for key, value in namespace.items():
        if key in config.settings:
            config.set(key, value)
    return config


def test_a_container_opens_no_control_socket_under_its_home(monkeypatch):
    config = gunicorn_config(monkeypatch)

    assert config.control_socket_disable is True


def test_a_server_given_a_control_socket_opens_it_there(monkeypatch, tmp_path):
    config = gunicorn_config(monkeypatch, GUNICORN_CONTROL_SOCKET=str(tmp_path / "booking.ctl"))

    assert config.control_socket_disable is False
    assert config.control_socket == str(tmp_path / "booking.ctl")
