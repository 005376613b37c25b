"""Reads of showtimes."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from movie_service.cinemas.layouts import layout_categories
from movie_service.cinemas.models import Cinema, Screen

from .models import Showtime


def showtime_queryset() -> QuerySet[Showtime]:
    return Showtime.objects.select_related("movie", "screen", "screen__cinema")


def showtime_list(
    *,
    movie_id: uuid.UUID | None = None,
    cinema_id: uuid.UUID | None = None,
    date: dt.date | None = None,
    status: str | None = None,
) -> QuerySet[Showtime]:
    showtimes = showtime_queryset()
    if movie_id:
        showtimes = showtimes.filter(movie_id=movie_id)
    if cinema_id:
        showtimes = showtimes.filter(screen__cinema_id=cinema_id)
    if status:
        showtimes = showtimes.filter(status=status)
    if date:
        showtimes = showtimes.filter(local_date_q(date, cinema_id=cinema_id))
    return showtimes.order_by("starts_at", "id")


def local_date_q(date: dt.date, *, cinema_id: uuid.UUID | None = None) -> Q:
    """Showtimes starting on ``date`` in their own cinema's time zone.

    A day is a different UTC interval in each time zone, so the condition is one interval per
    time zone in use (a handful), each restricted to the cinemas of that zone.
    """
    cinemas = Cinema.objects.all()
    if cinema_id:
        cinemas = cinemas.filter(pk=cinema_id)
    condition = Q(pk__in=[])
    for name in sorted(set(cinemas.values_list("timezone", flat=True))):
        zone = zoneinfo.ZoneInfo(name)
        start = dt.datetime.combine(date, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        condition |= Q(screen__cinema__timezone=name, starts_at__gte=start, starts_at__lt=end)
    return condition


def categories_without_price(*, screen: Screen, layout: list[dict[str, Any]]) -> list[str]:
    """Seat categories of ``layout`` that some upcoming showtime on ``screen`` has no price for."""
    categories = layout_categories(layout)
    upcoming = Showtime.objects.filter(
        screen=screen, status=Showtime.Status.SCHEDULED, starts_at__gt=timezone.now()
    ).values_list("prices", flat=True)
    return sorted({category for prices in upcoming for category in categories - set(prices)})
