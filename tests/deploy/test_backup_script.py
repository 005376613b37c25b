"""deploy/scripts/backup-databases.sh against a real PostgreSQL.

No Docker here, so `docker` is a stand-in (DOCKER=...) that runs `docker exec [-i] postgres_<svc>
<tool> ...` with the local client tools against scratch databases on the test server
(POSTGRES_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres). The script and the
seed's restore command run unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.deploy.conftest import REPO_ROOT, SERVICES

SCRIPT = REPO_ROOT / "deploy" / "scripts" / "backup-databases.sh"
ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

FAKE_DOCKER = """#!{python}
# docker exec [-i|-it] postgres_<svc> <tool> args...: run <tool> locally against the scratch
# database standing in for <svc>'s, as the admin user; `fail_<svc>` files make that exec fail.
import os, sys
from urllib.parse import urlsplit
args = sys.argv[1:]
assert args[0] == "exec", args
args = [a for a in args[1:] if a not in ("-i", "-it")]
container, tool, rest = args[0], args[1], args[2:]
service = container.removeprefix("postgres_")
if os.path.exists(os.path.join({state!r}, "fail_" + service)):
    sys.exit(2)
admin = urlsplit({admin!r})
out = []
i = 0
while i < len(rest):
    if rest[i] == "-U":
        out += ["-U", admin.username]
        i += 2
        continue
    if rest[i] == "-d":
        out += ["-d", rest[i + 1] + "_" + {suffix!r}]
        i += 2
        continue
    out.append(rest[i])
    i += 1
os.execvp(tool, [tool, "-h", admin.hostname, "-p", str(admin.port or 5432)] + out)
"""


def psql(database: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", ADMIN_URL.rsplit("/", 1)[0] + "/" + database, "-v", "ON_ERROR_STOP=1", "-XAtq", "-c", sql],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def scratch(tmp_path):
    if not shutil.which("psql") or not shutil.which("pg_dump"):
        pytest.skip("PostgreSQL client tools are not installed")
    ready = subprocess.run(["psql", ADMIN_URL, "-XAtqc", "select 1"], capture_output=True, timeout=10)
    if ready.returncode != 0:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but PostgreSQL at {ADMIN_URL} is not reachable")
        pytest.skip(f"PostgreSQL at {ADMIN_URL} is not reachable")
    suffix = f"bkp{uuid.uuid4().hex[:8]}"
    databases = {name: f"{row[3]}_{suffix}" for name, row in SERVICES.items()}
    for database in databases.values():
        psql("postgres", f'CREATE DATABASE "{database}"')
    docker = tmp_path / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable, state=str(tmp_path), admin=ADMIN_URL, suffix=suffix))
    docker.chmod(0o755)
    yield tmp_path, docker, databases
    for database in databases.values():
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_backup(docker, out_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), str(out_dir)], env={**os.environ, "DOCKER": str(docker)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def restore(docker, name: str, backup_file, *, check: bool = True) -> subprocess.CompletedProcess:
    """The seed's command as written: docker exec -i postgres_auth psql -U auth_user -d auth_db < backup_auth_db.sql"""
    _, _, _, database, user, _ = SERVICES[name]
    with open(backup_file, "rb") as stdin:
        return subprocess.run(
            [str(docker), "exec", "-i", f"postgres_{name}", "psql", "-U", user, "-d", database],
            stdin=stdin, check=check, capture_output=True, text=True, timeout=120,
        )  # fmt: skip


def test_backup_then_restore_round_trips_every_database(scratch):
    tmp, docker, databases = scratch
    for name, database in databases.items():
        psql(database, "CREATE TABLE things (id int PRIMARY KEY, label text)")
        psql(database, f"INSERT INTO things SELECT g, '{name}-' || g FROM generate_series(1, 50) g")  # noqa: S608

    result = run_backup(docker, tmp / "out")
    assert result.returncode == 0, result.stderr

    for name, database in databases.items():
        backup_file = tmp / "out" / f"backup_{SERVICES[name][3]}.sql"
        assert backup_file.exists()
        psql(database, "DELETE FROM things WHERE id > 10; INSERT INTO things VALUES (999, 'after backup')")
        restore(docker, name, backup_file)
        assert psql(database, "SELECT count(*), min(label), max(id) FROM things") == f"50|{name}-1|50"


def test_a_failed_dump_keeps_the_previous_backup_and_fails(scratch):
    tmp, docker, _ = scratch
    assert run_backup(docker, tmp).returncode == 0
    previous = (tmp / "backup_payments_db.sql").read_text()
    (tmp / "fail_payment").touch()

    result = run_backup(docker, tmp)

    assert result.returncode == 1
    assert "FAILED to back up payments_db" in result.stderr
    assert (tmp / "backup_payments_db.sql").read_text() == previous
    assert not (tmp / "backup_payments_db.sql.partial").exists()
    assert (tmp / "backup_auth_db.sql").exists()


def test_a_restore_that_meets_an_error_stops_changes_nothing_and_fails(scratch):
    # given a backup, then a table added since that depends on the dumped one
    tmp, docker, databases = scratch
    database = databases["auth"]
    psql(database, "CREATE TABLE things (id int PRIMARY KEY, label text)")
    psql(database, "INSERT INTO things VALUES (1, 'backed up')")
    assert run_backup(docker, tmp / "out").returncode == 0
    psql(database, "INSERT INTO things VALUES (2, 'written after')")
    psql(database, "CREATE TABLE later (thing_id int REFERENCES things (id))")

    # when the seed's command restores it (its DROP TABLE things fails: `later` depends on it)
    result = restore(docker, "auth", tmp / "out" / "backup_auth_db.sql", check=False)

    # then psql stopped at the error and said so, and the database is as it was
    assert result.returncode != 0
    assert "depend" in result.stderr
    assert psql(database, "SELECT string_agg(label, ',' ORDER BY id) FROM things") == "backed up,written after"
