"""Thin Celery tasks: ids in, a service does the work; retries and their backoff live here."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

logger = logging.getLogger(__name__)

# Our own database went away: the row lock and the attempt rolled back with the transaction, so
# the task can simply run again. (Had the message already left when the commit failed, it goes
# once more: delivery is at least once, as with the stale sweep.)
DATABASE_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    name="notification.notifications.send",
    max_retries=None,  # bounded by the notification's own attempt count (SEND_MAX_RETRIES)
    soft_time_limit=60,
    time_limit=90,
)
def send_notification(self, notification_id: str, database_retries: int = 0) -> str:
    try:
        delivery = services.notification_deliver(notification_id=notification_id)
    except DATABASE_ERRORS as exc:
        conf = services.notification_settings()
        if database_retries >= conf["DATABASE_MAX_RETRIES"]:
            # Not lost: still pending, so resend_stale enqueues it again (STALE_PENDING_MINUTES).
            logger.warning("notification %s: the database stayed unavailable; left to resend_stale", notification_id)
            return "database_unavailable"
        countdown = min(conf["DATABASE_RETRY_BACKOFF_SECONDS"] * 2**database_retries, 60)
        logger.warning("notification %s: database unavailable (%s); retrying in %ss", notification_id, exc, countdown)
        raise self.retry(
            exc=exc,
            countdown=countdown,
            kwargs={**self.request.kwargs, "database_retries": database_retries + 1},
        ) from exc
    if delivery.outcome is services.DeliveryOutcome.RETRY:
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(name="notification.notifications.send_reminders", soft_time_limit=100, time_limit=120)
def send_reminders() -> int:
    return services.reminders_create_due()


@shared_task(name="notification.notifications.resend_stale", soft_time_limit=100, time_limit=120)
def resend_stale() -> int:
    return services.notifications_enqueue_stale()
