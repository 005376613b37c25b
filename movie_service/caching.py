"""Cached reads of the catalogue, invalidated exactly by a version counter.

Every cached response is stored under a key that includes the current catalogue version. A write
bumps the version after its transaction commits, so the next read misses and goes to the
database: a read right after a staff change never sees the old data, and nothing has to know
which keys a change touched. Old entries simply expire.

The cache is an optimisation only: any cache error counts as a miss (django-redis is configured
with IGNORE_EXCEPTIONS, and anything else that escapes is caught here), so with Redis down the
service answers from the database.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "catalogue:version"
_MISSING = object()
VERSION_TIMEOUT = 30 * 24 * 3600  # should it expire, it restarts higher (see _initial_version)


def cache_enabled() -> bool:
    return bool(settings.CATALOGUE_CACHE["ENABLED"])


def _initial_version() -> int:
    # Should the counter vanish (eviction, flush), it restarts above any value it had before,
    # so an old entry can never be mistaken for a current one.
    return time.time_ns() // 1000


def current_version() -> int | None:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, _initial_version(), timeout=VERSION_TIMEOUT)
            version = cache.get(VERSION_KEY)
    except Exception:  # the cache is optional: any failure means "do not cache"
        logger.warning("catalogue cache unavailable", exc_info=True)
        return None
    return version


def bump_version() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no counter yet (or it was evicted)
            cache.set(VERSION_KEY, _initial_version(), timeout=VERSION_TIMEOUT)
    except Exception:
        logger.warning("could not invalidate the catalogue cache", exc_info=True)


def invalidate_on_commit() -> None:
    """Call from every write of the catalogue, inside its transaction."""
    transaction.on_commit(bump_version)


def response_key(version: int, request) -> str:
    digest = hashlib.sha256(f"{request.get_host()}|{request.get_full_path()}".encode()).hexdigest()
    return f"catalogue:{version}:{digest}"


def cached(request, compute: Callable[[], Any]) -> Any:
    """``compute()``'s result for this request, from the cache when possible."""
    if not cache_enabled():
        return compute()
    version = current_version()
    if version is None:
        return compute()
    key = response_key(version, request)
    try:
        hit = cache.get(key, _MISSING)
    except Exception:
        logger.warning("catalogue cache read failed", exc_info=True)
        hit = _MISSING
    if hit is not _MISSING:
        return hit
    value = compute()
    try:
        cache.set(key, value, timeout=settings.CATALOGUE_CACHE["TIMEOUT"])
    except Exception:
        logger.warning("catalogue cache write failed", exc_info=True)
    return value
