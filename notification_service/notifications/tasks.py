"""Thin Celery tasks: ids in, a service does the work; retries and their backoff live here."""

from __future__ import annotations

import logging

from celery import shared_task

from common.celery_app import DATABASE_ERRORS, retry_after_database_error

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="notification.notifications.send",
    max_retries=None,  # bounded by the notification's own attempt count (SEND_MAX_RETRIES)
    retries_database_errors=True,
    soft_time_limit=60,
    time_limit=90,
)
def send_notification(self, notification_id: str, database_retries: int = 0) -> str:
    try:
        delivery = services.notification_deliver(notification_id=notification_id)
    except DATABASE_ERRORS as exc:
        # The row lock and the attempt rolled back with the transaction, so the task can simply
        # run again. (Had the message already left when the commit failed, it goes once more:
        # delivery is at least once, as with the stale sweep.) Given up, it is still pending.
        conf = services.notification_settings()
        retry = retry_after_database_error(
            self,
            exc,
            subject=f"notification {notification_id}",
            database_retries=database_retries,
            max_retries=conf["DATABASE_MAX_RETRIES"],
            countdown=min(conf["DATABASE_RETRY_BACKOFF_SECONDS"] * 2**database_retries, 60),
            left_to="resend_stale",
        )
        if retry is None:
            return "database_unavailable"
        raise retry from exc
    if delivery.outcome is services.DeliveryOutcome.RETRY:
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(name="notification.notifications.send_reminders", soft_time_limit=100, time_limit=120)
def send_reminders() -> int:
    return services.reminders_create_due()


@shared_task(name="notification.notifications.resend_stale", soft_time_limit=100, time_limit=120)
def resend_stale() -> int:
    return services.notifications_enqueue_stale()
