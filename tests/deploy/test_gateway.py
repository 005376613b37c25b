"""The NGINX gateway: renders for both targets, passes `nginx -t`, and routes for real.

The routing tests start the real nginx binary in front of tiny stub HTTP servers (one per service),
so what is asserted is NGINX's behaviour with our config, not a mock of it.
"""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy import gateway
from tests.deploy.conftest import REPO_ROOT, SERVICES, free_port, require_tool, running_nginx


def nginx_t(conf, run_dir) -> subprocess.CompletedProcess:
    require_tool("nginx")
    return subprocess.run(gateway.nginx_test_command(conf, run_dir), capture_output=True, text=True)


@pytest.mark.parametrize("target", gateway.TARGETS)
def test_config_renders_and_passes_nginx_t(target, tmp_path):
    conf = gateway.render_config(target, tmp_path)

    text = conf.read_text()
    assert "{{" not in text
    result = nginx_t(conf, tmp_path)
    assert result.returncode == 0, result.stderr


def test_local_target_keeps_runtime_files_under_run_dir(tmp_path):
    conf = gateway.render_config("local", tmp_path, listen="127.0.0.1:8000").read_text()

    assert "listen 127.0.0.1:8000;" in conf
    assert f"pid {tmp_path.resolve()}/nginx.pid;" in conf
    assert f"proxy_temp_path {tmp_path.resolve()}/tmp/proxy;" in conf
    for name, port in gateway.SERVICE_PORTS.items():
        assert f"127.0.0.1:{port};" in conf, name


def test_compose_target_uses_service_names_and_dockers_resolver(tmp_path):
    conf = gateway.render_config("compose", tmp_path).read_text()

    assert "listen 80;" in conf
    assert "resolver 127.0.0.11" in conf
    for name, port in gateway.SERVICE_PORTS.items():
        assert f" {name}:{port};" in conf


def test_committed_compose_config_is_up_to_date(tmp_path):
    fresh = gateway.render_config("compose", tmp_path).read_text()

    committed = (REPO_ROOT / "deploy" / "nginx" / "compose" / "nginx.conf").read_text()
    assert committed == fresh, "run `python -m deploy.gateway render compose` and commit the result"


def test_nginx_command_runs_in_foreground_under_run_dir(tmp_path):
    cmd = gateway.nginx_command(tmp_path / "nginx.conf", tmp_path)

    assert cmd[-2:] == ["-g", "daemon off;"]
    assert cmd[cmd.index("-p") + 1] == str(tmp_path.resolve())


def test_unknown_target_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown gateway target"):
        gateway.render_config("swarm", tmp_path)


# --- a real nginx in front of stub services ---------------------------------------------------


class Stub(BaseHTTPRequestHandler):
    """Answers every request with JSON describing what it received (path, headers, body size)."""

    protocol_version = "HTTP/1.1"
    seen: list  # set per server

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "service": self.server.service_name,
            "method": self.command,
            "path": self.path,
            "request_id": self.headers.get("X-Request-ID"),
            "forwarded_for": self.headers.get("X-Forwarded-For"),
            "host": self.headers.get("Host"),
            "forwarded_host": self.headers.get("X-Forwarded-Host"),
            "body_bytes": len(body),
            "client_port": self.client_address[1],
        }
        self.server.seen.append(record)
        payload = json.dumps({**record, "padding": "x" * 2048}).encode()
        # ?status=N makes the stub answer N itself, like a service's own 404 or failing readiness.
        status = int(self.path.split("status=", 1)[1][:3]) if "status=" in self.path else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-ID", self.headers.get("X-Request-ID") or "")  # as a service echoes it
        if "cacheable" in self.path or self.path.endswith("/seats/"):
            # What the booking service says of its seat map (and, here, of any path asking for it).
            self.send_header("Cache-Control", "public, max-age=1")
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def stubs():
    servers = {}
    # payment stays down: its port is free and nobody listens there.
    for name in SERVICES:
        if name == "payment":
            continue
        server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        server.service_name, server.seen = name, []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield servers
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def gateway_url(stubs, tmp_path_factory):
    nginx = require_tool("nginx")
    run_dir = tmp_path_factory.mktemp("gateway")
    upstreams = {name: f"127.0.0.1:{srv.server_address[1]}" for name, srv in stubs.items()}
    upstreams["payment"] = f"127.0.0.1:{free_port()}"
    port = free_port()
    conf = gateway.render_config(
        "local", run_dir, listen=f"127.0.0.1:{port}", upstreams=upstreams,
        login_rate="1r/m", login_burst=2,
    )  # fmt: skip
    cmd = gateway.nginx_command(conf, run_dir)
    assert cmd[0] == nginx
    with running_nginx(cmd, port, run_dir / "logs" / "error.log") as url:
        yield url


