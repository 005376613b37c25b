"""Every write of the accounts app: users, sign-in, refresh rotation, logout, deactivation."""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from common.api.exceptions import ServiceUnavailable

from . import login_limits
from .events import publish_user_registered, publish_user_updated
from .models import User
from .selectors import user_email_taken
from .tokens import UserRefreshToken, issue_token_pair

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "A user with this email already exists."
INVALID_CREDENTIALS = "No active account found with the given credentials."
INVALID_REFRESH = "Token is invalid or expired."


class Throttled(exceptions.Throttled):
    default_detail = "Too many failed sign-in attempts."


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email(email.strip())


# --- users -------------------------------------------------------------------------------------


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    email = _normalize_email(email)
    if user_email_taken(email=email):
        raise serializers.ValidationError({"email": [DUPLICATE_EMAIL]})
    user = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise serializers.ValidationError({"password": list(exc.messages)}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # registered concurrently: the unique constraint decides
        raise serializers.ValidationError({"email": [DUPLICATE_EMAIL]}) from None
    publish_user_registered(user)
    return user


@transaction.atomic
def user_update(*, user: User, email: str | None = None, full_name: str | None = None) -> User:
    # The row as it is now, locked: the event carries the whole profile, and one built from the
    # caller's copy (read before a concurrent PATCH committed) would give the notification
    # service the old email back.
    user = User.objects.select_for_update().get(pk=user.pk)
    changed = []
    if email is not None:
        email = _normalize_email(email)
        if email != user.email:
            if user_email_taken(email=email, exclude_id=user.id):
                raise serializers.ValidationError({"email": [DUPLICATE_EMAIL]})
            user.email = email
            changed.append("email")
    if full_name is not None and full_name.strip() != user.full_name:
        user.full_name = full_name.strip()
        changed.append("full_name")
    if not changed:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise serializers.ValidationError({"email": [DUPLICATE_EMAIL]}) from None
    publish_user_updated(user)
    return user


def user_refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many were added."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


def refresh_tokens_flush_expired() -> int:
    """Forget refresh tokens that expired: they no longer verify, blacklisted or not."""
    deleted, _ = OutstandingToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> User:
    """Activate or deactivate; deactivating also ends every session (refresh tokens blacklisted)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not is_active:
        # Even if already inactive: a token may have been issued in between.
        user_refresh_tokens_revoke(user=user)
    if user.is_active == is_active:
        return user
    user.is_active = is_active
    user.save(update_fields=["is_active", "updated_at"])
    publish_user_updated(user)
    return user


@transaction.atomic
def user_admin_saved(*, user: User, changed_fields: list[str], created: bool) -> None:
    """After the admin form saved ``user``: the same side effects as the API's writes."""
    if created:
        publish_user_registered(user)
        return
    if "is_active" in changed_fields and not user.is_active:
        user_refresh_tokens_revoke(user=user)
    if {"email", "full_name", "is_active"} & set(changed_fields):
        publish_user_updated(user)


# --- tokens ------------------------------------------------------------------------------------


def token_obtain(*, email: str, password: str, address: str, request=None) -> dict[str, str]:
    """Sign in: a token pair, 401 for wrong credentials, 429 when a failure limit is used up."""
    try:
        reservation = login_limits.reserve_attempt(email=email, address=address)
    except login_limits.LimiterUnavailableError as exc:
        logger.error("login limiter unavailable, refusing sign-in: %s", exc)
        raise ServiceUnavailable("Sign-in is temporarily unavailable.") from None
    if not reservation.allowed:
        raise Throttled(wait=reservation.retry_after)
    user = authenticate(request, username=email.strip(), password=password)
    if user is None or not user.is_active:
        raise exceptions.AuthenticationFailed(INVALID_CREDENTIALS, code="no_active_account")
    login_limits.release_attempt(reservation)
    return issue_token_pair(user)


def _refresh_token(raw: str) -> UserRefreshToken:
    try:
        return UserRefreshToken(raw)
    except TokenError:
        raise exceptions.AuthenticationFailed(INVALID_REFRESH, code="token_not_valid") from None


def _blacklist_once(token: UserRefreshToken) -> None:
    """Blacklist ``token``; 401 when it already was (also when two requests race with it)."""
    outstanding = OutstandingToken.objects.filter(jti=token[jwt_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise exceptions.AuthenticationFailed(INVALID_REFRESH, code="token_not_valid")
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise exceptions.AuthenticationFailed(INVALID_REFRESH, code="token_not_valid") from None


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate: the old refresh token is blacklisted, a new pair carries the user's current claims."""
    token = _refresh_token(refresh)
    user = User.objects.filter(id=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise exceptions.AuthenticationFailed(INVALID_REFRESH, code="token_not_valid")
    _blacklist_once(token)
    return issue_token_pair(user)


@transaction.atomic
def token_logout(*, refresh: str) -> None:
    _blacklist_once(_refresh_token(refresh))
