"""On the real server: least-privilege roles, each confined to its own database."""

import psycopg
import pytest
from psycopg import errors

from common.config.services import SERVICES, Service
from common.testing.infrastructure import require_postgres_admin
from deploy.cli.provision import password_for, provision, provision_roles


@pytest.fixture(scope="module")
def admin_url():
    url = require_postgres_admin()
    provision(url)
    return url


def role_url(admin_url: str, service, database: str) -> str:
    host = psycopg.conninfo.conninfo_to_dict(admin_url).get("host", "127.0.0.1")
    port = psycopg.conninfo.conninfo_to_dict(admin_url).get("port", "5432")
    return f"postgresql://{service.db_user}:{password_for(service)}@{host}:{port}/{database}"


def test_provision_is_idempotent(admin_url):
    provision(admin_url)
    provision(admin_url)

    with psycopg.connect(admin_url) as admin:
        owners = dict(
            admin.execute(
                "SELECT d.datname, r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE d.datname = ANY(%s)",
                [[s.database for s in SERVICES.values()]],
            ).fetchall()
        )
    assert owners == {s.database: s.db_user for s in SERVICES.values()}


def test_roles_have_no_extra_powers(admin_url):
    with psycopg.connect(admin_url) as admin:
        rows = admin.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
            [[s.db_user for s in SERVICES.values()]],
        ).fetchall()
    assert sorted(rows) == sorted((s.db_user, False, False, False, True) for s in SERVICES.values())


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_role_reaches_its_own_database_and_no_other(admin_url, name):
    service = SERVICES[name]

    with psycopg.connect(role_url(admin_url, service, service.database), connect_timeout=5) as own:
        assert own.execute("SELECT current_database(), current_user").fetchone() == (service.database, service.db_user)

    for other in SERVICES.values():
        if other is service:
            continue
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(role_url(admin_url, service, other.database), connect_timeout=5)


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_role_cannot_create_tables_outside_its_database(admin_url, name):
    service = SERVICES[name]

    with psycopg.connect(role_url(admin_url, service, "postgres"), connect_timeout=5, autocommit=True) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"CREATE TABLE intruder_{name} (id int)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"CREATE DATABASE intruder_{name}")


def test_provision_roles_creates_a_missing_role_and_leaves_an_existing_one_alone(admin_url):
    # given: a role that does not exist yet, and the booking role with a password of its own
    scratch = Service("provisiontest", 0, "/api/provisiontest/", "provisiontest_db", "provisiontest_user")
    booking = SERVICES["booking"]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS provisiontest_user")
        before = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [booking.db_user]).fetchone()
    try:
        # when
        provision_roles(admin_url, [scratch, booking])

        # then: the new role can log in with no extra powers; the existing one kept its password
        with psycopg.connect(admin_url) as admin:
            created = admin.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = %s",
                [scratch.db_user],
            ).fetchone()
            after = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [booking.db_user]).fetchone()
        assert created == (False, False, False, True)
        assert after == before
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("DROP ROLE IF EXISTS provisiontest_user")