def request(host, method, path, body=None, headers=None, source="127.0.0.1"):
    # Another loopback source address is another client of the rate limits.
    conn = http.client.HTTPConnection(host, timeout=10, source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/auth/me/", "auth"),
        ("/api/movies/showtimes/?date=2026-01-01&cinema=a%2Fb", "movie"),
        ("/api/bookings/3f1c/cancel/", "booking"),
        ("/api/notifications/", "notification"),
        ("/admin/movies/movies/movie/", "movie"),
        ("/static/bookings/css/app.css", "booking"),
        ("/api/auth/schema/", "auth"),
        ("/.well-known/jwks.json", "auth"),
    ],
)
def test_routes_by_prefix_without_rewriting(gateway_url, stubs, path, service):
    resp, data = request(gateway_url, "GET", path)

    assert resp.status == 200
    assert json.loads(data)["service"] == service
    assert stubs[service].seen[-1]["path"] == path  # the service sees exactly what the client sent


@pytest.mark.parametrize("path", ["/api/unknown/", "/", "/api/", "/health/live/"])
def test_unrouted_paths_are_json_404(gateway_url, path):
    resp, data = request(gateway_url, "GET", path)

    assert resp.status == 404
    assert json.loads(data) == {"detail": "Not found."}


@pytest.mark.parametrize("status", [404, 429, 503])
def test_errors_from_a_service_pass_through_unchanged(gateway_url, status):
    resp, data = request(gateway_url, "GET", f"/api/bookings/x/?status={status}")

    assert resp.status == status
    assert json.loads(data)["service"] == "booking"  # the service's body, not the gateway's


def test_client_request_id_is_passed_through(gateway_url, stubs):
    resp, data = request(gateway_url, "GET", "/api/movies/", headers={"X-Request-ID": "req-abc-123"})

    assert json.loads(data)["request_id"] == "req-abc-123"
    assert resp.getheader("X-Request-ID") == "req-abc-123"


def test_the_service_sees_the_host_with_the_port_the_client_used(gateway_url, stubs):
    # given a gateway on a port other than 80 (make up's is 8000)
    _, data = request(gateway_url, "GET", "/api/movies/?page=1")

    # then the service gets that host and port, to build its next-page links and CSRF origins from
    received = json.loads(data)
    assert (received["host"], received["forwarded_host"]) == (gateway_url, gateway_url)


def test_each_answer_has_one_request_id_the_gateways_own_even_from_the_seat_map_cache(gateway_url, stubs):
    # given a seat map answered once, then again from the gateway's cache
    path = f"/api/bookings/showtimes/{uuid.uuid4()}/seats/"
    first, _ = request(gateway_url, "GET", path, headers={"X-Request-ID": "first-request"})
    second, _ = request(gateway_url, "GET", path, headers={"X-Request-ID": "second-request"})
    plain, _ = request(gateway_url, "GET", "/api/movies/", headers={"X-Request-ID": "plain-request"})

    # then each answer names its own request, once
    assert second.getheader("X-Cache-Status") == "HIT"
    for response, request_id in ((first, "first-request"), (second, "second-request"), (plain, "plain-request")):
        assert response.msg.get_all("X-Request-ID") == [request_id]


def test_missing_request_id_is_generated(gateway_url, stubs):
    resp, data = request(gateway_url, "GET", "/api/movies/")

    generated = json.loads(data)["request_id"]
    assert generated
    assert len(generated) == 32
    assert resp.getheader("X-Request-ID") == generated


def test_oversized_body_is_json_413_and_never_reaches_the_service(gateway_url, stubs):
    before = len(stubs["booking"].seen)

    resp, data = request(
        gateway_url, "POST", "/api/bookings/3f1c/cancel/", body=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip

    assert resp.status == 413
    assert json.loads(data) == {"detail": "Request body too large."}
    assert len(stubs["booking"].seen) == before


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        # Past large_client_header_buffers (8k): NGINX's own 414, in JSON like every other error.
        ("/api/movies/?search=" + "x" * 9000, {}, 414, {"detail": "Request URI too long."}),
        # A header past the same buffers: NGINX's 494, answered as a 400.
        (
            "/api/movies/",
            {"X-Padding": "x" * 9000},
            400,
            {"detail": "Bad request (malformed, or headers too large)."},
        ),
    ],
)
def test_requests_nginx_cannot_parse_are_json_errors_and_never_reach_a_service(
    gateway_url, stubs, path, headers, status, body
):
    before = len(stubs["movie"].seen)

    resp, data = request(gateway_url, "GET", path, headers=headers)

    assert resp.status == status
    assert json.loads(data) == body
    assert len(stubs["movie"].seen) == before


def test_body_under_the_limit_is_forwarded(gateway_url, stubs):
    resp, data = request(gateway_url, "POST", "/api/bookings/x/cancel/", body=b"x" * 1000)

    assert resp.status == 200
    assert json.loads(data)["body_bytes"] == 1000


