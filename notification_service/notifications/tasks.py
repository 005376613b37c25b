"""Thin Celery tasks: ids in, a service does the work; retries and their backoff live here."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    bind=True,
    name="notification.notifications.send",
    max_retries=None,  # bounded by the notification's own attempt count (SEND_MAX_RETRIES)
    soft_time_limit=60,
    time_limit=90,
)
def send_notification(self, notification_id: str) -> str:
    delivery = services.notification_deliver(notification_id=notification_id)
    if delivery.outcome is services.DeliveryOutcome.RETRY:
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(name="notification.notifications.send_reminders", soft_time_limit=100, time_limit=120)
def send_reminders() -> int:
    return services.reminders_create_due()


@shared_task(name="notification.notifications.resend_stale", soft_time_limit=100, time_limit=120)
def resend_stale() -> int:
    return services.notifications_enqueue_stale()
