"""Reads of the notification service."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from .models import Notification


def notification_list_for_user(*, user_id: uuid.UUID) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user_id).only(
        "id", "kind", "subject", "status", "created_at", "sent_at", "read_at"
    )


def notification_get_for_user(*, user_id: uuid.UUID, notification_id: str) -> Notification | None:
    """The caller's notification, or ``None`` (unknown, malformed id, or another user's)."""
    try:
        parsed = uuid.UUID(str(notification_id))
    except ValueError:
        return None
    return Notification.objects.filter(user_id=user_id, id=parsed).first()
