"""Brute-force protection for sign-in: failures counted per account and per client address.

Every attempt first *reserves* a slot in both counters with one atomic step (Redis: INCR and
EXPIRE in a Lua script, so concurrent attempts can never both see "under the limit"); an attempt
whose slot is over a limit is refused with 429 before the password is checked. A successful
sign-in gives its slot back, so only failures count. A window starts at the first failure and
the counters expire with it (``Retry-After`` is what is left of it).

With ``REDIS_URL`` unset (the embedded default) the counters live in the Django cache, whose
``incr`` is atomic within one process. With Redis configured but unreachable sign-in fails closed
(503): the limit must not silently disappear.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "auth:login-failures"

# KEYS: the counters; ARGV[1]: window seconds. Returns {count1, ttl1, count2, ttl2, ...}.
_RESERVE = """
local result = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if redis.call('TTL', key) < 0 then
        redis.call('EXPIRE', key, ARGV[1])
    end
    result[#result + 1] = count
    result[#result + 1] = redis.call('TTL', key)
end
return result
"""

# Gives a slot back without creating a key or going below zero.
_RELEASE = """
for i, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') > 0 then
        redis.call('DECR', key)
    end
end
return 0
"""


class LimiterUnavailableError(Exception):
    """The counter store (Redis) did not answer."""


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, ...]
    allowed: bool
    retry_after: int


def limits() -> dict:
    return settings.AUTH_LOGIN_LIMITS


def _digest(value: str) -> str:
    # Keys carry no e-mail addresses or IPs in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _prefix() -> str:
    return limits().get("KEY_PREFIX") or DEFAULT_KEY_PREFIX


def account_key(email: str) -> str:
    return f"{_prefix()}:account:{_digest(email.strip().lower())}"


def address_key(address: str) -> str:
    return f"{_prefix()}:address:{_digest(address or 'unknown')}"


def _uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].startswith("django_redis")


def _redis():
    return get_redis_connection("default")


def _reserve_redis(keys: list[str], window: int) -> list[tuple[int, int]]:
    # Both imports are at module level: importing inside a request raced between threads of a
    # fresh worker ("partially initialized module", import deadlocks) and answered 500.
    try:
        values = _redis().eval(_RESERVE, len(keys), *keys, window)
    except RedisError as exc:
        raise LimiterUnavailableError(str(exc)) from exc
    return [(int(values[i]), int(values[i + 1])) for i in range(0, len(values), 2)]


def _reserve_cache(keys: list[str], window: int) -> list[tuple[int, int]]:
    now = time.time()
    result = []
    for key in keys:
        # add() is a no-op when the window already runs; the deadline is kept beside the count.
        cache.add(f"{key}:until", now + window, window)
        cache.add(key, 0, window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window)
            count = 1
        until = cache.get(f"{key}:until") or now + window
        result.append((count, max(1, math.ceil(until - now))))
    return result


def reserve_attempt(*, email: str, address: str) -> Reservation:
    """Count one sign-in attempt; ``allowed`` is False when a limit is already used up."""
    options = limits()
    keys = [account_key(email), address_key(address)]
    maxima = [options["ACCOUNT_FAILURES"], options["ADDRESS_FAILURES"]]
    window = int(options["WINDOW_SECONDS"])
    counts = _reserve_redis(keys, window) if _uses_redis() else _reserve_cache(keys, window)
    over = [ttl for (count, ttl), maximum in zip(counts, maxima, strict=True) if count > maximum]
    if over:
        return Reservation(keys=tuple(keys), allowed=False, retry_after=max(1, *over))
    return Reservation(keys=tuple(keys), allowed=True, retry_after=0)


def release_attempt(reservation: Reservation) -> None:
    """The attempt succeeded: it is not a failure, give its slot back."""
    if _uses_redis():
        try:
            _redis().eval(_RELEASE, len(reservation.keys), *reservation.keys)
        except RedisError as exc:  # the sign-in itself succeeded; at worst it stays counted
            logger.warning("could not release a login-attempt slot: %s", exc)
        return
    for key in reservation.keys:
        try:
            if (cache.get(key) or 0) > 0:
                cache.decr(key)
        except ValueError:
            pass


def failure_count(*, email: str | None = None, address: str | None = None) -> int:
    """The current count (for tests and the admin)."""
    key = account_key(email) if email is not None else address_key(address or "")
    if _uses_redis():
        return int(_redis().get(key) or 0)
    return int(cache.get(key) or 0)


def reset(*, email: str | None = None, address: str | None = None) -> None:
    keys = []
    if email is not None:
        keys.append(account_key(email))
    if address is not None:
        keys.append(address_key(address))
    if _uses_redis():
        if keys:
            _redis().delete(*keys)
        return
    cache.delete_many(keys + [f"{key}:until" for key in keys])
