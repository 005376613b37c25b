"""Kubernetes manifests: every overlay renders, validates against the API schemas, and the
NetworkPolicies give each service its own database and nothing else.

The NetworkPolicy check is a small evaluator of the rendered policies (pod/namespace selectors
with matchLabels and matchExpressions, ports, policy types, default allow when no policy selects
a pod), applied to the pod templates that the rendered workloads would create.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from deploy.k8s import generate
from tests.deploy.conftest import REPO_ROOT, SERVICES, kustomize, kustomize_path

NAMESPACE = "movie-booking"
K8S_VERSION = "1.32.0"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind, name):
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_template(doc) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


# --- rendering and schema ------------------------------------------------------------------------


def test_generated_base_files_are_up_to_date():
    stale = [
        str(path.relative_to(REPO_ROOT))
        for path, text in generate.outputs().items()
        if not path.exists() or path.read_text() != text
    ]

    assert not stale, f"run `python -m deploy.k8s.generate` and commit: {stale}"


def test_every_document_is_valid_for_the_kubernetes_api(rendered):
    overlay, docs = rendered
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{overlay} {doc['kind']}/{doc['metadata']['name']}: {exc.message}")

    assert not errors, "\n".join(errors)


def test_the_validator_rejects_a_broken_document():
    # Guard against a validator that accepts anything.
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": "two"}}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_everything_lives_in_the_namespace(rendered):
    _, docs = rendered

    assert named(docs, "Namespace", NAMESPACE)
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {NAMESPACE}


@pytest.mark.parametrize("name", SERVICES)
def test_each_database_is_a_statefulset_with_a_volume_and_the_seeds_service(rendered, name):
    _, docs = rendered
    _, _, _, database, user, _ = SERVICES[name]

    statefulset = named(docs, "StatefulSet", f"postgres-{name}")
    service = named(docs, "Service", f"postgres-{name}-service")
    env = {e["name"]: e for e in statefulset["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert statefulset["spec"]["serviceName"] == f"postgres-{name}-service"
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert service["spec"]["ports"] == [{"name": "postgres", "port": 5432, "targetPort": 5432}]
    assert selects(service["spec"]["selector"], pod_template(statefulset)["metadata"]["labels"])
    assert (env["POSTGRES_DB"]["value"], env["POSTGRES_USER"]["value"]) == (database, user)


def test_secret_template_has_the_seeds_keys_and_no_real_secret():
    docs = render_base()
    secret = named(docs, "Secret", "app-secrets")["stringData"]

    for name, (_, _, _, database, user, _) in SERVICES.items():
        url = urlsplit(secret[f"{name.upper()}_DATABASE_URL"])
        assert (url.username, url.hostname, url.port, url.path) == (
            user,
            f"postgres-{name}-service",
            5432,
            f"/{database}",
        )
        assert url.password == "CHANGE_ME"
    assert set(secret.values()) & {row[5] for row in SERVICES.values()} == set()
    assert all(
        "CHANGE_ME" in value for key, value in secret.items() if "PASS" in key or "SECRET" in key or "COOKIE" in key
    )


def test_dev_secrets_cover_every_key_of_the_template():
    docs = kustomize("dev")
    data = named(docs, "Secret", "app-secrets")["data"]
    template = named(render_base(), "Secret", "app-secrets")["stringData"]

    assert set(data) == set(template)
    dev_passwords = {row[5] for row in SERVICES.values()}
    assert not any(pw in base64.b64decode(v).decode() for v in data.values() for pw in dev_passwords)


def test_prod_database_urls_verify_the_server_certificate():
    docs = kustomize("prod")
    secret = named(docs, "Secret", "app-secrets")["stringData"]

    for name in SERVICES:
        assert "sslmode=verify-full" in secret[f"{name.upper()}_DATABASE_URL"]
    for statefulset in by_kind(docs, "StatefulSet"):
        if statefulset["metadata"]["name"].startswith("postgres-"):
            assert "ssl=on" in statefulset["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_web_worker_beat_with_probes_resources_hpa_pdb_and_a_migration_job(rendered, name):
    _, docs = rendered
    port = SERVICES[name][1]

    for role in ("web", "worker", "beat"):
        deployment = named(docs, "Deployment", f"{name}-{role}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert container["args"] == [role]
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]["memory"]
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "app-secrets",
            "key": f"{name.upper()}_DATABASE_URL",
        }
        assert env["DJANGO_SETTINGS_MODULE"]["value"] == f"{name}_service.settings.production"
        # the pod's address joins ALLOWED_HOSTS: the cluster's Prometheus sends it as the Host
        assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    web = named(docs, "Deployment", f"{name}-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert web["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    assert web["ports"] == [{"name": "http", "containerPort": port}]
    assert named(docs, "Deployment", f"{name}-beat")["spec"]["replicas"] == 1
    assert named(docs, "HorizontalPodAutoscaler", f"{name}-web")["spec"]["scaleTargetRef"]["name"] == f"{name}-web"
    assert named(docs, "PodDisruptionBudget", f"{name}-web")
    assert named(docs, "Job", f"{name}-migrate")["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert named(docs, "Service", name)["spec"]["ports"][0]["port"] == port


@pytest.mark.parametrize("name", SERVICES)
def test_each_database_has_a_custom_format_backup_cronjob(rendered, name):
    _, docs = rendered
    _, _, _, database, user, _ = SERVICES[name]

    cronjob = named(docs, "CronJob", f"postgres-{name}-backup")
    command = " ".join(pod_template(cronjob)["spec"]["containers"][0]["command"])

    assert f"pg_dump -Fc -h postgres-{name}-service -U {user} -d {database}" in command
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"


def test_the_backups_run_at_valid_times_one_after_the_other(rendered):
    _, docs = rendered
    times = []
    for cronjob in by_kind(docs, "CronJob"):
        minute, hour, *every_day = cronjob["spec"]["schedule"].split()
        assert every_day == ["*", "*", "*"]
        # Out of range, the API server refuses the CronJob.
        assert 0 <= int(minute) <= 59, cronjob["spec"]["schedule"]
        assert 0 <= int(hour) <= 23, cronjob["spec"]["schedule"]
        times.append(int(hour) * 60 + int(minute))

    assert len(times) == len(SERVICES)
    assert sorted(times) == list(range(120, 120 + 15 * len(SERVICES), 15))


def test_ingress_routes_every_prefix_to_its_service_without_rewriting(rendered):
    _, docs = rendered
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for ingress in by_kind(docs, "Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }

    for name, (_, _, prefix, *_rest) in SERVICES.items():
        for root in ("api", "admin", "static"):
            assert routes[f"/{root}/{prefix}"] == name
    assert routes["/.well-known/jwks.json"] == "auth"
    assert routes["/"] == "gateway-errors"  # the rest: a JSON 404
    assert routes["/api/auth/token/"] == "auth"
    assert routes["/api/bookings/"] == "booking"
    (limited_rule,) = named(docs, "Ingress", "gateway-rate-limited")["spec"]["rules"]
    limited = {path["path"] for path in limited_rule["http"]["paths"]}
    for name, (_, _, prefix, *_rest) in SERVICES.items():
        assert routes[f"/admin/{prefix}/login/"] == name
        assert f"/admin/{prefix}/login/" in limited
    annotations = {k for ingress in by_kind(docs, "Ingress") for k in ingress["metadata"].get("annotations", {})}
    assert not any("rewrite-target" in key for key in annotations)


def test_the_ingress_answers_its_own_errors_with_the_gateways_json(rendered):
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    ingress_controller = Pod({"app.kubernetes.io/name": "ingress-nginx"}, namespace="ingress-nginx")

    # every Ingress hands the errors no service answers itself to the error backend
    for ingress in by_kind(docs, "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/custom-http-errors"] == "413,414,502,504"
        assert annotations["nginx.ingress.kubernetes.io/default-backend"] == "gateway-errors"
    # which is a Service in front of pods running the generated config on the Service's port
    service = named(docs, "Service", "gateway-errors")
    (container,) = pod_template(named(docs, "Deployment", "gateway-errors"))["spec"]["containers"]
    (container_port,) = container["ports"]
    assert service["spec"]["ports"][0]["targetPort"] == container_port["name"]
    config = named(docs, "ConfigMap", "gateway-errors")["data"]["default.conf"]
    assert f"listen {container_port['containerPort']};" in config
    # that the ingress controller, and nothing else, may reach
    backend = service_pod(docs, "gateway-errors")
    assert reachable(policies, ingress_controller, backend, container_port["containerPort"])
    assert not reachable(policies, Pod({"app": "debug"}), backend, container_port["containerPort"])
    assert not reachable(policies, service_pod(docs, "booking"), backend, container_port["containerPort"])


def test_workloads_meet_the_restricted_pod_security_standard(rendered):
    _, docs = rendered
    for doc in docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_template(doc)["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def render_base() -> list[dict]:
    return kustomize_path(REPO_ROOT / "deploy" / "k8s" / "base")


# --- NetworkPolicy evaluator ---------------------------------------------------------------------


def selects(selector: dict | None, labels: dict) -> bool:
    """Label selector semantics: matchLabels AND every matchExpression; {} selects everything."""
    selector = selector or {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        match_labels = selector.get("matchLabels", {})
    else:
        match_labels = selector  # a Service's plain selector map
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, op, values = expression["key"], expression["operator"], expression.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Pod:
    def __init__(self, labels: dict, namespace: str = NAMESPACE, ns_labels: dict | None = None):
        self.labels = labels
        self.namespace = namespace
        self.ns_labels = ns_labels or {"kubernetes.io/metadata.name": namespace}


def peer_matches(peer: dict, pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False  # ipBlocks name addresses outside the cluster, never pods here
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], pod.ns_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), pod.labels)


def port_matches(ports: list | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def allowed(policies: list[dict], direction: str, subject: Pod, peer: Pod, port: int, protocol: str) -> bool:
    """Whether `subject`'s policies let traffic go to (Egress) or come from (Ingress) `peer`."""
    isolating = [
        p for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and selects(p["spec"]["podSelector"], subject.labels)
        and direction in p["spec"].get("policyTypes", ["Ingress"])
    ]  # fmt: skip
    if not isolating:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in isolating:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            peer_ok = peers is None or any(peer_matches(p, peer, policy["metadata"]["namespace"]) for p in peers)
            if peer_ok and port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def reachable(policies, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
    return allowed(policies, "Egress", source, destination, port, protocol) and allowed(
        policies, "Ingress", destination, source, port, protocol
    )


def workload_pods(docs) -> dict[str, Pod]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": Pod(pod_template(d)["metadata"]["labels"])
        for d in docs
        if d["kind"] in WORKLOAD_KINDS
    }


