"""Tokens for tests: a key pair made once per process and installed as the trusted JWKS.

    from common.auth.testing import authenticated_client, make_access_token

``install_test_keys`` runs from the test settings, so every service's tests verify tokens
exactly as production does (RS256, issuer, audience), with this key instead of the auth
service's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import lru_cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .keys import DEFAULTS, public_jwk

TEST_KID = "test-key"


@lru_cache(maxsize=1)
def test_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(private_key=None) -> str:
    """PEM (PKCS#8) of ``private_key``, by default the test key: what the auth service signs with."""
    key = private_key or test_private_key()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def public_key_pem(private_key=None) -> str:
    key = private_key or test_private_key()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def test_jwks() -> dict:
    return {"keys": [public_jwk(test_private_key().public_key(), TEST_KID)]}


def make_access_token(
    *,
    user_id: uuid.UUID | str | None = None,
    email: str = "user@example.com",
    is_staff: bool = False,
    lifetime: dt.timedelta = dt.timedelta(minutes=5),
    private_key=None,
    kid: str = TEST_KID,
    **overrides,
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "token_type": "access",
        "user_id": str(user_id or uuid.uuid4()),
        "email": email,
        "is_staff": is_staff,
        "iss": DEFAULTS["ISSUER"],
        "aud": DEFAULTS["AUDIENCE"],
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode(claims, private_key or test_private_key(), algorithm="RS256", headers={"kid": kid})


def authenticated_client(*, user_id=None, email: str = "user@example.com", is_staff: bool = False):
    """A DRF ``APIClient`` sending a valid bearer token; ``client.user_id`` is the caller."""
    from rest_framework.test import APIClient

    user_id = uuid.UUID(str(user_id)) if user_id else uuid.uuid4()
    client = APIClient()
    token = make_access_token(user_id=user_id, email=email, is_staff=is_staff)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user_id = user_id
    return client
