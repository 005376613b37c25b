"""Bookings, their seats and timeline, and the local replica of the movie service's showtimes."""

from __future__ import annotations

import re
import uuid

from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

_DIGIT_RUNS = re.compile(r"(\d+)")


def seat_sort_key(label: str) -> tuple:
    """Natural order (A2 before A10); also the order seats are inserted in, so locks never cross.

    Split on a capturing group, the digit runs are the odd parts. They, not ``str.isdigit()``,
    decide what is a number: ``isdigit`` also accepts '²', which ``int`` refuses.
    """
    return tuple(
        (0, int(part), "") if position % 2 else (1, 0, part)
        for position, part in enumerate(_DIGIT_RUNS.split(label))
        if part
    )


class ShowtimeReplica(models.Model):
    """The newest snapshot of a showtime from ``movies.showtime.published`` (never edited here).

    ``version`` 0 with ``has_snapshot`` False is a placeholder remembering a cancellation that
    arrived before any snapshot, so a late older snapshot cannot resurrect the showtime.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, help_text="The movie service's showtime id.")
    version = models.PositiveIntegerField(default=0)
    has_snapshot = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    movie_id = models.UUIDField(null=True, blank=True)
    movie_title = models.CharField(max_length=500, blank=True, default="")
    cinema_id = models.UUIDField(null=True, blank=True)
    cinema_name = models.CharField(max_length=500, blank=True, default="")
    cinema_timezone = models.CharField(max_length=64, blank=True, default="")
    screen_name = models.CharField(max_length=500, blank=True, default="")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    prices = models.JSONField(default=dict, blank=True, help_text='{"standard": "12.50", …}')
    seats = models.JSONField(default=list, blank=True, help_text='[{"label": "A1", "category": "standard"}, …]')
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "showtime (replica)"
        verbose_name_plural = "showtimes (replica)"

    def __str__(self) -> str:
        return (
            f"{self.movie_title or self.id} @ {self.cinema_name} {self.starts_at:%Y-%m-%d %H:%M}"
            if self.starts_at
            else str(self.id)
        )

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def seat_categories(self) -> dict[str, str]:
        return {seat["label"]: seat["category"] for seat in self.seats}


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    LIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=12, unique=True, help_text="Short human reference, e.g. BK7F3Q9A2C.")
    user_id = models.UUIDField(db_index=True)
    user_email = models.EmailField(blank=True, default="")
    showtime = models.ForeignKey(ShowtimeReplica, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment_method = models.CharField(max_length=100)
    total_amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    expires_at = models.DateTimeField()
    # What the booking shows, copied at creation so it renders without the movie service.
    movie_title = models.CharField(max_length=500)
    cinema_name = models.CharField(max_length=500)
    cinema_timezone = models.CharField(max_length=64, blank=True, default="")
    screen_name = models.CharField(max_length=500, blank=True, default="")
    starts_at = models.DateTimeField()
    payment_id = models.UUIDField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=30, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "showtime"],
                condition=Q(status="pending"),
                name="booking_one_pending_per_user_showtime",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="booking_status_expires_idx"),
            models.Index(fields=["user_id", "-created_at"], name="booking_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @cached_property
    def seat_labels(self) -> list[str]:
        """Labels in seat order (prefetch ``booking_seats`` for lists; the create service sets it)."""
        return sorted((seat.label for seat in self.booking_seats.all()), key=seat_sort_key)


class BookingSeat(models.Model):
    """One seat of one booking. While ``is_live`` the database lets no other booking have it."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="booking_seats")
    showtime = models.ForeignKey(ShowtimeReplica, on_delete=models.PROTECT, related_name="booking_seats")
    label = models.CharField(max_length=8)
    category = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    is_live = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["showtime", "label"],
                condition=Q(is_live=True),
                name="booking_seat_one_live_per_showtime_label",
            ),
            models.UniqueConstraint(fields=["booking", "label"], name="booking_seat_unique_per_booking"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({'live' if self.is_live else 'released'})"


class BookingTransition(models.Model):
    """One entry of a booking's timeline: a state change, or a fact recorded without one."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10)
    cause = models.CharField(max_length=50, help_text="created, payment_succeeded, user_cancelled, …")
    event_id = models.UUIDField(null=True, blank=True, help_text="The event that caused it, if any.")
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "timeline entry"
        verbose_name_plural = "timeline"

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} ({self.cause})"


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` a user sent with ``POST /api/bookings/``, and the booking it made."""

    user_id = models.UUIDField()
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body.")
    # Written first in the creating transaction (so concurrent duplicates wait on it), set just after.
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="idempotency_keys", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