def service_pod(docs, service_name: str) -> Pod:
    """The pod behind a Service, found through the Service's selector."""
    service = named(docs, "Service", service_name)
    (pod,) = [p for p in workload_pods(docs).values() if selects(service["spec"]["selector"], p.labels)]
    return pod


def owner(workload: str) -> str | None:
    """The service a workload belongs to: auth-web, postgres-auth-backup, auth-migrate -> auth."""
    name = workload.split("/", 1)[1].removeprefix("postgres-")
    return next((svc for svc in SERVICES if name.split("-")[0] == svc), None)


def test_network_policy_matrix_each_service_reaches_only_its_own_database(rendered):
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    databases = {name: service_pod(docs, f"postgres-{name}-service") for name in SERVICES}
    checked = 0

    for workload, pod in workload_pods(docs).items():
        if pod.labels.get("app.kubernetes.io/component") == "database":
            continue
        for db_owner, db_pod in databases.items():
            expected = owner(workload) == db_owner
            assert reachable(policies, pod, db_pod, 5432) is expected, f"{workload} -> postgres-{db_owner}-service"
            checked += 1

    # 5 services x (web, worker, beat, migrate, backup) plus rabbitmq, redis and the Ingress's error
    # backend, against 5 databases.
    assert checked == (5 * 5 + 3) * 5


