"""Who books what: the run's users and tokens, and the seats every booking request asks for."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jwt

from bench import load

SEATS_PER_BOOKING = 2


class Identity(NamedTuple):
    user_id: str
    email: str


class Tokens:
    """Real users registered through the API, and per-request users signed with the run's key.

    Registering thousands of users through the API is thousands of Argon2 hashes (~0.1 s of CPU
    each): minutes on this machine. So a handful of users register and sign in for real, and each
    booking request gets a distinct user whose token is signed with the auth service's own key of
    this run, with exactly the header and claims of a real token (checked against one below), and
    whose contact the notification service is given first (``announce``), as registering would.
    """

    def __init__(self, key_file: Path, real_token: str, contacts: Callable[[list[Identity]], None] | None = None):
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        # Parsed once: PyJWT would parse (and check) the PEM again for every token, ~30 ms each.
        self.key = load_pem_private_key(key_file.read_bytes(), password=None)
        self.header = jwt.get_unverified_header(real_token)
        self.claims = jwt.decode(real_token, options={"verify_signature": False})
        self._contacts = contacts
        self._unannounced: list[Identity] = []

    def mint(self, index: int) -> str:
        now = int(time.time())
        lifetime = self.claims["exp"] - self.claims["iat"]
        identity = Identity(user_id=str(uuid.uuid4()), email=f"bench-{index}@example.com")
        claims = {
            **self.claims,
            "user_id": identity.user_id,
            "email": identity.email,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        self._unannounced.append(identity)
        return jwt.encode(claims, self.key, algorithm=self.header["alg"], headers={"kid": self.header["kid"]})

    def announce(self) -> None:
        """Hand the users minted since the last call to ``contacts``, before any of them books.

        A real user registered first, so the notification service knew their address
        (``auth.user.registered``) before their first booking was confirmed. Without it the
        confirmation's e-mail would wait for a contact that never comes, and the saga the bench
        measures would end one step (the send task) short of a customer's.
        """
        if self._contacts and self._unannounced:
            self._contacts(self._unannounced)
        self._unannounced = []


async def register_users(client: load.Client, count: int) -> list[str]:
    password = "Bench-" + uuid.uuid4().hex
    run = uuid.uuid4().hex[:8]

    async def one(index: int) -> str:
        email = f"bench-{run}-{index}@example.com"
        body = json.dumps({"email": email, "password": password, "full_name": f"Bench User {index}"}).encode()
        status, answer = await client.request(load.Request("POST", "/api/auth/register/", body=body))
        if status != 201:
            raise RuntimeError(f"register answered {status}: {answer[:200]!r}")
        body = json.dumps({"email": email, "password": password}).encode()
        status, answer = await client.request(load.Request("POST", "/api/auth/token/", body=body))
        if status != 200:
            raise RuntimeError(f"token answered {status}: {answer[:200]!r}")
        return json.loads(answer)["access"]

    # One at a time: concurrent first requests to a fresh gthread worker can deadlock on a lazy
    # import (seen: auth's login limits importing redis; see docs/performance.md).
    return [await one(index) for index in range(count)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


class SeatPlanner:
    """Distinct seats for every booking, spread round-robin over all showtimes."""

    def __init__(self, showtimes: list[dict]):
        self.queues = []
        for showtime in showtimes:
            labels = showtime["labels"]
            pairs = [labels[i : i + SEATS_PER_BOOKING] for i in range(0, len(labels) - SEATS_PER_BOOKING + 1, 2)]
            self.queues.append((showtime["id"], pairs))
        self._cycle = itertools.cycle(range(len(self.queues)))
        self.capacity = sum(len(pairs) for _, pairs in self.queues)

    @property
    def remaining(self) -> int:
        return sum(len(pairs) for _, pairs in self.queues)

    def next(self) -> tuple[str, list[str]]:
        for _ in range(len(self.queues)):
            showtime_id, pairs = self.queues[next(self._cycle)]
            if pairs:
                return showtime_id, pairs.pop()
        raise RuntimeError("out of seats: seed more days of showtimes")


def booking_requests(count: int, planner: SeatPlanner, tokens: Tokens, offset: int) -> list[load.Request]:
    requests = []
    for index in range(count):
        showtime_id, seats = planner.next()
        token = tokens.mint(offset + index)
        body = {"showtime_id": showtime_id, "seats": seats, "payment_method": "pm_card_visa"}
        requests.append(
            load.Request("POST", "/api/bookings/", bearer(token), json.dumps(body).encode(), tag={"token": token})
        )
    tokens.announce()
    return requests
