"""``manage_all.py backup`` / ``restore``: each service's database, with that service's own role.

PostgreSQL: ``pg_dump -Fc`` (custom format, restorable table by table) per database into one
timestamped folder, with a manifest of sizes and SHA-256 checksums; restore checks the checksum
and runs ``pg_restore --clean --if-exists --single-transaction`` so a failed restore changes
nothing. The embedded SQLite default is copied with SQLite's online backup API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
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
    return [
        "--host", config.get("HOST") or "127.0.0.1",
        "--port", str(config.get("PORT") or 5432),
        "--username", config["USER"],
        "--dbname", config["NAME"],
    ]  # fmt: skip


def backup_service(service: Service, folder: Path) -> dict:
    config = database_config(service.name)
    if config["ENGINE"].endswith("sqlite3"):
        target = folder / f"{service.name}.sqlite3"
        with sqlite3.connect(config["NAME"]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
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


def restore_service(service: Service, folder: Path, entry: dict) -> None:
    path = folder / entry["file"]
    if _sha256(path) != entry["sha256"]:
        raise SystemExit(f"{path} does not match its checksum in the manifest; not restoring {service.name}")
    config = database_config(service.name)
    if entry["format"] == "sqlite":
        shutil.copyfile(path, config["NAME"])
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
    candidates = sorted((var_dir() / "backups").glob(f"*/{MANIFEST}"))
    if not candidates:
        raise SystemExit("no backup found under var/backups; pass --from FOLDER")
    return candidates[-1].parent


def restore(folder: Path, services: list[Service]) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    for service in services:
        entry = manifest["services"].get(service.name)
        if entry is None:
            continue
        restore_service(service, folder, entry)
        print(f"{service.name:<13} restored from {entry['file']}")


def run_backup(args) -> int:
    folder = backup(system.select(args.only), args.dest)
    print(f"backup written to {folder}")
    return 0


def run_restore(args) -> int:
    restore(args.source or newest_backup(), system.select(args.only))
    return 0
