"""The bench's booking requests: each from a user of its own, whose contact is announced first."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.plans import Identity, SeatPlanner, Tokens, booking_requests


@pytest.fixture
def key_and_token(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "private.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    now = int(time.time())
    claims = {"user_id": "real", "email": "real@example.com", "token_type": "access", "iat": now, "exp": now + 300}
    real_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    return key_file, real_token, key.public_key()


def test_every_requests_user_is_announced_once_before_the_requests_are_returned(key_and_token):
    # given tokens that hand minted users to a contacts sink
    key_file, real_token, public_key = key_and_token
    announced: list[list[Identity]] = []
    tokens = Tokens(key_file, real_token, contacts=announced.append)
    planner = SeatPlanner([{"id": "showtime-1", "labels": [f"A{n}" for n in range(1, 9)]}])

    # when two batches of booking requests are built
    first = booking_requests(3, planner, tokens, 0)
    second = booking_requests(1, planner, tokens, 100)

    # then each batch announced exactly its own users, with the ids and e-mails their tokens carry
    assert [len(batch) for batch in announced] == [3, 1]
    for requests, batch in zip((first, second), announced, strict=True):
        claims = [jwt.decode(r.tag["token"], public_key, algorithms=["RS256"]) for r in requests]
        assert [Identity(c["user_id"], c["email"]) for c in claims] == batch
    assert len({identity.user_id for batch in announced for identity in batch}) == 4
    assert all(json.loads(r.body)["payment_method"] == "pm_card_visa" for r in first + second)
