"""Shared helpers for the deployment tests (no Django: run with `-p no:django`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
