"""simplejwt tokens signed with the current key (``kid`` header) and verified against the JWKS.

simplejwt's own backend is built once at import from ``SIMPLE_JWT`` and cannot put a ``kid`` in
the header; ``KeyedTokenBackend`` reads the keys from ``signing`` on every call, so a key listed
as previous still verifies refresh tokens it signed, and settings changes apply at once.
"""

from __future__ import annotations

import jwt
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from common.auth.keys import token_settings

from . import signing


class KeyedTokenBackend(TokenBackend):
    def __init__(self) -> None:
        super().__init__("RS256")

    def encode(self, payload: dict) -> str:
        options = token_settings()
        claims = {**payload, "iss": options["ISSUER"], "aud": options["AUDIENCE"]}
        return jwt.encode(claims, signing.signing_key(), algorithm="RS256", headers={"kid": signing.current_kid()})

    def decode(self, token, verify: bool = True) -> dict:
        options = token_settings()
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise jwt.InvalidAlgorithmError("only RS256 tokens are accepted")
            kid = header.get("kid")
            key = signing.verifying_keys().get(kid) if isinstance(kid, str) else None
            if key is None:
                raise jwt.InvalidTokenError("token signed by an unknown key")
            return jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=options["AUDIENCE"],
                issuer=options["ISSUER"],
                leeway=options["LEEWAY_SECONDS"],
                options={"verify_signature": verify, "require": ["exp", "iat", "jti", "token_type"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc


_backend = KeyedTokenBackend()


class UserAccessToken(AccessToken):
    _token_backend = _backend


class UserRefreshToken(RefreshToken):
    _token_backend = _backend
    access_token_class = UserAccessToken

    @classmethod
    def claims_for(cls, user) -> dict:
        return {"email": user.email, "is_staff": bool(user.is_staff)}


def issue_token_pair(user) -> dict[str, str]:
    """A new refresh token (recorded as outstanding) and its access token, with the user's claims."""
    refresh = UserRefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.id)
    refresh.payload.update(UserRefreshToken.claims_for(user))
    access = refresh.access_token
    encoded = str(refresh)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=encoded,
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return {"access": str(access), "refresh": encoded}
