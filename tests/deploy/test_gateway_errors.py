"""The Kubernetes Ingress's error backend, run with the real nginx binary.

ingress-nginx sends the requests whose errors it intercepts (``custom-http-errors``) to this
backend with the status in ``X-Code``; requests for a service without a ready pod, and paths no
service serves (the Ingress's catch-all rule), come with none.
"""

from __future__ import annotations

import http.client
import json

import pytest

from deploy import gateway
from deploy.k8s import gateway_errors
from tests.deploy.conftest import free_port, require_tool, running_nginx


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory):
    require_tool("nginx")
    run_dir = tmp_path_factory.mktemp("gateway-errors")
    port = free_port()
    # The generated server block, inside the main config the image would give it.
    server = gateway_errors.server_config().replace(f"listen {gateway_errors.PORT};", f"listen 127.0.0.1:{port};")
    assert f"127.0.0.1:{port}" in server
    temp = "\n".join(
        f"{kind}_temp_path {run_dir}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = run_dir / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {run_dir}/nginx.pid;\nerror_log {run_dir}/error.log warn;\n"
        f"events {{}}\nhttp {{\naccess_log off;\n{temp}\n{server}}}\n"
    )
    with running_nginx(gateway.nginx_command(conf, run_dir), port, run_dir / "error.log") as url:
        yield url


def get(url: str, headers: dict[str, str], path: str = "/api/bookings/") -> tuple[int, str, dict]:
    conn = http.client.HTTPConnection(url, timeout=10)
    conn.request("POST", path, body=b"{}", headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    return response.status, response.getheader("Content-Type"), body


@pytest.mark.parametrize("status", gateway_errors.INTERCEPTED)
def test_each_intercepted_error_gets_the_gateways_json_body(backend_url, status):
    # when ingress-nginx hands over one of the errors it intercepts
    answer = get(backend_url, {"X-Code": str(status), "X-Original-URI": "/api/bookings/"})

    # then the client gets that status with the body the gateway of compose and `up` answers
    assert answer == (status, "application/json", json.loads(gateway.error_bodies()[status]))


@pytest.mark.parametrize(
    "path",
    [
        "/api/bookings/",
        "/api/auth",
        "/admin/movies/movies/movie/",
        "/static/payments/app.css",
        "/.well-known/jwks.json",
    ],
)
def test_a_routed_path_without_a_code_means_no_ready_pod(backend_url, path):
    # when the Ingress sends a request itself, because its service has no ready pod
    answer = get(backend_url, {}, path)

    # then it is the gateway's 503, as JSON
    assert answer == (503, "application/json", {"detail": "Service temporarily unavailable."})


@pytest.mark.parametrize(
    "path", ["/", "/nowhere", "/api/authx/", "/api/", "/.well-known/other.json", "/gateway/healthz"]
)
def test_any_other_path_is_the_gateways_json_404(backend_url, path):
    # when the Ingress's catch-all rule sends a path that no service serves
    answer = get(backend_url, {}, path)

    # then it is the gateway's 404, as JSON (not the controller's HTML page)
    assert answer == (404, "application/json", {"detail": "Not found."})


def test_the_probe_path_answers_ok(backend_url):
    conn = http.client.HTTPConnection(backend_url, timeout=10)
    conn.request("GET", gateway_errors.HEALTH_PATH)
    response = conn.getresponse()

    assert (response.status, json.loads(response.read())) == (200, {"status": "ok"})


def test_the_bodies_are_the_gateways_own():
    bodies = gateway.error_bodies()

    # every status the Ingress intercepts has a body in the gateway's template, and so has 503
    assert set(gateway_errors.INTERCEPTED) | {503} <= set(bodies)
    assert all(set(json.loads(body)) == {"detail"} for body in bodies.values())
