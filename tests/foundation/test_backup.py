"""``manage_all.py backup`` / ``restore`` round-trip every service's database."""

import contextlib
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


@pytest.fixture
def embedded_movie_database(monkeypatch, tmp_path):
    """The movie service on the embedded default: a migrated SQLite file in WAL mode with rows."""
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MOVIE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    database = tmp_path / "var" / "movie" / "db.sqlite3"
    database.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE django_migrations (id integer PRIMARY KEY, app text, name text)")
        conn.execute("CREATE TABLE probe (id int, note text)")
        conn.executemany("INSERT INTO probe VALUES (?, ?)", ROWS)
    return database


def sqlite_rows(database) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return conn.execute("SELECT id, note FROM probe ORDER BY id").fetchall()


def test_embedded_sqlite_databases_round_trip(embedded_movie_database, tmp_path):
    database = embedded_movie_database
    folder = backups.backup([SERVICES["movie"]], tmp_path / "backup")
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM probe")
    backups.restore(folder, [SERVICES["movie"]])

    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT id, note FROM probe ORDER BY id").fetchall() == ROWS


def test_a_sqlite_restore_under_a_running_service_is_not_undone_by_its_write_ahead_log(
    embedded_movie_database, tmp_path
):
    # given a backup, then writes that a running service keeps in its write-ahead log (not yet
    # checkpointed into the file, its connection still open)
    database = embedded_movie_database
    folder = backups.backup([SERVICES["movie"]], tmp_path / "backup")
    running = sqlite3.connect(database)
    try:
        running.execute("PRAGMA wal_autocheckpoint=0")
        with running:
            running.execute("DELETE FROM probe")
            running.execute("INSERT INTO probe VALUES (99, 'written after the backup')")

        # when the backup is restored
        backups.restore(folder, [SERVICES["movie"]])

        # then every connection, the running one too, reads the backup's rows
        assert sqlite_rows(database) == ROWS
        assert running.execute("SELECT id, note FROM probe ORDER BY id").fetchall() == ROWS
    finally:
        running.close()
    assert sqlite_rows(database) == ROWS


def test_a_backup_of_an_embedded_database_that_is_not_there_is_refused_and_creates_none(monkeypatch, tmp_path):
    # given a VAR_DIR where `up` never ran
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("MOVIE_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    # when a backup is asked for, then it is refused, no database was created, no manifest written
    with pytest.raises(SystemExit, match="no database at"):
        backups.backup([SERVICES["movie"]], tmp_path / "backup")
    assert not (tmp_path / "elsewhere" / "movie" / "db.sqlite3").exists()
    assert not (tmp_path / "backup" / "manifest.json").exists()


def test_a_backup_of_an_empty_sqlite_file_is_refused(embedded_movie_database, tmp_path):
    embedded_movie_database.unlink()
    sqlite3.connect(embedded_movie_database).close()  # what a stray connect leaves behind

    with pytest.raises(SystemExit, match="is not a migrated database"):
        backups.backup([SERVICES["movie"]], tmp_path / "backup")


def test_restore_refuses_a_backup_of_another_kind_or_another_database_before_restoring_any(
    scratch_databases, monkeypatch, tmp_path
):
    # given a backup of the auth and movie databases
    chosen = [SERVICES["auth"], SERVICES["movie"]]
    folder = backups.backup(chosen, tmp_path / "backup")
    for service in chosen:
        with psycopg.connect(scratch_databases[service.name]) as conn:
            conn.execute("DELETE FROM probe")

    # when the movie service points at a database of another name, or at the embedded default
    base = scratch_databases["movie"].rsplit("/", 1)[0]
    monkeypatch.setenv(SERVICES["movie"].database_url_var, f"{base}/backuptest_not_this_one")
    with pytest.raises(SystemExit, match=r"the backup is of 'backuptest_movies_db'.*--force"):
        backups.restore(folder, chosen)
    monkeypatch.delenv(SERVICES["movie"].database_url_var)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    with pytest.raises(SystemExit, match="the backup is pg_dump-custom, the service is configured for SQLite"):
        backups.restore(folder, chosen)

    # then nothing was restored, not even the auth database, which matched
    assert rows(scratch_databases["auth"]) == []


def test_the_newest_backup_is_the_one_taken_last_whatever_its_folder_is_called(monkeypatch, tmp_path):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    for name, taken in (
        ("pre-upgrade", "2026-12-07T09:00:00+00:00"),
        ("20261207T100000Z", "2026-12-07T10:00:00+00:00"),
    ):
        (tmp_path / "backups" / name).mkdir(parents=True)
        (tmp_path / "backups" / name / "manifest.json").write_text(json.dumps({"created_at": taken, "services": {}}))

    assert backups.newest_backup() == tmp_path / "backups" / "20261207T100000Z"


def test_a_sqlite_restore_into_a_var_dir_no_service_uses_is_refused(embedded_movie_database, monkeypatch, tmp_path):
    # given a backup of the embedded movie database, and a shell whose VAR_DIR points elsewhere
    folder = backups.backup([SERVICES["movie"]], tmp_path / "backup")
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "elsewhere"))

    # when it is restored, then it is refused and no database is created there
    with pytest.raises(SystemExit, match=r"no database at .*--force"):
        backups.restore(folder, [SERVICES["movie"]])
    assert not (tmp_path / "elsewhere" / "movie" / "db.sqlite3").exists()


@pytest.mark.parametrize(
    ("host", "port", "where"),
    [
        ("db.internal", 6543, ["--host", "db.internal", "--port", "6543"]),
        # No host or port in the URL: libpq's defaults (PGHOST, PGPORT, the socket), as Django's.
        ("", "", []),
        ("", 6543, ["--port", "6543"]),
    ],
)
def test_pg_dump_and_pg_restore_connect_where_the_service_connects(host, port, where):
    config = {"HOST": host, "PORT": port, "USER": "booking_user", "NAME": "bookings_db"}

    assert backups._pg_target(config) == [*where, "--username", "booking_user", "--dbname", "bookings_db"]
