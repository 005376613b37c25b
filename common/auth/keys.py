"""The public keys that access tokens are verified with, and the JWK helpers the auth service uses.

Sources, first match wins: ``COMMON["AUTH"]["JWKS_PROVIDER"]`` (dotted path to a function
returning a JWKS, used by the auth service for its own keys), ``COMMON["AUTH"]["JWKS"]`` (a JWKS
dict, set by tests or config), ``JWKS_FILE`` (env ``AUTH_JWKS_FILE``), or ``JWKS_URL`` (env
``AUTH_JWKS_URL``) fetched once and cached. An unknown ``kid`` refetches the URL (at most every
``JWKS_REFRESH_SECONDS``), so a rotated key is picked up without restart and without a call to
the auth service per request; after ``JWKS_MAX_AGE_SECONDS`` the next request refetches it too,
so a key withdrawn from the JWKS stops verifying (if the refetch fails, the known keys stay).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import urllib.request
from typing import Any

import jwt
from django.conf import settings
from django.utils.module_loading import import_string

# The one place issuer and audience are written down: the auth service signs with these and
# every service verifies against them.
DEFAULTS: dict[str, Any] = {
    "ISSUER": "movie-booking-auth",
    "AUDIENCE": "movie-booking",
    "JWKS_PROVIDER": None,
    "JWKS": None,
    "JWKS_FILE": None,
    "JWKS_URL": "http://127.0.0.1:8001/api/auth/jwks/",
    # An unknown kid refetches at most this often; a known one is trusted from the cache for at
    # most JWKS_MAX_AGE_SECONDS, so a key removed from the JWKS stops verifying everywhere.
    "JWKS_REFRESH_SECONDS": 30,
    "JWKS_MAX_AGE_SECONDS": 300,
    "JWKS_TIMEOUT_SECONDS": 2,
    # With no keys, a failed fetch is not tried again for this long: every request waiting on the
    # fetch's timeout, one after another behind the lock, held up every thread of the server.
    "JWKS_RETRY_SECONDS": 2,
    "LEEWAY_SECONDS": 5,
    # Staff single sign-on to the Django admins (common.auth.admin_sso).
    "TOKEN_URL": "http://127.0.0.1:8001/api/auth/token/",
    "TOKEN_TIMEOUT_SECONDS": 3,
}

# Environment variables that fill an option unless COMMON["AUTH"] sets it explicitly.
ENVIRONMENT = {
    "AUTH_JWKS_URL": "JWKS_URL",
    "AUTH_JWKS_FILE": "JWKS_FILE",
    "AUTH_TOKEN_URL": "TOKEN_URL",
}

_lock = threading.Lock()
_cache: dict[str, Any] = {"keys": {}, "fetched_at": 0.0, "source": None, "failed_at": 0.0, "failed_source": None}


class SigningKeysUnavailable(jwt.InvalidTokenError):  # an InvalidTokenError to every other caller
    """No key could be loaded (the auth service down, or its JWKS unreadable): not the token's fault."""


def token_settings() -> dict[str, Any]:
    from_env = {option: os.environ[name] for name, option in ENVIRONMENT.items() if os.environ.get(name)}
    return {**DEFAULTS, **from_env, **settings.COMMON.get("AUTH", {})}


# --- JWK helpers -----------------------------------------------------------------------------


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(public_key) -> str:
    """RFC 7638 thumbprint of an RSA public key: a stable ``kid`` derived from the key itself."""
    numbers = public_key.public_numbers()
    canonical = json.dumps({"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")


def public_jwk(public_key, kid: str | None = None) -> dict[str, str]:
    """The JWK of an RSA public key for RS256 signatures."""
    numbers = public_key.public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid or jwk_thumbprint(public_key),
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }


# --- verification keys -------------------------------------------------------------------------


def _load_jwks(options: dict[str, Any]) -> dict:
    if options["JWKS_PROVIDER"]:
        return import_string(options["JWKS_PROVIDER"])()
    if options["JWKS"]:
        return options["JWKS"]
    if options["JWKS_FILE"]:
        with open(options["JWKS_FILE"], encoding="utf-8") as handle:
            return json.load(handle)
    with urllib.request.urlopen(options["JWKS_URL"], timeout=options["JWKS_TIMEOUT_SECONDS"]) as response:  # noqa: S310 - URL from settings
        return json.load(response)


def _parse(jwks: dict) -> dict[str | None, Any]:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWKS")
    keys = {}
    for entry in jwks["keys"]:
        if not isinstance(entry, dict):
            raise ValueError("not a JWKS")
        if entry.get("kty") == "RSA" and entry.get("alg", "RS256") == "RS256":
            keys[entry.get("kid")] = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(entry))
    return keys


def reset_key_cache() -> None:
    with _lock:
        _cache.update(keys={}, fetched_at=0.0, source=None, failed_at=0.0, failed_source=None)


def get_public_key(kid: str | None):
    """The public key with this ``kid``, or ``jwt.InvalidTokenError``."""
    if kid is not None and not isinstance(kid, str):
        raise jwt.InvalidTokenError("malformed kid")
    options = token_settings()
    if options["JWKS_PROVIDER"]:
        # Local keys (the auth service itself): no network, so no cache to go stale.
        key = _parse(_load_jwks(options)).get(kid)
        if key is None:
            raise jwt.InvalidTokenError("token signed by an unknown key")
        return key
    source = (id(options["JWKS"]), options["JWKS_FILE"], options["JWKS_URL"])
    with _lock:
        now = time.monotonic()
        stale = _cache["source"] != source
        unknown = kid not in _cache["keys"]
        age = now - _cache["fetched_at"]
        expired = age > options["JWKS_MAX_AGE_SECONDS"]
        may_refresh = age > options["JWKS_REFRESH_SECONDS"]
        if stale or expired or (unknown and may_refresh) or not _cache["keys"]:
            keyless = stale or not _cache["keys"]
            failed_lately = (
                _cache["failed_source"] == source and now - _cache["failed_at"] < options["JWKS_RETRY_SECONDS"]
            )
            if keyless and failed_lately:
                raise SigningKeysUnavailable("signing keys unavailable: the last fetch failed moments ago")
            try:
                _cache["keys"] = _parse(_load_jwks(options))
            except (OSError, ValueError, jwt.InvalidKeyError) as exc:
                # The auth service briefly down: keep verifying with the keys already known.
                if keyless:
                    # When the fetch ended: a fetch that hung for its whole timeout must not leave
                    # the next request, queued behind the lock meanwhile, free to hang again.
                    _cache.update(keys={}, source=None, failed_at=time.monotonic(), failed_source=source)
                    raise SigningKeysUnavailable(f"signing keys unavailable: {exc}") from exc
            _cache["fetched_at"] = time.monotonic()
            _cache["source"] = source
        key = _cache["keys"].get(kid)
    if key is None:
        raise jwt.InvalidTokenError("token signed by an unknown key")
    return key
