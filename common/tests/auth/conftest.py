"""A stand-in for the auth service over real HTTP: from ``common``'s side it is the outside world."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from common.auth.keys import reset_key_cache


class FakeAuthService:
    """Serves ``/jwks/`` from ``self.jwks`` and ``/token/`` from ``self.accounts``."""

    def __init__(self):
        self.jwks: dict = {"keys": []}
        self.accounts: dict[tuple[str, str], str] = {}  # (email, password) -> access token
        self.hits: Counter = Counter()
        self.token_requests: list[dict] = []
        self.token_forwarded_for: list[str | None] = []  # X-Forwarded-For of each /token/ request
        self.token_status: int | None = None  # force a status (e.g. 429) for /token/
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                service.hits[self.path] += 1
                if self.path == "/jwks/":
                    self._send(200, service.jwks)
                else:
                    self._send(404, {"detail": "Not found."})

            def do_POST(self):
                service.hits[self.path] += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                service.token_requests.append(body)
                service.token_forwarded_for.append(self.headers.get("X-Forwarded-For"))
                if self.path != "/token/":
                    self._send(404, {"detail": "Not found."})
                elif service.token_status:
                    self._send(service.token_status, {"detail": "forced"})
                elif (body.get("email"), body.get("password")) in service.accounts:
                    access = service.accounts[(body["email"], body["password"])]
                    self._send(200, {"access": access, "refresh": "not-used-here"})
                else:
                    self._send(401, {"detail": "No active account found with the given credentials."})

        return Handler

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_auth_service():
    service = FakeAuthService().start()
    yield service
    service.stop()


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    reset_key_cache()
    yield
    reset_key_cache()
