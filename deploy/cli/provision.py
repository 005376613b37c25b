"""``manage_all.py provision``: the five roles and databases on a PostgreSQL server.

Idempotent, least privilege: each role can log in and owns its own database, and nothing
else — no superuser, no CREATEDB, no CREATEROLE, and CONNECT to the five databases is revoked
from PUBLIC, so a role is refused by the other four.
"""

from __future__ import annotations

import os

from common.config.services import SERVICES, Service

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser) -> None:
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL),
        help="a superuser connection (default: $POSTGRES_ADMIN_URL or %(default)s)",
    )


def password_for(service: Service) -> str:
    return os.environ.get(f"{service.env_prefix}_DB_PASSWORD", service.dev_password)


def _set_role(admin, service: Service, *, update: bool) -> bool:
    """Create the service's role, or (``update``) reset an existing one's attributes and password.

    Returns whether the role existed.
    """
    from psycopg import sql

    exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [service.db_user]).fetchone() is not None
    if exists and not update:
        return exists
    admin.execute(
        sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"),
            sql.Identifier(service.db_user),
            sql.Literal(password_for(service)),
        )
    )
    return exists


def provision_roles(admin_url: str, services: list[Service] | None = None) -> None:
    """The roles only, where missing, existing ones untouched (the bench creates its own databases)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        for service in services or SERVICES.values():
            _set_role(admin, service, update=False)


def provision(admin_url: str, services: list[Service] | None = None) -> None:
    import psycopg
    from psycopg import sql

    services = services or list(SERVICES.values())
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        for service in services:
            role, database = sql.Identifier(service.db_user), sql.Identifier(service.database)
            exists = _set_role(admin, service, update=True)
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [service.database]).fetchone():
                admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, role))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
            admin.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(database, role))
            print(f"{service.database:<18} owned by {service.db_user} ({'updated' if exists else 'created'})")


def run(args) -> int:
    provision(args.admin_url)
    return 0
