"""Cinemas and their screens (auditoriums), each screen with its seat layout."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from .layouts import flatten_seats, validate_layout


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (such as Europe/London).")


class Cinema(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    city = models.CharField(max_length=100, db_index=True)
    address = models.CharField(max_length=300, blank=True, default="")
    timezone = models.CharField(max_length=64, validators=[validate_timezone], help_text="IANA name: Europe/London")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Screen(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cinema = models.ForeignKey(Cinema, on_delete=models.PROTECT, related_name="screens")
    name = models.CharField(max_length=100)
    layout = models.JSONField(help_text="Rows of seats; see cinemas/layouts.py.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cinema__name", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["cinema", "name"], name="screen_name_unique_per_cinema")]

    def __str__(self) -> str:
        return f"{self.name}, {self.cinema.name}" if self.cinema_id else self.name

    def clean(self) -> None:
        try:
            self.layout = validate_layout(self.layout)
        except ValidationError as error:
            raise ValidationError({"layout": error.messages}) from None

    @property
    def seats(self) -> list[dict[str, Any]]:
        return flatten_seats(self.layout)

    @property
    def capacity(self) -> int:
        return len(self.seats)