@pytest.mark.parametrize("name", SERVICES)
def test_service_pods_reach_broker_cache_dns_and_auth(rendered, name):
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    dns = Pod({"k8s-app": "kube-dns"}, namespace="kube-system")
    rabbitmq, redis = service_pod(docs, "rabbitmq"), service_pod(docs, "redis")
    auth_web = service_pod(docs, "auth")

    for role in ("web", "worker", "beat"):
        pod = workload_pods(docs)[f"Deployment/{name}-{role}"]
        assert reachable(policies, pod, rabbitmq, 5672)
        assert reachable(policies, pod, redis, 6379)
        assert reachable(policies, pod, dns, 53, "UDP")
        assert reachable(policies, pod, auth_web, 8001) is (name != "auth")  # JWKS; auth has its keys
        # ...but not another service's web process directly.
        other = next(s for s in SERVICES if s not in (name, "auth"))
        assert not reachable(policies, pod, service_pod(docs, other), SERVICES[other][1])


@pytest.mark.parametrize("name", SERVICES)
def test_prometheus_and_only_prometheus_scrapes_each_worker_on_its_metrics_port(rendered, name):
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    deployment = named(docs, "Deployment", f"{name}-worker")
    (container,) = pod_template(deployment)["spec"]["containers"]
    worker = workload_pods(docs)[f"Deployment/{name}-worker"]
    prometheus = Pod({"app.kubernetes.io/name": "prometheus"}, namespace="monitoring")

    annotations = pod_template(deployment)["metadata"]["annotations"]
    port = int(annotations["prometheus.io/port"])
    assert annotations["prometheus.io/scrape"] == "true"
    assert container["ports"] == [{"name": "metrics", "containerPort": port}]
    assert {"name": "WORKER_METRICS_PORT", "value": str(port)} in container["env"]
    assert reachable(policies, prometheus, worker, port)
    assert not reachable(policies, Pod({"app": "debug"}), worker, port)
    assert not reachable(policies, workload_pods(docs)[f"Deployment/{name}-web"], worker, port)