def test_login_posts_are_rate_limited_with_json_429(gateway_url, stubs):
    # rate 1r/m, burst 2: three POSTs pass at once, the fourth is refused at the gateway.
    statuses = [request(gateway_url, "POST", "/api/auth/token/", body=b"{}")[0].status for _ in range(3)]
    resp, data = request(gateway_url, "POST", "/api/auth/token/", body=b"{}")

    assert statuses == [200, 200, 200]
    assert resp.status == 429
    assert json.loads(data) == {"detail": "Request was throttled. Try again later."}
    # GETs on the same path are not counted.
    assert request(gateway_url, "GET", "/api/auth/token/")[0].status == 200


def test_admin_sign_ins_share_the_login_budget_of_each_address(gateway_url, stubs):
    client = "127.0.0.2"  # the other login tests use up 127.0.0.1's budget
    statuses = [
        request(gateway_url, "POST", path, body=b"username=a&password=b", source=client)[0].status
        for path in ("/api/auth/token/", "/admin/movies/login/", "/admin/auth/login/")
    ]
    resp, data = request(gateway_url, "POST", "/admin/payments/login/", body=b"x", source=client)

    assert statuses == [200, 200, 200]
    assert stubs["movie"].seen[-1]["path"] == "/admin/movies/login/"
    assert resp.status == 429
    assert json.loads(data) == {"detail": "Request was throttled. Try again later."}
    # The login page itself, other admin pages and other clients are not counted.
    assert request(gateway_url, "GET", "/admin/bookings/login/", source=client)[0].status == 200
    assert request(gateway_url, "POST", "/admin/bookings/booking/", body=b"x", source=client)[0].status == 200
    assert request(gateway_url, "POST", "/admin/bookings/login/", body=b"x", source="127.0.0.3")[0].status == 200


def test_dead_service_is_a_fast_json_502(gateway_url):
    started = time.monotonic()
    resp, data = request(gateway_url, "GET", "/api/payments/")
    elapsed = time.monotonic() - started

    assert resp.status == 502
    assert json.loads(data) == {"detail": "Service unavailable (bad gateway)."}
    assert resp.getheader("Content-Type") == "application/json"
    assert elapsed < 1.5


def test_json_responses_are_gzipped(gateway_url):
    resp, data = request(gateway_url, "GET", "/api/movies/", headers={"Accept-Encoding": "gzip"})

    assert resp.getheader("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(data))["service"] == "movie"


def test_gateway_health(gateway_url):
    resp, data = request(gateway_url, "GET", "/gateway/health")

    assert (resp.status, json.loads(data)) == (200, {"status": "ok"})


def test_a_seat_map_is_served_from_the_gateway_for_one_second(gateway_url, stubs):
    # given a seat map nobody asked for yet
    path = "/api/bookings/showtimes/4c1e9a6e-0000-4000-8000-000000000001/seats/"
    seen = stubs["booking"].seen

    def reached_the_service():
        return sum(1 for record in seen if record["path"] == path)

    # when it is read three times at once, then again after its second is over
    first, _ = request(gateway_url, "GET", path)
    second, _ = request(gateway_url, "GET", path)
    third, _ = request(gateway_url, "GET", path, headers={"Authorization": "Bearer someone-else"})
    assert reached_the_service() == 1
    time.sleep(0.5)
    request(gateway_url, "GET", path)
    assert reached_the_service() == 1
    # NGINX keeps cache validity in whole seconds, so "one second" ends
    # anywhere up to two seconds later; read on until the refresh happens
    # (in the background, after a stale answer).
    deadline = time.monotonic() + 5
    while reached_the_service() < 2 and time.monotonic() < deadline:
        request(gateway_url, "GET", path)
        time.sleep(0.1)
    time.sleep(0.2)

    # then the service answered once per second, the gateway the rest
    assert (first.getheader("X-Cache-Status"), second.getheader("X-Cache-Status")) == ("MISS", "HIT")
    assert third.getheader("X-Cache-Status") == "HIT"
    assert reached_the_service() == 2


@pytest.mark.parametrize("path", ["/api/bookings/?cacheable=1", "/api/movies/?cacheable=1"])
def test_nothing_but_seat_maps_is_cached_even_if_the_service_allows_it(gateway_url, stubs, path):
    service = "booking" if "bookings" in path else "movie"
    before = sum(1 for record in stubs[service].seen if record["path"] == path)

    for _ in range(3):
        resp, _ = request(gateway_url, "GET", path, headers={"Authorization": "Bearer a-user"})
        assert resp.getheader("X-Cache-Status") is None

    assert sum(1 for record in stubs[service].seen if record["path"] == path) == before + 3


def test_the_gateway_keeps_its_connections_to_a_service_open(gateway_url, stubs):
    # when ten requests pass one after another
    seen = stubs["notification"].seen
    start = len(seen)
    for _ in range(10):
        resp, _ = request(gateway_url, "GET", "/api/notifications/")
        assert resp.status == 200

    # then they reused the gateway's idle connection instead of opening one each
    ports = {record["client_port"] for record in seen[start:]}
    assert len(seen) - start == 10
    assert len(ports) <= 2
