"""Prometheus scrape config and alert rules, Grafana provisioning and the services dashboard."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.deploy.conftest import REPO_ROOT, SERVICES, require_tool

PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
GRAFANA = REPO_ROOT / "deploy" / "grafana"


def load(path):
    return yaml.safe_load(path.read_text())


def balanced(expr: str) -> bool:
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    in_string = False
    for char in expr:
        if char == '"':
            in_string = not in_string
        elif in_string:
            continue
        elif char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack and not in_string


def scrape_targets(job: str) -> dict[str, str]:
    config = load(PROMETHEUS / "prometheus.yml")
    (scrape,) = [s for s in config["scrape_configs"] if s["job_name"] == job]
    return {t: group["labels"]["service"] for group in scrape["static_configs"] for t in group["targets"]}


def test_rule_file_is_where_compose_mounts_it(compose):
    config = load(PROMETHEUS / "prometheus.yml")

    assert config["rule_files"] == ["alerts.yml"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in compose["services"]["prometheus"]["volumes"]


def test_every_service_web_process_is_scraped(compose):
    targets = scrape_targets("services")

    assert targets == {f"{name}:{SERVICES[name][1]}": name for name in SERVICES}
    assert all(host.split(":")[0] in compose["services"] for host in targets)


def test_every_service_worker_is_scraped_on_its_metrics_port(compose):
    targets = scrape_targets("workers")
    port = compose["x-app-env"]["WORKER_METRICS_PORT"]

    assert targets == {f"{name}-worker:{port}": name for name in SERVICES}
    workers = [compose["services"][host.split(":")[0]] for host in targets]
    assert all(worker["command"] == ["worker"] for worker in workers)
    assert all(worker["environment"]["WORKER_METRICS_PORT"] == port for worker in workers)


def test_every_database_has_its_exporter_scraped(compose):
    targets = scrape_targets("postgres")

    assert targets == {f"postgres-exporter-{name}:9187": name for name in SERVICES}
    assert all(host.split(":")[0] in compose["services"] for host in targets)


def test_readiness_is_probed_for_every_service(compose):
    targets = scrape_targets("readiness")

    assert targets == {f"http://{name}:{SERVICES[name][1]}/health/ready/": name for name in SERVICES}
    assert "blackbox" in compose["services"]


REQUIRED_ALERTS = {
    "ServiceDown": "up",
    "ServiceNotReady": "probe_success",
    "OutboxBacklog": "events_outbox_oldest_unsent_age_seconds",
    "DeadLettersPresent": "events_dead_letters",
    "BookingsPendingPastHold": "bookings_pending_overdue",
    "DatabaseConnectionsNearLimit": "pg_settings_max_connections",
}


def alert_rules() -> dict[str, dict]:
    groups = load(PROMETHEUS / "alerts.yml")["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


@pytest.mark.parametrize(("alert", "metric"), REQUIRED_ALERTS.items())
def test_required_alerts_exist(alert, metric):
    rule = alert_rules()[alert]

    assert metric in rule["expr"]
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"]


def test_outbox_alert_fires_after_a_minute():
    assert "> 60" in alert_rules()["OutboxBacklog"]["expr"]


def test_connection_alert_compares_use_with_the_limit():
    expr = alert_rules()["DatabaseConnectionsNearLimit"]["expr"]

    assert "pg_stat_activity_count" in expr
    assert "pg_settings_max_connections" in expr


@pytest.mark.parametrize("alert", sorted(alert_rules()))
def test_alert_expressions_are_balanced(alert):
    assert balanced(alert_rules()[alert]["expr"])


def dashboard() -> dict:
    return json.loads((GRAFANA / "dashboards" / "services.json").read_text())


def dashboard_exprs() -> list[str]:
    return [t["expr"] for panel in dashboard()["panels"] for t in panel.get("targets", [])]


@pytest.mark.parametrize(
    "metric",
    [
        "django_http_requests_total_by_view_transport_method_total",
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_http_responses_total_by_status_total",
        "django_db_execute_total",
        "django_db_query_duration_seconds_bucket",
        "pg_stat_activity_count",
        "pg_database_size_bytes",
        "events_outbox_unsent",
        "events_lane_wait_seconds_bucket",
        "events_handling_seconds_bucket",
    ],
)
def test_dashboard_shows(metric):
    assert any(metric in expr for expr in dashboard_exprs())


def test_dashboard_repeats_a_row_per_service():
    board = dashboard()
    (variable,) = board["templating"]["list"]

    assert variable["name"] == "service"
    assert variable["includeAll"]
    assert board["panels"][0]["type"] == "row"
    assert board["panels"][0]["repeat"] == "service"
    per_service = [e for e in dashboard_exprs() if "bookings_pending_overdue" not in e]
    assert all('service="$service"' in expr for expr in per_service)


def test_dashboard_panels_are_well_formed():
    board = dashboard()
    ids = [panel["id"] for panel in board["panels"]]

    assert len(ids) == len(set(ids))
    assert all(balanced(expr) for expr in dashboard_exprs())


def test_dashboard_uses_the_provisioned_datasource(compose):
    (datasource,) = load(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")["datasources"]
    uids = {panel["datasource"]["uid"] for panel in dashboard()["panels"] if "datasource" in panel}

    assert uids == {datasource["uid"]}
    assert datasource["url"] == "http://prometheus:9090"


def test_dashboard_provider_reads_the_mounted_folder(compose):
    (provider,) = load(GRAFANA / "provisioning" / "dashboards" / "provider.yml")["providers"]
    mounts = compose["services"]["grafana"]["volumes"]

    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


def promtool() -> str:
    return require_tool("promtool")  # Debian package `prometheus`


def test_promtool_accepts_the_scrape_config_and_rules():
    result = subprocess.run(
        [promtool(), "check", "config", str(PROMETHEUS / "prometheus.yml")], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_fire_as_specified_by_their_unit_tests():
    # deploy/prometheus/alerts.test.yml: synthetic series in, expected alerts out.
    result = subprocess.run(
        [promtool(), "test", "rules", str(PROMETHEUS / "alerts.test.yml")], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stdout + result.stderr
