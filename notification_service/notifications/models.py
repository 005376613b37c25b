"""Contacts and tickets (replicas fed by other services' events) and the notifications sent."""

from __future__ import annotations

import uuid

from django.db import models


class Contact(models.Model):
    """Who a user is, as the auth service last told us (``auth.user.registered/updated``)."""

    user_id = models.UUIDField(unique=True)
    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=500, blank=True, default="")
    # ``occurred_at`` of the event this row reflects: an older event never overwrites it.
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class Ticket(models.Model):
    """What the reminder (and later e-mails about the booking) need, from ``bookings.booking.confirmed``.

    A row may also be created by a cancellation that arrives before the confirmation; the
    details are then filled in when the confirmation arrives.
    """

    booking_id = models.UUIDField(unique=True)
    user_id = models.UUIDField(db_index=True)
    reference = models.CharField(max_length=64, blank=True, default="")
    movie_title = models.CharField(max_length=500, blank=True, default="")
    cinema_name = models.CharField(max_length=500, blank=True, default="")
    screen_name = models.CharField(max_length=500, blank=True, default="")
    cinema_timezone = models.CharField(max_length=64, blank=True, default="")
    starts_at = models.DateTimeField(null=True, blank=True)
    seats = models.JSONField(default=list, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    confirmed_event_id = models.UUIDField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminder_created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at", "reminder_created_at"], name="ticket_reminder_due_idx")]

    def __str__(self) -> str:
        return f"{self.reference or self.booking_id} {self.movie_title}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_event_id is not None


class Notification(models.Model):
    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome"
        BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed (ticket)"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled or expired"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        REFUND_COMPLETED = "refund_completed", "Refund completed"
        SHOWTIME_REMINDER = "showtime_reminder", "Showtime reminder"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The address it goes (or went) to; empty while the user's contact has not arrived yet.
    recipient = models.EmailField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    # What the templates are rendered from (again, once the contact is known).
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    event_id = models.UUIDField(help_text="The event that caused it (for a reminder: the confirmation).")
    # The business fact it reports (e.g. "payment_failed:<payment id>"): the same fact arriving
    # again under another event id never makes a second notification.
    dedupe_key = models.CharField(max_length=100, unique=True)
    booking_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind"], name="notification_one_per_event_kind"),
        ]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="notification_user_recent_idx"),
            models.Index(fields=["status", "updated_at"], name="notification_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient or self.user_id} ({self.status})"

    @property
    def is_waiting_for_contact(self) -> bool:
        return self.status == self.Status.PENDING and not self.recipient
