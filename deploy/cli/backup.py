"""``manage_all.py backup`` / ``restore``: each service's database, with that service's own role.

PostgreSQL: ``pg_dump -Fc`` (custom format, restorable table by table) per database into one
timestamped folder, with a manifest of sizes and SHA-256 checksums; restore checks the checksum
and runs ``pg_restore --clean --if-exists --single-transaction`` so a failed restore changes
nothing (in that database: a restore of several stops at the first that fails). The embedded
SQLite default is copied both ways with SQLite's online backup API, which goes through the
database's own write-ahead log and locks (a file copy over a live database would leave its old
log to be replayed onto the restored pages).

A restore refuses a backup of another kind of database than the service is configured for, and
one taken from a database of another name unless ``--force``: with a shell's variables pointing
elsewhere, it would otherwise report success having written somewhere no service reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

from common.config.database import database_config
from common.config.paths import var_dir
from common.config.services import Service

from . import system

MANIFEST = "manifest.json"


def add_backup_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated services (default: all five)")
    parser.add_argument("--dest", type=Path, help="folder to create the backup in (default: var/backups/<time>)")


def add_restore_arguments(parser) -> None:
    parser.add_argument("--only", help="comma-separated services (default: every one in the backup)")
    parser.add_argument("--from", dest="source", type=Path, help="backup folder (default: the newest)")
    parser.add_argument(
        "--force", action="store_true", help="restore into a database whose name differs from the backup's"
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env(config: dict) -> dict[str, str]:
    env = dict(os.environ)
    if config.get("PASSWORD"):
        env["PGPASSWORD"] = config["PASSWORD"]
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if option in config.get("OPTIONS", {}):
            env[variable] = str(config["OPTIONS"][option])
    return env


def _pg_target(config: dict) -> list[str]:
    # A URL without a host or port leaves them to libpq (PGHOST, PGPORT, the local socket), as
    # it does for the service's own connection: pg_dump then reads the database the service uses.
    where = [
        *(["--host", str(config["HOST"])] if config.get("HOST") else []),
        *(["--port", str(config["PORT"])] if config.get("PORT") else []),
    ]
    return [*where, "--username", config["USER"], "--dbname", config["NAME"]]


def backup_service(service: Service, folder: Path) -> dict:
    config = database_config(service.name)
    if _is_sqlite(config):
        target = folder / f"{service.name}.sqlite3"
        _sqlite_copy(_existing_sqlite(service, config["NAME"]), target)
        kind = "sqlite"
    else:
        target = folder / f"{service.name}.dump"
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *_pg_target(config)],
            env=_pg_env(config),
            check=True,
        )
        kind = "pg_dump-custom"
    return {
        "database": config["NAME"] if kind != "sqlite" else Path(config["NAME"]).name,
        "file": target.name,
        "format": kind,
        "bytes": target.stat().st_size,
        "sha256": _sha256(target),
    }


def _is_sqlite(config: dict) -> bool:
    return config["ENGINE"].endswith("sqlite3")


def _sqlite_problem(name: str) -> str | None:
    """Why ``name`` is not a migrated SQLite database (missing or empty), or None if it is one.

    ``sqlite3.connect`` creates a missing file: a backup or restore with another ``VAR_DIR`` than
    the running system's wrote empty copies, or a database no service reads.
    """
    if not Path(name).is_file():
        return f"no database at {name} (is VAR_DIR the one `up` uses?)"
    with contextlib.closing(sqlite3.connect(_read_only_uri(name), uri=True)) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'django_migrations'").fetchone():
            return f"{name} is not a migrated database"
    return None


def _read_only_uri(name: str) -> str:
    return f"{Path(name).resolve().as_uri()}?mode=ro"


def _existing_sqlite(service: Service, name: str) -> str:
    """The read-only URI of a migrated SQLite database, to back up; refused if there is none."""
    if problem := _sqlite_problem(name):
        raise SystemExit(f"{service.name}: {problem}; nothing backed up")
    return _read_only_uri(name)


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    uri = isinstance(source, str) and source.startswith("file:")
    with (
        contextlib.closing(sqlite3.connect(source, uri=uri)) as origin,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        origin.backup(copy)


def _check_target(service: Service, entry: dict, config: dict, *, force: bool) -> None:
    configured = Path(config["NAME"]).name if _is_sqlite(config) else config["NAME"]
    if (entry["format"] == "sqlite") != _is_sqlite(config):
        kind = "SQLite" if _is_sqlite(config) else "PostgreSQL"
        raise SystemExit(f"{service.name}: the backup is {entry['format']}, the service is configured for {kind}")
    if _is_sqlite(config) and not force and (problem := _sqlite_problem(config["NAME"])):
        raise SystemExit(f"{service.name}: {problem}; pass --force to restore into it all the same")
    if entry["database"] != configured and not force:
        raise SystemExit(
            f"{service.name}: the backup is of {entry['database']!r}, the service is configured for "
            f"{configured!r}; pass --force to restore into it all the same"
        )


def restore_service(service: Service, folder: Path, entry: dict) -> None:
    """One database from its file in ``folder``; ``restore`` has checked that it is the right one."""
    path = folder / entry["file"]
    if _sha256(path) != entry["sha256"]:
        raise SystemExit(f"{path} does not match its checksum in the manifest; not restoring {service.name}")
    config = database_config(service.name)
    if entry["format"] == "sqlite":
        _sqlite_copy(path, config["NAME"])
        return
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *_pg_target(config), str(path)],
        env=_pg_env(config),
        check=True,
    )


def backup(services: list[Service], dest: Path | None = None) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = dest or var_dir() / "backups" / stamp
    folder.mkdir(parents=True, exist_ok=False)
    manifest = {"created_at": dt.datetime.now(dt.UTC).isoformat(), "services": {}}
    for service in services:
        manifest["services"][service.name] = backup_service(service, folder)
        entry = manifest["services"][service.name]
        print(f"{service.name:<13} {entry['database']:<18} {entry['bytes']:>10} bytes  {entry['file']}")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def newest_backup() -> Path:
    """The backup taken last, by its manifest's time: a folder named by ``--dest`` sorts anywhere."""
    candidates = [
        (dt.datetime.fromisoformat(json.loads(manifest.read_text())["created_at"]), manifest.parent)
        for manifest in (var_dir() / "backups").glob(f"*/{MANIFEST}")
    ]
    if not candidates:
        raise SystemExit("no backup found under var/backups; pass --from FOLDER")
    return max(candidates)[1]


def restore(folder: Path, services: list[Service], *, force: bool = False) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    chosen = [
        (service, manifest["services"][service.name]) for service in services if service.name in manifest["services"]
    ]
    # Every target is checked before any is restored, so a mismatch changes nothing.
    for service, entry in chosen:
        _check_target(service, entry, database_config(service.name), force=force)
    for service, entry in chosen:
        restore_service(service, folder, entry)
        print(f"{service.name:<13} restored from {entry['file']}")


def run_backup(args) -> int:
    folder = backup(system.select(args.only), args.dest)
    print(f"backup written to {folder}")
    return 0


def run_restore(args) -> int:
    restore(args.source or newest_backup(), system.select(args.only), force=args.force)
    return 0
