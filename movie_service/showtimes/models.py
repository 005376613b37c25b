"""Showtimes: one movie on one screen at one time, with a price per seat category."""

from __future__ import annotations

import uuid

from django.db import models

from movie_service.cinemas.models import Screen
from movie_service.movies.models import Movie

# Created by migration 0002 on PostgreSQL only (see there): no two scheduled showtimes on one
# screen may overlap. The service checks first and turns a violation into a 400.
NO_OVERLAP_CONSTRAINT = "showtime_no_overlap_per_screen"


class Showtime(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    movie = models.ForeignKey(Movie, on_delete=models.PROTECT, related_name="showtimes")
    screen = models.ForeignKey(Screen, on_delete=models.PROTECT, related_name="showtimes")
    starts_at = models.DateTimeField(db_index=True)
    # starts_at + the movie's duration + the cleaning buffer, computed by the service.
    ends_at = models.DateTimeField()
    # {"standard": "12.50", "premium": "16.00"}: decimal strings, one per seat category of the screen.
    prices = models.JSONField()
    currency = models.CharField(max_length=3, default="GBP")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    # +1 on every change a booking cares about; consumers keep the highest version they saw.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="showtime_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["scheduled", "cancelled"]), name="showtime_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["screen", "starts_at"], name="showtime_screen_start_idx")]

    def __str__(self) -> str:
        return f"{self.movie} @ {self.screen} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED
