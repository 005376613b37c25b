"""Accounts: the users of the whole platform. Email is the login, unique case-insensitively."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from common.events import types
from common.events.envelope import field_is_valid


def validate_local_part_length(email: str) -> None:
    # Also named by migration 0002.
    if len(email.rpartition("@")[0]) > 64:
        raise ValidationError("The part before the @ is at most 64 characters.", code="invalid")


def validate_publishable_email(email: str) -> None:
    """What the user events' schema (``idn-email``) refuses of what Django's check lets through,
    refused here with a 400 on ``email``.

    Django accepts mailboxes longer than RFC 5321's 64 characters, which no server delivers to,
    and some domains the schema refuses (``bob@i❤.ws``, ``bob@ab--cd.com``): publishing the
    registration then failed, a 500 with no account made. What Django refuses it reports itself.
    """
    try:
        validate_email(email)
    except ValidationError:
        return
    validate_local_part_length(email)
    if not field_is_valid(types.USER_REGISTERED, "email", email):
        raise ValidationError("Enter a valid email address.", code="invalid")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Django's ModelBackend and admin login: "Alice@Example.com" finds alice@example.com.
        # Compared as the unique constraint and the sign-in limits' account key do (lower case):
        # iexact is UPPER() on PostgreSQL, where "alice" spelt with a dotless i is alice, and each
        # spelling had a failure counter of its own (2^n for n letters i or s).
        return self.alias(email_lower=Lower("email")).get(email_lower=str(username).lower())

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # unique=True is what Django requires of a USERNAME_FIELD; the Lower() constraint below is the real
    # rule (no two accounts differing only in case).
    email = models.EmailField(max_length=254, unique=True, validators=[validate_publishable_email])
    full_name = models.CharField(max_length=200, blank=True)
    is_staff = models.BooleanField(default=False, help_text="May administer the platform (all admins, staff APIs).")
    is_active = models.BooleanField(default=True, help_text="Unset to deactivate: sign-in and refresh stop working.")
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["-date_joined"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this email already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email
