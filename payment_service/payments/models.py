"""Payments, received provider webhooks, and the simulated provider's ledger."""

from __future__ import annotations

import uuid

from django.db import models

from .money import to_decimal_string


class Payment(models.Model):
    """One payment per booking: charged once, refunded at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking_id = models.UUIDField(unique=True)
    user_id = models.UUIDField()
    amount_minor = models.PositiveBigIntegerField(default=0, help_text="Integer minor units (cents, yen).")
    currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO 4217 code.")
    payment_method = models.CharField(max_length=100, blank=True, default="", help_text="The provider's token.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=100, blank=True, default="")
    provider_charge_id = models.CharField(max_length=100, blank=True, default="")
    provider_refund_id = models.CharField(max_length=100, blank=True, default="")
    # Set when the booking is cancelled: refund now if paid, or as soon as an in-flight charge succeeds.
    # A cancel that arrives before the booking's created event leaves a placeholder payment (failed,
    # "booking_cancelled", no amount yet) so the late created event is never charged.
    refund_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0, help_text="Charge attempts made at the provider.")
    correlation_id = models.UUIDField(null=True, blank=True, help_text="The booking saga's correlation id.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="payment_user_created_idx"),
            models.Index(fields=["status", "updated_at"], name="payment_status_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "succeeded", "failed", "refunded"]),
                name="payment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} for booking {self.booking_id} ({self.status})"

    @property
    def amount(self) -> str:
        return to_decimal_string(self.amount_minor, self.currency)

    @property
    def charge_idempotency_key(self) -> str:
        return f"charge-{self.id}"

    @property
    def refund_idempotency_key(self) -> str:
        return f"refund-{self.id}"


class ProviderWebhookEvent(models.Model):
    """A provider callback accepted once: the unique provider event id makes replays no-ops."""

    provider_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    outcome = models.CharField(max_length=50, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.provider_event_id}"


# The simulated provider's own state. It stands for the provider's remote database: it lives in
# the payment database for convenience but is written in its own transactions, never in ours.


class SimulatedCharge(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"

    id = models.CharField(primary_key=True, max_length=40)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices)
    failure_code = models.CharField(max_length=50, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class SimulatedRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    idempotency_key = models.CharField(max_length=255, unique=True)
    charge_id = models.CharField(max_length=40, db_index=True)
    amount_minor = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.id} for {self.charge_id}"
