"""Shared helpers for the deployment tests (no Django: run with `-p no:django`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `import deploy.gateway` without installing anything
    sys.path.insert(0, str(REPO_ROOT))

# name -> (package, port, URL prefix, database, DB user, dev password), as in the contract.
SERVICES = {
    "auth": ("auth_service", 8001, "auth", "auth_db", "auth_user", "auth_password123"),
    "movie": ("movie_service", 8002, "movies", "movies_db", "movie_user", "movie_password123"),
    "booking": ("booking_service", 8003, "bookings", "bookings_db", "booking_user", "booking_password123"),
    "payment": ("payment_service", 8004, "payments", "payments_db", "payment_user", "payment_password123"),
    "notification": (
        "notification_service", 8005, "notifications", "notifications_db",
        "notification_user", "notification_password123",
    ),
}  # fmt: skip


def require_tool(name: str) -> str:
    """Path of an external tool, or skip; REQUIRE_SERVICES=1 turns the skip into a failure."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/usr/local/bin")
    if path:
        return path
    reason = f"{name} is not installed (apt-get install nginx-light / kubectl)"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_nginx(command: list[str], port: int, error_log: Path) -> Iterator[str]:
    """Start nginx with ``command``, wait until it listens on ``port``; yields ``127.0.0.1:port``."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                log = error_log.read_text() if error_log.exists() else ""
                pytest.fail(f"nginx did not start: {err.decode()} {log}")
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def kustomize(overlay: str) -> list[dict]:
    return kustomize_path(REPO_ROOT / "deploy" / "k8s" / "overlays" / overlay)


@pytest.fixture(scope="session", params=["dev", "prod"])
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, kustomize(request.param)


def kustomize_path(path: Path) -> list[dict]:
    kubectl = require_tool("kubectl")
    out = subprocess.run([kubectl, "kustomize", str(path)], check=True, capture_output=True, text=True, timeout=120)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]
