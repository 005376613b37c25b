"""Every write of showtimes. Each change that matters to bookings publishes exactly one event."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from common.api.exceptions import Conflict
from common.money import currency_exponent
from movie_service.caching import invalidate_on_commit
from movie_service.cinemas.layouts import layout_categories
from movie_service.cinemas.models import Screen
from movie_service.movies.models import Movie

from .events import publish_showtime, publish_showtime_cancelled
from .models import NO_OVERLAP_CONSTRAINT, Showtime

DEFAULT_CANCEL_REASON = "Cancelled by the cinema."
OVERLAP_MESSAGE = "This showtime overlaps another scheduled showtime on the same screen ({other})."
# Fields of a showtime a staff member may change; each of them matters to bookings.
UPDATABLE_FIELDS = ("movie", "screen", "starts_at", "prices", "currency")
CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def cleaning_buffer() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SHOWTIME_CLEANING_BUFFER_MINUTES)


def showtime_end(*, movie: Movie, starts_at: dt.datetime) -> dt.datetime:
    return starts_at + dt.timedelta(minutes=movie.duration_minutes) + cleaning_buffer()


def normalise_prices(prices: Any, *, screen: Screen, currency: str) -> dict[str, str]:
    """``{category: "12.50"}`` for exactly the seat categories of ``screen``, in amounts the
    payment service can charge in ``currency`` (whole yen, at most two decimals of a euro)."""
    if not CURRENCY_CODE.fullmatch(currency or ""):
        # The API's serializer checks it too; the admin's form did not, and the event's schema
        # then refused "gbp" with a 500.
        raise ValidationError({"currency": ["An ISO 4217 code such as GBP."]})
    if not isinstance(prices, dict) or not prices:
        raise ValidationError({"prices": ["Give a price for each seat category of the screen."]})
    normalised: dict[str, str] = {}
    decimals = min(2, currency_exponent(currency))
    for category, amount in prices.items():
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise ValidationError({"prices": [f"{category}: {amount!r} is not a decimal amount."]}) from None
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")) or value >= 1_000_000:
            raise ValidationError({"prices": [f"{category}: amounts are non-negative with at most two decimals."]})
        if value != value.quantize(Decimal(1).scaleb(-decimals)):
            raise ValidationError({"prices": [f"{category}: {currency} amounts have at most {decimals} decimals."]})
        normalised[str(category)] = f"{value.quantize(Decimal('0.01'))}"
    needed = layout_categories(screen.layout)
    missing = sorted(needed - set(normalised))
    extra = sorted(set(normalised) - needed)
    if missing:
        raise ValidationError({"prices": [f"Missing a price for: {', '.join(missing)}."]})
    if extra:
        raise ValidationError({"prices": [f"The screen has no seats of category: {', '.join(extra)}."]})
    return dict(sorted(normalised.items()))


def check_no_overlap(*, screen: Screen, starts_at: dt.datetime, ends_at: dt.datetime, exclude_id=None) -> None:
    """Under the lock on the screen row: the portable guard (PostgreSQL also has the constraint)."""
    clashes = Showtime.objects.filter(
        screen=screen, status=Showtime.Status.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("movie")
    if exclude_id is not None:
        clashes = clashes.exclude(pk=exclude_id)
    clash = clashes.order_by("starts_at").first()
    if clash is not None:
        other = f"{clash.movie.title}, {clash.starts_at:%Y-%m-%d %H:%M} to {clash.ends_at:%H:%M} UTC"
        raise ValidationError({"starts_at": [OVERLAP_MESSAGE.format(other=other)]})


def _lock_screen(screen: Screen) -> Screen:
    return Screen.objects.select_for_update().select_related("cinema").get(pk=screen.pk)


def _save(showtime: Showtime, **kwargs) -> None:
    try:
        with transaction.atomic():
            showtime.save(**kwargs)
    except IntegrityError as error:
        if NO_OVERLAP_CONSTRAINT in str(error):
            raise ValidationError({"starts_at": [OVERLAP_MESSAGE.format(other="refused by the database")]}) from None
        raise


# The end of a showtime (the longest film and the cleaning buffer later) must still be a date.
LATEST_START = dt.datetime(9999, 12, 29, tzinfo=dt.UTC)


def require_start_ahead(starts_at: dt.datetime) -> None:
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": ["A showtime must start in the future."]})
    if starts_at >= LATEST_START:
        raise ValidationError({"starts_at": [f"A showtime must start before {LATEST_START:%Y-%m-%d}."]})


@transaction.atomic
def showtime_create(
    *, movie: Movie, screen: Screen, starts_at: dt.datetime, prices: dict[str, Any], currency: str
) -> Showtime:
    require_start_ahead(starts_at)
    screen = _lock_screen(screen)
    ends_at = showtime_end(movie=movie, starts_at=starts_at)
    showtime = Showtime(
        movie=movie,
        screen=screen,
        starts_at=starts_at,
        ends_at=ends_at,
        prices=normalise_prices(prices, screen=screen, currency=currency),
        currency=currency,
        status=Showtime.Status.SCHEDULED,
        version=1,
    )
    check_no_overlap(screen=screen, starts_at=starts_at, ends_at=ends_at)
    _save(showtime, force_insert=True)
    publish_showtime(showtime)
    invalidate_on_commit()
    return showtime


def _lock_showtime(showtime: Showtime) -> Showtime:
    return Showtime.objects.select_for_update().select_related("movie", "screen__cinema").get(pk=showtime.pk)


@transaction.atomic
def showtime_update(*, showtime: Showtime, data: dict[str, Any]) -> Showtime:
    """Change some of ``UPDATABLE_FIELDS``; a real change bumps the version and republishes."""
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    showtime = _lock_showtime(showtime)
    if not showtime.is_scheduled:
        raise Conflict("A cancelled showtime cannot be changed.")
    if showtime.starts_at <= timezone.now():
        raise Conflict("This showtime has already started; it can no longer be changed.")
    movie = data.get("movie", showtime.movie)
    screen = data.get("screen", showtime.screen)
    starts_at = data.get("starts_at", showtime.starts_at)
    if "starts_at" in data and starts_at != showtime.starts_at:
        require_start_ahead(starts_at)
    screen = _lock_screen(screen)
    currency = data.get("currency", showtime.currency)
    if "prices" in data:
        prices = normalise_prices(data["prices"], screen=screen, currency=currency)
    else:  # the prices kept, for the categories the (maybe new) screen has, and the (maybe new) currency
        needed = layout_categories(screen.layout)
        kept = {k: v for k, v in showtime.prices.items() if k in needed}
        prices = normalise_prices(kept, screen=screen, currency=currency)
    changes = {
        "movie": movie,
        "screen": screen,
        "starts_at": starts_at,
        "ends_at": showtime_end(movie=movie, starts_at=starts_at),
        "prices": prices,
        "currency": currency,
    }
    before = {
        "movie": showtime.movie_id,
        "screen": showtime.screen_id,
        "starts_at": showtime.starts_at,
        "ends_at": showtime.ends_at,
        "prices": showtime.prices,
        "currency": showtime.currency,
    }
    after = {**changes, "movie": movie.pk, "screen": screen.pk}
    if after == before:
        return showtime
    check_no_overlap(screen=screen, starts_at=starts_at, ends_at=changes["ends_at"], exclude_id=showtime.pk)
    for field, value in changes.items():
        setattr(showtime, field, value)
    showtime.version += 1
    _save(showtime)
    publish_showtime(showtime)
    invalidate_on_commit()
    return showtime


@transaction.atomic
def showtime_cancel(*, showtime: Showtime, reason: str = "") -> Showtime:
    showtime = _lock_showtime(showtime)
    if not showtime.is_scheduled:
        raise Conflict("This showtime is already cancelled.")
    showtime.status = Showtime.Status.CANCELLED
    showtime.cancel_reason = reason.strip() or DEFAULT_CANCEL_REASON
    showtime.version += 1
    showtime.save(update_fields=["status", "cancel_reason", "version", "updated_at"])
    publish_showtime_cancelled(showtime)
    invalidate_on_commit()
    return showtime


@transaction.atomic
def showtime_delete(*, showtime: Showtime) -> None:
    """Only a cancelled showtime may be deleted: bookings have heard of its cancellation."""
    showtime = _lock_showtime(showtime)
    if showtime.is_scheduled:
        raise Conflict("Cancel the showtime first: a scheduled showtime may have bookings.")
    showtime.delete()
    invalidate_on_commit()


def upcoming_showtimes(queryset: QuerySet[Showtime] | None = None) -> QuerySet[Showtime]:
    showtimes = Showtime.objects.all() if queryset is None else queryset
    return showtimes.filter(status=Showtime.Status.SCHEDULED, starts_at__gt=timezone.now())


def _require_end_fits(showtime: Showtime, ends_at: dt.datetime) -> None:
    try:
        check_no_overlap(screen=showtime.screen, starts_at=showtime.starts_at, ends_at=ends_at, exclude_id=showtime.pk)
    except ValidationError:
        raise ValidationError(
            {
                "duration_minutes": [
                    f"The longer film would overlap the next showtime on {showtime.screen} after "
                    f"{showtime.starts_at:%Y-%m-%d %H:%M} UTC; move that showtime first."
                ]
            }
        ) from None


def require_duration_fits(*, movie: Movie, duration_minutes: int) -> None:
    """Before a form saves a new length: the check ``showtimes_republish`` makes under its locks.

    The admin's form shows it as a field error; raised from inside the save it was a 500.
    """
    length = dt.timedelta(minutes=duration_minutes) + cleaning_buffer()
    for showtime in upcoming_showtimes(movie.showtimes.all()).select_related("screen").order_by("starts_at"):
        _require_end_fits(showtime, showtime.starts_at + length)


@transaction.atomic
def showtimes_republish(*, showtimes: QuerySet[Showtime], recompute_ends: bool = False) -> int:
    """After a change to a movie, cinema or screen: one new version and event per upcoming showtime.

    ``recompute_ends`` after a change of a movie's duration; a new end that would overlap the
    next showtime on the screen refuses the whole change (``ValidationError`` on
    ``duration_minutes``).
    """
    locked = list(
        upcoming_showtimes(showtimes)
        .select_for_update()
        .select_related("movie", "screen__cinema")
        .order_by("screen_id", "starts_at")
    )
    for showtime in locked:
        fields = ["version", "updated_at"]
        if recompute_ends:
            showtime.ends_at = showtime_end(movie=showtime.movie, starts_at=showtime.starts_at)
            _require_end_fits(showtime, showtime.ends_at)
            fields.append("ends_at")
        showtime.version += 1
        try:
            with transaction.atomic():
                showtime.save(update_fields=fields)
        except IntegrityError as error:
            if NO_OVERLAP_CONSTRAINT in str(error):
                raise ValidationError({"duration_minutes": ["The new duration makes showtimes overlap."]}) from None
            raise
        publish_showtime(showtime)
    return len(locked)
