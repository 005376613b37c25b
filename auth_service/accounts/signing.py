"""The auth service's signing key and the public keys it publishes (JWKS).

Settings (``AUTH_JWT`` in ``settings/base.py``, read from the environment there):

- ``PRIVATE_KEY``: the current RSA private key, PEM. From ``AUTH_JWT_PRIVATE_KEY`` or the file
  named by ``AUTH_JWT_PRIVATE_KEY_FILE``; in development generated once under
  ``var/auth/jwt/private.pem`` when neither is set (never committed; production refuses to start
  without one).
- ``KEY_ID``: the ``kid`` of the current key; default its RFC 7638 thumbprint.
- ``PREVIOUS_PUBLIC_KEYS``: public keys (PEM) still accepted after a rotation, from
  ``AUTH_JWT_PREVIOUS_PUBLIC_KEYS`` (PEM blocks, concatenated) and the files listed in
  ``AUTH_JWT_PREVIOUS_PUBLIC_KEY_FILES`` (comma-separated). Their ``kid`` is their thumbprint.

This module must not import models: ``settings/base.py`` uses its loaders.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common.auth.keys import jwk_thumbprint, public_jwk

_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
KEY_SIZE = 2048


class KeyConfigurationError(Exception):
    pass


# --- loading (settings time) ---------------------------------------------------------------------


def generate_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _development_key(directory: Path) -> str:
    path = directory / "private.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        pem = generate_private_key_pem()
        # O_EXCL: two processes starting together keep whichever key was written first.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(pem)
    return path.read_text(encoding="ascii")


def load_private_key_pem(*, environ=os.environ, development_dir: Path | None = None) -> str | None:
    """The PEM from the environment, or a development key under ``development_dir`` (or None)."""
    if environ.get("AUTH_JWT_PRIVATE_KEY"):
        return environ["AUTH_JWT_PRIVATE_KEY"].replace("\\n", "\n")
    if environ.get("AUTH_JWT_PRIVATE_KEY_FILE"):
        return Path(environ["AUTH_JWT_PRIVATE_KEY_FILE"]).read_text(encoding="ascii")
    if development_dir is None:
        return None
    return _development_key(development_dir)


def load_previous_public_keys(*, environ=os.environ) -> list[str]:
    pems = _PEM_BLOCK.findall(environ.get("AUTH_JWT_PREVIOUS_PUBLIC_KEYS", "").replace("\\n", "\n"))
    for name in environ.get("AUTH_JWT_PREVIOUS_PUBLIC_KEY_FILES", "").split(","):
        if name.strip():
            pems.extend(_PEM_BLOCK.findall(Path(name.strip()).read_text(encoding="ascii")))
    return pems


# --- using (run time, always from the current settings) ---------------------------------------


@lru_cache(maxsize=16)
def _private_key(pem: str):
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"AUTH_JWT PRIVATE_KEY is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyConfigurationError("AUTH_JWT PRIVATE_KEY must be an RSA key (RS256)")
    return key


@lru_cache(maxsize=64)
def _public_key(pem: str):
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyConfigurationError("previous public keys must be RSA keys")
    return key


def _options() -> dict:
    from django.conf import settings

    options = settings.AUTH_JWT
    if not options.get("PRIVATE_KEY"):
        raise KeyConfigurationError("no signing key: set AUTH_JWT_PRIVATE_KEY or AUTH_JWT_PRIVATE_KEY_FILE")
    return options


def signing_key():
    return _private_key(_options()["PRIVATE_KEY"])


def current_kid() -> str:
    options = _options()
    return options.get("KEY_ID") or jwk_thumbprint(signing_key().public_key())


def verifying_keys() -> dict[str, object]:
    """``kid`` → public key, for the current key and every previous key still accepted."""
    keys = {current_kid(): signing_key().public_key()}
    for pem in _options().get("PREVIOUS_PUBLIC_KEYS", []):
        public_key = _public_key(pem)
        keys.setdefault(jwk_thumbprint(public_key), public_key)
    return keys


def jwks() -> dict:
    """The JWKS served at ``/api/auth/jwks/``: current key first."""
    return {"keys": [public_jwk(key, kid) for kid, key in verifying_keys().items()]}
