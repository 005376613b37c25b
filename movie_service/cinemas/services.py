"""Every write of cinemas and screens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from common.api.exceptions import Conflict
from movie_service.caching import invalidate_on_commit

from .models import Cinema, Screen

# Fields in the showtime snapshot: a change republishes the upcoming showtimes.
CINEMA_SHOWTIME_FIELDS = ("name", "city", "timezone")
SCREEN_SHOWTIME_FIELDS = ("name", "layout", "cinema_id")


@transaction.atomic
def cinema_create(*, name: str, city: str, timezone: str, address: str = "") -> Cinema:
    cinema = Cinema(name=name, city=city, timezone=timezone, address=address)
    cinema.full_clean()
    cinema.save()
    invalidate_on_commit()
    return cinema


@transaction.atomic
def cinema_update(*, cinema: Cinema, data: dict[str, Any]) -> Cinema:
    from movie_service.showtimes.models import Showtime
    from movie_service.showtimes.services import showtimes_republish

    cinema = Cinema.objects.select_for_update().get(pk=cinema.pk)
    before = {field: getattr(cinema, field) for field in CINEMA_SHOWTIME_FIELDS}
    for field, value in data.items():
        setattr(cinema, field, value)
    cinema.full_clean()
    cinema.save()
    if any(getattr(cinema, field) != before[field] for field in CINEMA_SHOWTIME_FIELDS):
        showtimes_republish(showtimes=Showtime.objects.filter(screen__cinema=cinema))
    invalidate_on_commit()
    return cinema


@transaction.atomic
def cinema_delete(*, cinema: Cinema) -> None:
    try:
        cinema.delete()
    except ProtectedError:
        raise Conflict("This cinema has screens; delete them first.") from None
    invalidate_on_commit()


@transaction.atomic
def screen_create(*, cinema: Cinema, name: str, layout: list[dict[str, Any]]) -> Screen:
    screen = Screen(cinema=cinema, name=name, layout=layout)
    screen.full_clean()
    screen.save()
    invalidate_on_commit()
    return screen


@transaction.atomic
def screen_update(*, screen: Screen, data: dict[str, Any]) -> Screen:
    """Rename, move or re-lay a screen; its upcoming showtimes are republished.

    A new layout must still hold a priced category for every seat: a category the showtimes have
    no price for is refused (``layout``), so no seat is ever unpriced.
    """
    from django.core.exceptions import ValidationError

    from movie_service.showtimes.models import Showtime
    from movie_service.showtimes.selectors import categories_without_price
    from movie_service.showtimes.services import showtimes_republish

    screen = Screen.objects.select_for_update().get(pk=screen.pk)
    before = {field: getattr(screen, field) for field in SCREEN_SHOWTIME_FIELDS}
    for field, value in data.items():
        setattr(screen, field, value)
    screen.full_clean()
    if screen.layout != before["layout"]:
        missing = categories_without_price(screen=screen, layout=screen.layout)
        if missing:
            raise ValidationError(
                {"layout": [f"Upcoming showtimes have no price for: {', '.join(missing)}; change them first."]}
            )
    screen.save()
    if any(getattr(screen, field) != before[field] for field in SCREEN_SHOWTIME_FIELDS):
        showtimes_republish(showtimes=Showtime.objects.filter(screen=screen))
    invalidate_on_commit()
    return screen


@transaction.atomic
def screen_delete(*, screen: Screen) -> None:
    try:
        screen.delete()
    except ProtectedError:
        raise Conflict("This screen has showtimes; it cannot be deleted.") from None
    invalidate_on_commit()
