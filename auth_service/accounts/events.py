"""What the accounts app publishes. It consumes no events."""

from __future__ import annotations

from common.events import types
from common.events.publisher import publish

from .models import User


def user_payload(user: User) -> dict:
    return {"user_id": str(user.id), "email": user.email, "full_name": user.full_name}


def publish_user_registered(user: User) -> None:
    publish(types.USER_REGISTERED, user_payload(user), aggregate_id=user.id)


def publish_user_updated(user: User) -> None:
    publish(types.USER_UPDATED, {**user_payload(user), "is_active": user.is_active}, aggregate_id=user.id)
