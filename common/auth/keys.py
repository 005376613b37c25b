"""The public keys that access tokens are verified with.

Sources, first match wins: ``COMMON["AUTH"]["JWKS"]`` (a JWKS dict, set by tests or config),
``AUTH_JWKS_FILE``, or ``AUTH_JWKS_URL`` fetched once and cached. An unknown ``kid`` refetches
the URL (at most every ``JWKS_REFRESH_SECONDS``), so a rotated key is picked up without restart.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import jwt
from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "ISSUER": "movie-booking-auth",
    "AUDIENCE": "movie-booking",
    "JWKS": None,
    "JWKS_FILE": None,
    "JWKS_URL": "http://127.0.0.1:8001/api/auth/jwks/",
    "JWKS_REFRESH_SECONDS": 30,
    "JWKS_TIMEOUT_SECONDS": 2,
    "LEEWAY_SECONDS": 5,
}

_lock = threading.Lock()
_cache: dict[str, Any] = {"keys": {}, "fetched_at": 0.0, "source": None}


def token_settings() -> dict[str, Any]:
    return {**DEFAULTS, **settings.COMMON.get("AUTH", {})}


def _load_jwks(options: dict[str, Any]) -> dict:
    if options["JWKS"]:
        return options["JWKS"]
    if options["JWKS_FILE"]:
        with open(options["JWKS_FILE"], encoding="utf-8") as handle:
            return json.load(handle)
    with urllib.request.urlopen(options["JWKS_URL"], timeout=options["JWKS_TIMEOUT_SECONDS"]) as response:  # noqa: S310 - URL from settings
        return json.load(response)


def _parse(jwks: dict) -> dict[str | None, Any]:
    keys = {}
    for entry in jwks.get("keys", []):
        if entry.get("kty") == "RSA":
            keys[entry.get("kid")] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(entry))
    return keys


def reset_key_cache() -> None:
    with _lock:
        _cache.update(keys={}, fetched_at=0.0, source=None)


def get_public_key(kid: str | None):
    options = token_settings()
    source = (id(options["JWKS"]), options["JWKS_FILE"], options["JWKS_URL"])
    with _lock:
        stale = _cache["source"] != source
        unknown = kid not in _cache["keys"]
        may_refresh = time.monotonic() - _cache["fetched_at"] > options["JWKS_REFRESH_SECONDS"]
        if stale or (unknown and may_refresh) or not _cache["keys"]:
            try:
                _cache["keys"] = _parse(_load_jwks(options))
            except OSError as exc:
                if not _cache["keys"] or stale:
                    raise jwt.InvalidTokenError(f"signing keys unavailable: {exc}") from exc
            _cache["fetched_at"] = time.monotonic()
            _cache["source"] = source
        key = _cache["keys"].get(kid)
    if key is None:
        raise jwt.InvalidTokenError("token signed by an unknown key")
    return key
