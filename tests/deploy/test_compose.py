"""docker-compose.yml: valid Compose, the seed's names, and one database per service.

No Docker engine here: the file is checked against the Compose specification's JSON schema (the
copy vendored by check-jsonschema) and its meaning is checked directly on the loaded YAML.
"""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.deploy.conftest import REPO_ROOT, SERVICES

ROLES = ("migrate", "web", "worker", "beat")


def container(name: str, role: str) -> str:
    return name if role == "web" else f"{name}-{role}"


def compose_schema() -> dict:
    source = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(source.read_text())


def test_compose_file_matches_the_compose_specification(compose):
    schema = compose_schema()
    validator_cls = jsonschema.validators.validator_for(schema)

    errors = sorted(validator_cls(schema).iter_errors(compose), key=lambda e: list(e.path))

    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("role", ROLES)
def test_each_process_uses_its_own_database_user_and_host(compose, name, role):
    _, _, _, database, user, password = SERVICES[name]
    env = compose["services"][container(name, role)]["environment"]

    url = urlsplit(env["DATABASE_URL"])

    assert url.scheme in {"postgres", "postgresql", "postgresql+asyncpg"}
    assert (url.username, url.password) == (user, password)
    assert (url.hostname, url.port) == (f"postgres-{name}", 5432)
    assert url.path == f"/{database}"


def test_database_urls_are_all_different(compose):
    urls = {compose["services"][container(n, "web")]["environment"]["DATABASE_URL"] for n in SERVICES}

    assert len(urls) == len(SERVICES)


@pytest.mark.parametrize(("index", "name"), list(enumerate(SERVICES)))
def test_databases_have_the_seeds_names_ports_and_volumes(compose, index, name):
    _, _, _, database, user, password = SERVICES[name]
    postgres = compose["services"][f"postgres-{name}"]

    assert postgres["container_name"] == f"postgres_{name}"
    assert postgres["ports"] == [f"{5433 + index}:5432"]
    assert postgres["volumes"] == [f"postgres_{name}_data:/var/lib/postgresql/data"]
    assert f"postgres_{name}_data" in compose["volumes"]
    assert postgres["environment"] == {
        "POSTGRES_DB": database, "POSTGRES_USER": user, "POSTGRES_PASSWORD": password,
    }  # fmt: skip
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_startup_order_migrates_before_anything_runs(compose, name):
    services = compose["services"]

    assert services[f"{name}-migrate"]["depends_on"] == {f"postgres-{name}": {"condition": "service_healthy"}}
    assert services[f"{name}-migrate"]["restart"] == "no"
    for role in ("web", "worker", "beat"):
        depends = services[container(name, role)]["depends_on"]
        assert depends[f"{name}-migrate"] == {"condition": "service_completed_successfully"}
        assert depends["rabbitmq"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", SERVICES)
def test_roles_run_the_same_image_with_their_own_command(compose, name):
    services = compose["services"]
    _, port, *_ = SERVICES[name]

    images = {services[container(name, role)]["image"] for role in ROLES}
    commands = {role: services[container(name, role)]["command"] for role in ROLES}

    assert images == {f"movie-booking/{name}:dev"}
    assert services[container(name, "web")]["build"]["args"] == {"SERVICE": name}
    assert commands == {role: [role] for role in ROLES}
    assert services[name]["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/health/ready/" in " ".join(services[name]["healthcheck"]["test"])


def test_every_dependency_exists_and_there_is_no_cycle(compose):
    services = compose["services"]
    graph = {name: set(spec.get("depends_on") or {}) for name, spec in services.items()}
    assert all(dep in services for deps in graph.values() for dep in deps)

    done: set[str] = set()
    while len(done) < len(graph):
        ready = {name for name, deps in graph.items() if name not in done and deps <= done}
        assert ready, f"dependency cycle among {sorted(set(graph) - done)}"
        done |= ready


def test_each_database_network_holds_only_its_own_service(compose):
    # Compose counterpart of the NetworkPolicies: only X's processes and exporter join db-X.
    for name, spec in compose["services"].items():
        db_networks = {net for net in spec.get("networks", []) if net.startswith("db-")}
        owner = next((svc for svc in SERVICES if name.startswith(svc) or name.endswith(f"-{svc}")), None)
        assert db_networks <= ({f"db-{owner}"} if owner else set()), name


def test_infrastructure_and_tooling_are_present(compose):
    services = compose["services"]

    assert services["rabbitmq"]["image"].startswith("rabbitmq:3")
    assert "management" in services["rabbitmq"]["image"]
    assert {"5672:5672", "15672:15672"} <= set(services["rabbitmq"]["ports"])
    assert services["nginx"]["ports"] == ["80:80"]
    for name in ("redis", "mailpit", "flower", "prometheus", "grafana"):
        assert name in services
    for name in SERVICES:
        exporter = services[f"postgres-exporter-{name}"]
        assert f"@postgres-{name}:5432/" in exporter["environment"]["DATA_SOURCE_NAME"]


def test_bind_mounted_files_exist(compose):
    for name, spec in compose["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name}: {source} is missing"


def test_notification_sends_mail_through_mailpit(compose):
    env = compose["services"]["notification"]["environment"]

    assert (env["EMAIL_HOST"], env["EMAIL_PORT"]) == ("mailpit", "1025")  # what the settings read


def test_development_settings_are_used(compose):
    # The production settings refuse the seed's passwords, so compose runs the local ones.
    for name in SERVICES:
        for role in ROLES:
            env = compose["services"][container(name, role)]["environment"]
            assert env["DJANGO_SETTINGS_MODULE"] == f"{name}_service.settings.local"


def test_service_table_matches_common():
    services = pytest.importorskip("common.config.services")

    ours = {name: (row[1], row[2], row[3], row[4]) for name, row in SERVICES.items()}
    theirs = {s.name: (s.port, s.prefix, s.database, s.db_user) for s in services.SERVICES.values()}
    assert ours == theirs


def test_seed_commands_are_documented():
    text = (REPO_ROOT / "docs" / "deployment.md").read_text()

    assert "docker exec -it postgres_auth psql -U auth_user -d auth_db" in text
    assert "docker compose ps | grep postgres" in text or "docker-compose ps | grep postgres" in text


def test_backup_script_writes_the_files_the_seed_restores_from():
    script = (REPO_ROOT / "deploy" / "scripts" / "backup-databases.sh").read_text()

    for name, (_, _, _, database, user, _) in SERVICES.items():
        assert f"{name}:{database}:{user}" in script
    assert "docker exec" in script
    assert "pg_dump" in script
    assert "backup_${database}.sql" in script
