"""Celery tasks of the auth service: thin, idempotent, named."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="auth.accounts.flush_expired_tokens", ignore_result=True, time_limit=300, soft_time_limit=280)
def flush_expired_tokens() -> int:
    """Run by beat daily: outstanding refresh tokens past their expiry (and their blacklist rows) go."""
    return services.refresh_tokens_flush_expired()
