"""The service image: what the Dockerfile copies is enough to run the service, and nothing more.

No Docker engine here, so the image's /app is rebuilt in a temporary directory from the same
paths the Dockerfile copies, and the build step that needs the code (collectstatic with the
production settings) is run against it.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_ROOT, SERVICES

DOCKERFILE = (REPO_ROOT / "deploy" / "docker" / "Dockerfile").read_text()
ENTRYPOINT = REPO_ROOT / "deploy" / "docker" / "entrypoint.sh"


def copied_sources() -> list[str]:
    """Sources of the runtime stage's COPY instructions (without --from)."""
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    sources = []
    for line in runtime.splitlines():
        # The build-time helper goes to /tmp and is removed after use; it is not part of /app.
        if line.startswith("COPY ") and "--from" not in line and not line.endswith(" /tmp/build-collectstatic.sh"):
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources += parts[:-1]
    return sources


def test_dockerfile_is_multi_stage_slim_and_unprivileged():
    stages = re.findall(r"^FROM (\S+) AS (\w+)", DOCKERFILE, flags=re.M)

    assert [name for _, name in stages] == ["builder", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.M)
    assert user == ["app:app"]
    assert "ARG SERVICE" in DOCKERFILE
    assert "pip install -r /tmp/requirements/base.txt" in DOCKERFILE


def test_image_holds_only_common_one_service_and_the_gunicorn_config():
    assert sorted(copied_sources()) == sorted([
        "deploy/__init__.py", "deploy/gunicorn.conf.py", "deploy/docker/entrypoint.sh",
        "common/", "${SERVICE}_service/",
    ])  # fmt: skip


def test_dockerignore_keeps_local_state_out_of_the_context():
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()

    for entry in (".git", ".venv", "var/", ".env", "tests/"):
        assert entry in ignored


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("web", "gunicorn booking_service.wsgi:application -c deploy/gunicorn.conf.py --bind 0.0.0.0:8003"),
        ("worker", "celery -A booking_service worker -Q booking.tasks --loglevel INFO"),
        ("beat", "celery -A booking_service beat --loglevel INFO -s /tmp/celerybeat-schedule"),
        ("migrate", "python booking_service/manage.py migrate --noinput"),
        ("collectstatic", "python booking_service/manage.py collectstatic --noinput"),
    ],
)
def test_entrypoint_runs_the_teams_commands(tmp_path, role, expected):
    # Fake gunicorn/celery/python that print their argv, found first on PATH.
    for tool in ("gunicorn", "celery", "python"):
        fake = tmp_path / tool
        fake.write_text(f'#!/bin/sh\necho {tool} "$@"\n')
        fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "SERVICE": "booking"}

    result = subprocess.run(["sh", str(ENTRYPOINT), role], env=env, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == expected


@pytest.mark.parametrize(("role", "preset", "expected"), [("worker", None, "payment-worker"), ("web", "mine", "mine")])
def test_entrypoint_names_the_database_sessions_after_the_service_and_role(tmp_path, role, preset, expected):
    # A fake celery/gunicorn that prints the PostgreSQL application name its sessions would carry.
    for tool in ("gunicorn", "celery"):
        fake = tmp_path / tool
        fake.write_text('#!/bin/sh\necho "$PGAPPNAME"\n')
        fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "SERVICE": "payment", **({"PGAPPNAME": preset} if preset else {})}

    result = subprocess.run(["sh", str(ENTRYPOINT), role], env=env, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == expected


def test_entrypoint_runs_any_other_command(tmp_path):
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "echo", "hello"], env={"PATH": "/usr/bin:/bin", "SERVICE": "auth"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert result.stdout.strip() == "hello"


@pytest.mark.parametrize("name", SERVICES)
def test_image_contents_are_enough_to_collect_static_with_production_settings(tmp_path, name):
    package = SERVICES[name][0]
    if not (REPO_ROOT / package / "manage.py").exists():
        pytest.skip(f"{package}/manage.py does not exist yet")
    app = tmp_path / "app"
    for source in copied_sources():
        source = source.replace("${SERVICE}", name).rstrip("/")
        target = app / ("entrypoint" if source.endswith("entrypoint.sh") else source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO_ROOT / source).is_dir():
            shutil.copytree(REPO_ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "tests"))
        else:
            shutil.copy(REPO_ROOT / source, target)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(app),
           "VAR_DIR": str(app / "var"), "SERVICE": name}  # fmt: skip

    result = subprocess.run(
        ["sh", str(REPO_ROOT / "deploy" / "docker" / "build-collectstatic.sh")],
        cwd=app, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    assert (app / "var" / name / "static" / "staticfiles.json").exists()


def test_nothing_the_dockerfile_copies_is_excluded_from_the_context():
    patterns = [
        line.strip().rstrip("/")
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    sources = [s.replace("${SERVICE}", "booking").rstrip("/") for s in copied_sources()]
    sources += ["requirements/base.txt", "deploy/docker/build-collectstatic.sh"]

    for source in sources:
        parts = Path(source).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hits = [p for p in patterns for prefix in prefixes if fnmatch.fnmatch(prefix, p.removeprefix("**/"))]
        assert not hits, f"{source} is excluded by .dockerignore {hits}"
