"""Celery tasks of the booking service: thin, idempotent, named."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="booking.bookings.expire_holds", ignore_result=True, time_limit=60, soft_time_limit=50)
def expire_holds() -> int:
    """Run by beat every few seconds: pending holds past ``expires_at`` become expired."""
    return services.bookings_expire_overdue()