def test_databases_are_closed_to_everything_else(rendered):
    _, docs = rendered
    policies = by_kind(docs, "NetworkPolicy")
    stranger = Pod({"app": "debug"})
    elsewhere = Pod({"app.kubernetes.io/name": "auth", "app.kubernetes.io/component": "web",
                     "movie-booking/database": "postgres-auth"}, namespace="default")  # fmt: skip
    ingress_controller = Pod({"app.kubernetes.io/name": "ingress-nginx"}, namespace="ingress-nginx")

    for name in SERVICES:
        database = service_pod(docs, f"postgres-{name}-service")
        assert not reachable(policies, stranger, database, 5432)
        assert not reachable(policies, elsewhere, database, 5432)
        assert not reachable(policies, ingress_controller, database, 5432)
        assert reachable(policies, ingress_controller, service_pod(docs, name), SERVICES[name][1])


def test_the_evaluator_denies_when_no_rule_matches():
    policy = {
        "metadata": {"namespace": NAMESPACE},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    a, b = Pod({"a": "1"}), Pod({"b": "1"})

    assert reachable([], a, b, 80)
    assert not reachable([policy], a, b, 80)


def test_the_matrix_catches_a_leak():
    # Widen auth's egress and postgres-movie's ingress the way a careless edit would.
    docs = kustomize("dev")
    policies = by_kind(docs, "NetworkPolicy")
    auth_web = workload_pods(docs)["Deployment/auth-web"]
    movie_db = service_pod(docs, "postgres-movie-service")
    assert not reachable(policies, auth_web, movie_db, 5432)

    named(docs, "NetworkPolicy", "auth-egress")["spec"]["egress"].append({"ports": [{"port": 5432}]})
    named(docs, "NetworkPolicy", "postgres-movie-ingress")["spec"]["ingress"].append({"from": [{"podSelector": {}}]})

    assert reachable(policies, auth_web, movie_db, 5432)


def test_every_mount_has_its_volume_and_every_secret_key_exists(rendered):
    overlay, docs = rendered
    template = set(named(render_base(), "Secret", "app-secrets")["stringData"])
    for doc in docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_template(doc)["spec"]
        volumes = {v["name"] for v in spec.get("volumes", [])}
        volumes |= {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])}
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{overlay} {doc['kind']}/{doc['metadata']['name']}/{container['name']}"
            assert {m["name"] for m in container.get("volumeMounts", [])} <= volumes, where
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] == "app-secrets":
                    assert ref["key"] in template, f"{where}: {ref['key']}"


def test_auth_reads_its_signing_key_from_a_mounted_file(rendered):
    _, docs = rendered
    for role in ("web", "worker", "beat"):
        spec = pod_template(named(docs, "Deployment", f"auth-{role}"))["spec"]
        for container in spec["initContainers"] + spec["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["AUTH_JWT_PRIVATE_KEY_FILE"] == "/etc/auth-jwt/private.pem"
        assert {"name": "jwt-key", "secret": {"secretName": "auth-jwt-key", "defaultMode": 0o440}} in spec["volumes"]
