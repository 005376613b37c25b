"""``manage_all.py backup`` / ``restore`` round-trip every service's database."""

import json
import sqlite3

import psycopg
import pytest
from psycopg import sql

from common.config.services import SERVICES
from common.testing.infrastructure import require_postgres_admin
from deploy.cli import backup as backups
from deploy.cli.provision import password_for, provision

ROWS = [(1, "first"), (2, "second"), (3, "third")]


@pytest.fixture
def scratch_databases(monkeypatch):
    """A scratch database per service, owned by that service's role, holding a probe table."""
    admin_url = require_postgres_admin()
    provision(admin_url)
    urls = {}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for service in SERVICES.values():
            name = f"backuptest_{service.database}"
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(service.db_user))
            )
            urls[service.name] = f"postgresql://{service.db_user}:{password_for(service)}@127.0.0.1:5432/{name}"
            monkeypatch.setenv(service.database_url_var, urls[service.name])
            with psycopg.connect(urls[service.name]) as conn:
                conn.execute("CREATE TABLE probe (id int PRIMARY KEY, note text)")
                conn.cursor().executemany("INSERT INTO probe VALUES (%s, %s)", ROWS)
    yield urls
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for service in SERVICES.values():
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(f"backuptest_{service.database}")
                )
            )


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, note FROM probe ORDER BY id").fetchall()


def test_backup_and_restore_round_trip_all_five_databases(scratch_databases, tmp_path):
    folder = backups.backup(list(SERVICES.values()), tmp_path / "backup")
    for url in scratch_databases.values():
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM probe WHERE id > 1")
            conn.execute("INSERT INTO probe VALUES (99, 'written after the backup')")

    backups.restore(folder, list(SERVICES.values()))

    for url in scratch_databases.values():
        assert rows(url) == ROWS
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["services"]) == sorted(SERVICES)
    for name, entry in manifest["services"].items():
        assert entry["database"] == f"backuptest_{SERVICES[name].database}"
        assert entry["format"] == "pg_dump-custom"
        assert entry["bytes"] == (folder / entry["file"]).stat().st_size
        assert len(entry["sha256"]) == 64


def test_restore_refuses_a_file_that_does_not_match_its_checksum(scratch_databases, tmp_path):
    auth = [SERVICES["auth"]]
    folder = backups.backup(auth, tmp_path / "backup")
    with (folder / "auth.dump").open("ab") as dump:
        dump.write(b"tampered")
    with psycopg.connect(scratch_databases["auth"]) as conn:
        conn.execute("DELETE FROM probe")

    with pytest.raises(SystemExit, match="checksum"):
        backups.restore(folder, auth)

    assert rows(scratch_databases["auth"]) == []


def test_embedded_sqlite_databases_round_trip(monkeypatch, tmp_path):
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MOVIE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    database = tmp_path / "var" / "movie" / "db.sqlite3"
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE probe (id int, note text)")
        conn.executemany("INSERT INTO probe VALUES (?, ?)", ROWS)

    folder = backups.backup([SERVICES["movie"]], tmp_path / "backup")
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM probe")
    backups.restore(folder, [SERVICES["movie"]])

    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT id, note FROM probe ORDER BY id").fetchall() == ROWS
