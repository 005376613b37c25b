"""Staff single sign-on to every service's Django admin.

Staff sign in to ``/admin/<prefix>/`` with their auth-service email (typed into Django's
"Username" field) and password. This backend posts them to the auth service's token endpoint,
verifies the returned access token with the public key like any API request, and requires the
``is_staff`` claim. No service keeps its own staff passwords: the local ``User`` it creates or
updates has an unusable password and exists only because Django's admin and its sessions need a
row to point at.

The local user is a superuser. The auth service is the one authority on who is staff; the
services do not keep a second, per-service permission model that could drift from it, so a staff
member administers every service fully. Revoking the staff flag in auth takes effect at that
person's next admin sign-in attempt (the local row is demoted even though the sign-in fails); an
admin session already open lasts until it expires (``ADMIN_SESSION_SECONDS``, 8 hours; Django's
default was two weeks) or they sign out.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend

from .authentication import decode_access_token
from .keys import token_settings

logger = logging.getLogger(__name__)


def client_forwarded_for(request) -> str:
    """The ``X-Forwarded-For`` to send on for the admin sign-in ``request`` ("" when unknown).

    The auth service counts failed sign-ins per client address (``AUTH_NUM_PROXIES``: the entry
    the gateway appended). Called from here without it, every sign-in to this admin was counted
    against this pod's address, so 20 failures by anyone locked all staff out of it for the
    window. The chain is passed on as the gateway made it, so the auth service picks the same
    entry it would pick had the client come to it through the gateway. A request with no chain
    (no gateway in front) is counted under its peer's address. A client that reaches this
    service without the gateway can send a chain of its own, as it could to the auth service
    itself on such a deployment: keep the services behind the gateway.
    """
    if request is None:
        return ""
    meta = getattr(request, "META", {})
    return str(meta.get("HTTP_X_FORWARDED_FOR") or meta.get("REMOTE_ADDR") or "").strip()


def request_access_token(email: str, password: str, *, forwarded_for: str = "") -> str | None:
    """The auth service's access token for these credentials, or None when it refuses them."""
    options = token_settings()
    body = json.dumps({"email": email, "password": password}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    request = urllib.request.Request(  # noqa: S310 - URL from settings
        options["TOKEN_URL"], data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=options["TOKEN_TIMEOUT_SECONDS"]) as response:  # noqa: S310
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        # 401 wrong credentials, 429 throttled, 400 malformed: all mean "not signed in".
        logger.info("admin sign-in refused by the auth service: HTTP %s", exc.code)
        return None
    except (OSError, ValueError) as exc:
        logger.warning("admin sign-in: auth service unreachable or answered nonsense: %s", exc)
        return None
    access = payload.get("access") if isinstance(payload, dict) else None
    return access if isinstance(access, str) else None


class AuthServiceBackend(BaseBackend):
    """``authenticate(request, username=<email>, password=…)`` against the auth service."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        access = request_access_token(username, password, forwarded_for=client_forwarded_for(request))
        if access is None:
            return None
        try:
            claims = decode_access_token(access)
        except jwt.InvalidTokenError as exc:
            logger.warning("admin sign-in: the auth service's token did not verify: %s", exc)
            return None
        email = str(claims.get("email") or "").strip()
        if not email:
            return None
        user_model = get_user_model()
        user = user_model._default_manager.filter(username__iexact=email).first()
        if not claims.get("is_staff"):
            if user is not None and (user.is_staff or user.is_superuser):
                # The staff flag was removed in auth: it takes effect here now.
                user.is_staff = False
                user.is_superuser = False
                user.save(update_fields=["is_staff", "is_superuser"])
            return None
        if user is None:
            user = user_model(username=email)
        user.email = email
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_unusable_password()
        user.save()
        return user

    def get_user(self, user_id):
        user_model = get_user_model()
        user = user_model._default_manager.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
