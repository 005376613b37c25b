"""Forged access tokens are refused by every service (each verifies RS256 with the public key alone)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from e2e.support import register, request

pytestmark = pytest.mark.slow

# One authenticated list per service (the auth service's is the caller's profile).
PROTECTED = ["/api/auth/me/", "/api/bookings/", "/api/payments/", "/api/notifications/"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(token: str, *, header: dict | None = None, claims: dict | None = None, key: bytes | None = None) -> str:
    """The token with its header and/or claims changed; signed with HMAC ``key``, or the old signature."""
    head, body, signature = token.split(".")
    new_head = json.loads(unb64(head)) | (header or {})
    new_body = json.loads(unb64(body)) | (claims or {})
    signing_input = f"{b64(json.dumps(new_head).encode())}.{b64(json.dumps(new_body).encode())}"
    if key is not None:
        signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
    elif new_head.get("alg") == "none":
        signature = ""
    return f"{signing_input}.{signature}"


def public_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import RSAAlgorithm

    jwks = request("GET", "/api/auth/jwks/")
    assert jwks.status == 200, jwks
    key = RSAAlgorithm.from_jwk(json.dumps(jwks.body["keys"][0]))
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_forged_tokens_are_refused_everywhere(system):
    # given a genuine customer token, and forgeries made from it
    customer = register("forger")
    genuine = customer.token
    forgeries = {
        "staff claim, old signature": forge(genuine, claims={"is_staff": True}),
        "another user, old signature": forge(genuine, claims={"user_id": "00000000-0000-0000-0000-000000000001"}),
        "alg none": forge(genuine, header={"alg": "none"}, claims={"is_staff": True}),
        "HS256 keyed with the public key": forge(
            genuine, header={"alg": "HS256"}, claims={"is_staff": True}, key=public_key_pem()
        ),
        "garbage": "not.a.token",
    }

    # when each is presented to each service
    answers = {
        (name, path): request("GET", path, token=token).status
        for name, token in forgeries.items()
        for path in PROTECTED
    }
    staff_write = request(
        "POST", "/api/movies/", json_body={"title": "Forged", "duration_minutes": 90}, token=forgeries["alg none"]
    )

    # then every one is 401, the genuine token still works, and no movie was created
    assert {key: status for key, status in answers.items() if status != 401} == {}
    assert [request("GET", path, token=genuine).status for path in PROTECTED] == [200] * len(PROTECTED)
    assert staff_write.status == 401, staff_write
    assert request("GET", "/api/movies/?search=Forged", token=genuine).body["count"] == 0
