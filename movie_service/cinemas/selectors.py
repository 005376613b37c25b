from __future__ import annotations

import uuid

from django.db.models import QuerySet

from .models import Cinema, Screen


def cinema_list(*, city: str | None = None) -> QuerySet[Cinema]:
    cinemas = Cinema.objects.prefetch_related("screens")
    if city:
        cinemas = cinemas.filter(city__iexact=city)
    return cinemas.order_by("name", "id")


def screen_list(*, cinema_id: uuid.UUID | None = None) -> QuerySet[Screen]:
    screens = Screen.objects.all()
    if cinema_id:
        screens = screens.filter(cinema_id=cinema_id)
    return screens.order_by("cinema__name", "name", "id")
