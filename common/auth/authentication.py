"""Verify access tokens with the auth service's public keys alone.

No shared secret and no call to the auth service per request: the keys come from the JWKS
(configured inline, or fetched once from ``AUTH_JWKS_URL`` and cached) and the user is built
from the token's claims.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import jwt
from rest_framework import authentication, exceptions

from .keys import SigningKeysUnavailable, get_public_key, token_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenUser:
    """The caller, as the token describes them. Nothing is stored locally."""

    id: uuid.UUID
    email: str
    is_staff: bool = False
    claims: dict = field(default_factory=dict, compare=False, repr=False)

    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> uuid.UUID:
        return self.id

    def __str__(self) -> str:
        return self.email


def decode_access_token(token: str) -> dict:
    """The verified claims of an RS256 access token, or ``jwt.InvalidTokenError``."""
    options = token_settings()
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "RS256":
        # Only RS256: this refuses "none" and HS256 signed with the public key as a secret.
        raise jwt.InvalidAlgorithmError("only RS256 tokens are accepted")
    key = get_public_key(header.get("kid"))
    claims = jwt.decode(
        token,
        key=key,
        algorithms=["RS256"],
        audience=options["AUDIENCE"],
        issuer=options["ISSUER"],
        options={"require": ["exp", "iat", "user_id", "token_type"]},
        leeway=options["LEEWAY_SECONDS"],
    )
    if claims.get("token_type") != "access":
        raise jwt.InvalidTokenError("not an access token")
    return claims


class StatelessJWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        # Compared as bytes: a scheme that is not UTF-8 is another scheme, not a 500.
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            claims = decode_access_token(header[1].decode())
            user = TokenUser(
                id=uuid.UUID(str(claims["user_id"])),
                email=str(claims.get("email", "")),
                is_staff=bool(claims.get("is_staff", False)),
                claims=claims,
            )
        except SigningKeysUnavailable as exc:
            # Imported here: common.api.exceptions imports DRF's views, whose settings import this class.
            from common.api.exceptions import ServiceUnavailable

            # The token may well be good: the client should try again, not sign in afresh.
            logger.warning("access token not verified: %s", exc)
            raise ServiceUnavailable("The token cannot be verified just now; try again shortly.") from None
        except (jwt.InvalidTokenError, ValueError, UnicodeDecodeError) as exc:
            logger.info("rejected access token: %s", exc)
            raise exceptions.AuthenticationFailed("Token is invalid or expired.", code="token_not_valid") from None
        return user, claims

    def authenticate_header(self, request):
        return self.keyword


# Registers the OpenAPI security scheme of this class with drf-spectacular.
from . import schema  # noqa: E402, F401
