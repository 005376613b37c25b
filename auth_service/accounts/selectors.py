from __future__ import annotations

import uuid

from .models import User


def user_get_active(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(id=user_id, is_active=True).first()


def user_email_taken(*, email: str, exclude_id: uuid.UUID | None = None) -> bool:
    users = User.objects.filter(email__iexact=email.strip())
    if exclude_id is not None:
        users = users.exclude(id=exclude_id)
    return users.exists()
