"""Reads of the booking service that are more than a one-liner."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from rest_framework import exceptions

from common.db.selects import select_row, select_values

from .models import Booking, BookingSeat, BookingTransition, ShowtimeReplica


def booking_list(*, user_id: uuid.UUID) -> QuerySet[Booking]:
    """The caller's bookings, newest first, seats prefetched (two queries whatever the page size)."""
    return (
        Booking.objects.filter(user_id=user_id)
        .prefetch_related(Prefetch("booking_seats", queryset=BookingSeat.objects.only("id", "booking_id", "label")))
        .order_by("-created_at", "id")
    )


def booking_get(*, booking_id: uuid.UUID, user_id: uuid.UUID) -> Booking:
    """One of the caller's bookings with its timeline; another user's is "not found"."""
    booking = (
        booking_list(user_id=user_id)
        .prefetch_related(Prefetch("timeline", queryset=BookingTransition.objects.order_by("at", "id")))
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise exceptions.NotFound("Booking not found.")
    return booking


def showtime_for_hold(*, showtime_id: uuid.UUID, lock: bool = False) -> ShowtimeReplica | None:
    """The showtime a new hold is for, or None while the replica has no snapshot of it; with
    ``lock``, its row ``FOR KEY SHARE`` until the transaction ends (``services._hold``).

    Every booking POST runs this, and there the query compiler was most of its cost (about 0.35
    of 0.75 ms of CPU on the bench VM), hence ``select_row``.
    """
    showtime = select_row(ShowtimeReplica, showtime_id, key_share=lock)
    return showtime if showtime is not None and showtime.has_snapshot else None


def showtime_is_cancelled(*, showtime_id: uuid.UUID | str) -> bool:
    """Whether the replica knows the showtime as cancelled; asked before every confirmation."""
    return select_values(ShowtimeReplica, "status", id=showtime_id) == [ShowtimeReplica.Status.CANCELLED]


def showtime_seat_map(*, showtime_id: uuid.UUID) -> dict[str, Any]:
    """Every seat of the showtime with its price and status, from the replica and the live holds.

    Read straight from the database (no cache), so it is exact right after every hold, release and
    sale; a pending hold past ``expires_at`` counts as available even before the sweeper runs.
    """
    showtime = ShowtimeReplica.objects.filter(pk=showtime_id, has_snapshot=True).values_list("seats", "prices").first()
    if showtime is None:
        raise exceptions.NotFound("Showtime not found.")
    seats, prices = showtime
    now = timezone.now()
    taken: dict[str, str] = {}
    live = BookingSeat.objects.filter(showtime_id=showtime_id, is_live=True).values_list(
        "label", "booking__status", "booking__expires_at"
    )
    for label, status, expires_at in live:
        if status == Booking.Status.CONFIRMED:
            taken[label] = "sold"
        elif status == Booking.Status.PENDING and expires_at > now:
            taken[label] = "held"
    return {
        "showtime_id": str(showtime_id),
        "seats": [
            {
                "label": seat["label"],
                "category": seat["category"],
                "price": prices.get(seat["category"]),
                "status": taken.get(seat["label"], "available"),
            }
            for seat in seats
        ],
    }


def pending_grace() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "BOOKING_PENDING_GRACE_SECONDS", 60)))


def pending_overdue_count(*, now: dt.datetime | None = None) -> int:
    """Pending bookings past their hold plus the grace period: the sweeper is not keeping up."""
    now = now or timezone.now()
    return Booking.objects.filter(status=Booking.Status.PENDING, expires_at__lt=now - pending_grace()).count()


def verify_report(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """What ``manage_all.py verify`` compares with the payment service's report."""
    now = now or timezone.now()
    bookings = [
        {
            "id": str(booking.id),
            "status": booking.status,
            "total_amount": str(booking.total_amount),
            "currency": booking.currency,
            "expires_at": booking.expires_at.isoformat(),
            "updated_at": booking.updated_at.isoformat(),
            "live_seats": sorted(seat.label for seat in booking.booking_seats.all() if seat.is_live),
        }
        for booking in Booking.objects.prefetch_related("booking_seats").order_by("created_at", "id")
    ]
    double_booked = [
        {"showtime_id": str(row["showtime_id"]), "label": row["label"], "bookings": row["n"]}
        for row in BookingSeat.objects.filter(booking__status__in=Booking.LIVE_STATUSES)
        .values("showtime_id", "label")
        .annotate(n=Count("booking_id", distinct=True))
        .filter(n__gt=1)
        .order_by("showtime_id", "label")
    ]
    overdue = [
        {"id": str(booking_id), "expires_at": expires_at.isoformat()}
        for booking_id, expires_at in Booking.objects.filter(
            status=Booking.Status.PENDING, expires_at__lt=now - pending_grace()
        )
        .order_by("expires_at")
        .values_list("id", "expires_at")
    ]
    on_cancelled_showtimes = [
        str(booking_id)
        for booking_id in Booking.objects.filter(
            status__in=Booking.LIVE_STATUSES, showtime__status=ShowtimeReplica.Status.CANCELLED
        )
        .order_by("created_at")
        .values_list("id", flat=True)
    ]
    return {
        "generated_at": now.isoformat(),
        "grace_seconds": int(pending_grace().total_seconds()),
        "bookings": bookings,
        "double_booked_seats": double_booked,
        "overdue_pending": overdue,
        "live_on_cancelled_showtimes": on_cancelled_showtimes,
    }
