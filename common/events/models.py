"""Outbox (events this service has to send) and inbox (events it has applied)."""

from __future__ import annotations

import uuid

from django.db import models


class OutboxEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # Sending order: per aggregate, rows go out in the order of their position.
    position = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100, db_index=True)
    aggregate_id = models.CharField(max_length=64, db_index=True)
    envelope = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx")]
        verbose_name = "outbox event"

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.status})"


class InboxEvent(models.Model):
    """One row per event applied here, written in the handler's own transaction."""

    id = models.UUIDField(primary_key=True, editable=False, help_text="The event id.")
    type = models.CharField(max_length=100, db_index=True)
    correlation_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbox event"

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
