"""Every service verifies access tokens with the public key alone: the common test project's
``/api/common/whoami/`` stands for any of them."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from rest_framework.test import APIClient

from common.auth.keys import DEFAULTS
from common.auth.testing import TEST_KID, authenticated_client, make_access_token
from common.auth.testing import test_private_key as trusted_private_key

pytestmark = pytest.mark.django_db

WHOAMI = "/api/common/whoami/"


def get(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(WHOAMI)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token):
    return token.split(".")


def test_a_valid_token_is_accepted_and_describes_the_caller(django_assert_num_queries):
    user_id = uuid.uuid4()
    token = make_access_token(user_id=user_id, email="ada@example.com", is_staff=True)

    with django_assert_num_queries(0):
        response = get(token)

    assert response.status_code == 200
    assert response.json() == {"user_id": str(user_id), "email": "ada@example.com", "is_staff": True}


def test_authenticated_client_helper_is_accepted():
    client = authenticated_client(email="bob@example.com")

    response = client.get(WHOAMI)

    assert response.json() == {"user_id": str(client.user_id), "email": "bob@example.com", "is_staff": False}


def _tampered_payload():
    header, payload, signature = segments(make_access_token(is_staff=False))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["is_staff"] = True
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def _changed_signature():
    header, payload, signature = segments(make_access_token())
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0xFF
    return f"{header}.{payload}.{b64(bytes(raw))}"


def _claims(**overrides):
    now = dt.datetime.now(dt.UTC)
    claims = {
        "token_type": "access",
        "user_id": str(uuid.uuid4()),
        "email": "eve@example.com",
        "is_staff": True,
        "iss": DEFAULTS["ISSUER"],
        "aud": DEFAULTS["AUDIENCE"],
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def _alg_none():
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": TEST_KID}).encode())
    return f"{header}.{b64(json.dumps(_claims()).encode())}."


def _hs256_with_the_public_key_as_secret():
    public_pem = (
        trusted_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}).encode())
    payload = b64(json.dumps(_claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def _signed_with_header(header: dict) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(_claims()).encode())}"
    algorithm = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256)
    return f"{signing_input}.{b64(algorithm.sign(signing_input.encode(), trusted_private_key()))}"


def _without(claim: str) -> str:
    claims = {name: value for name, value in _claims().items() if name != claim}
    return jwt.encode(claims, trusted_private_key(), "RS256", headers={"kid": TEST_KID})


def _other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


INVALID_TOKENS = {
    "tampered-payload": _tampered_payload,
    "changed-signature": _changed_signature,
    "alg-none": _alg_none,
    "hs256-public-key-as-secret": _hs256_with_the_public_key_as_secret,
    "expired": lambda: make_access_token(lifetime=dt.timedelta(minutes=-1)),
    "wrong-issuer": lambda: make_access_token(iss="someone-else"),
    "wrong-audience": lambda: make_access_token(aud="another-system"),
    "no-issuer": lambda: _without("iss"),
    "unknown-key": lambda: make_access_token(private_key=_other_key(), kid="unknown-kid"),
    "other-key-under-a-known-kid": lambda: make_access_token(private_key=_other_key()),
    "refresh-token-as-access": lambda: make_access_token(token_type="refresh"),
    "no-user-id": lambda: jwt.encode(
        {k: v for k, v in _claims().items() if k != "user_id"},
        trusted_private_key(),
        "RS256",
        headers={"kid": TEST_KID},
    ),
    "user-id-not-a-uuid": lambda: make_access_token(user_id="not-a-uuid"),
    "malformed-kid": lambda: _signed_with_header({"alg": "RS256", "typ": "JWT", "kid": ["a", "b"]}),
    "rs512": lambda: jwt.encode(_claims(), trusted_private_key(), "RS512", headers={"kid": TEST_KID}),
    "not-a-jwt": lambda: "not.a.jwt",
    "garbage": lambda: "garbage",
}


@pytest.mark.parametrize("make_token", INVALID_TOKENS.values(), ids=INVALID_TOKENS.keys())
def test_invalid_tokens_are_401(make_token):
    response = get(make_token())

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid or expired."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_token_is_401_with_a_bearer_challenge():
    response = APIClient().get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "\xe9 x", "\xff"])
def test_another_scheme_is_not_ours_and_not_an_error(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_bearer_header_with_extra_parts_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_access_token()} extra")

    response = client.get(WHOAMI)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header must be 'Bearer <token>'."}
