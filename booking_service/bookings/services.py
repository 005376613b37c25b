"""Every write of the booking service: holds, the saga's transitions, the showtime replica."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, status

from common.api.exceptions import Conflict
from common.db.inserts import insert_rows
from common.db.selects import select_row, select_values
from common.db.updates import update_row
from common.events import types
from common.events.envelope import Event
from common.events.publisher import publish

from .models import Booking, BookingSeat, BookingTransition, IdempotencyKey, ShowtimeReplica, seat_sort_key
from .selectors import showtime_for_hold, showtime_is_cancelled

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class SeatsUnavailable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "seats_unavailable"

    def __init__(self, seats: list[str]):
        super().__init__()
        self.detail = {
            "detail": exceptions.ErrorDetail("Some of the requested seats are no longer available.", self.default_code),
            "unavailable_seats": seats,
        }


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


def money(value: Decimal | str) -> Decimal:
    return Decimal(value).quantize(CENT)


def money_str(value: Decimal | str) -> str:
    return str(money(value))


def _new_reference() -> str:
    return "BK" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _hold_seconds() -> int:
    return int(getattr(settings, "BOOKING_HOLD_SECONDS", 600))


def request_hash(*, showtime_id: uuid.UUID, seats: list[str], payment_method: str) -> str:
    """SHA-256 of the canonical body: the same booking asked for twice hashes the same."""
    canonical = json.dumps(
        {"showtime_id": str(showtime_id), "seats": sorted(seats, key=seat_sort_key), "payment_method": payment_method},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Timeline and transitions -------------------------------------------------------------------


def _record(booking: Booking, *, from_status: str, cause: str, event: Event | None = None, note: str = "") -> None:
    entry = BookingTransition(
        booking=booking,
        from_status=from_status,
        to_status=booking.status,
        cause=cause,
        event_id=event.id if event else None,
        note=note,
    )
    insert_rows([entry])


def _note_once(booking: Booking, *, cause: str, note: str, event: Event | None = None) -> None:
    """A fact without a state change, recorded once however often it arrives."""
    if not BookingTransition.objects.filter(booking=booking, cause=cause, note=note).exists():
        _record(booking, from_status=booking.status, cause=cause, event=event, note=note)


def _labels(booking: Booking) -> list[str]:
    return sorted(select_values(BookingSeat, "label", booking=booking.id), key=seat_sort_key)


def _end(
    booking: Booking,
    *,
    to_status: str,
    reason: str,
    cause: str,
    event: Event | None = None,
    note: str = "",
    is_paid: bool = False,
) -> None:
    """pending/confirmed → cancelled/expired: release the seats and tell payment and notification.

    The caller holds the booking's row lock. ``is_paid``: the payment is known to have succeeded
    (the success arrived for a pending booking this ends), so its refund is certain.
    """
    from_status = booking.status
    booking.status = to_status
    booking.cancel_reason = reason
    booking.save(update_fields=["status", "cancel_reason", "updated_at"])
    BookingSeat.objects.filter(booking=booking, is_live=True).update(is_live=False)
    _record(booking, from_status=from_status, cause=cause, event=event, note=note)
    publish(
        types.BOOKING_CANCELLED,
        {
            "booking_id": booking.id,
            "user_id": booking.user_id,
            "reason": reason,
            "movie_title": booking.movie_title,
            "starts_at": booking.starts_at,
            "seats": _labels(booking),
            # "The payment is refunded": the notification's wording (not "nothing was charged").
            "was_confirmed": from_status == Booking.Status.CONFIRMED or is_paid,
        },
        aggregate_id=booking.id,
        caused_by=event,
        correlation_id=None if event else booking.id,
    )


def _expire(booking: Booking, *, event: Event | None = None, note: str = "", is_paid: bool = False) -> None:
    _end(
        booking,
        to_status=Booking.Status.EXPIRED,
        reason="expired",
        cause="hold_expired",
        event=event,
        note=note,
        is_paid=is_paid,
    )


def _locked_booking(booking_id: uuid.UUID | str) -> Booking | None:
    return select_row(Booking, booking_id, for_update=True)  # the saga's steps start here


# --- Creating a booking -------------------------------------------------------------------------


def booking_create(
    *,
    user_id: uuid.UUID,
    showtime_id: uuid.UUID,
    seats: list[str],
    payment_method: str,
    user_email: str = "",
    idempotency_key: str | None = None,
) -> tuple[Booking, bool]:
    """Hold ``seats`` for ``user_id``: all of them or none. Returns ``(booking, created)``.

    With an ``idempotency_key`` a repeated request returns the first booking (``created`` False);
    the unique key row, written first in the same transaction, makes concurrent duplicates wait
    for the first and then find its booking.

    The insert is optimistic: the unique indexes decide, and only when one refuses does this look
    for overdue holds in the way (the sweeper may not have run yet), expire them and try once more.
    The common case is one transaction of the showtime's read and four inserts.
    """
    body_hash = request_hash(showtime_id=showtime_id, seats=seats, payment_method=payment_method)
    if idempotency_key:
        existing = _idempotent_booking(user_id=user_id, key=idempotency_key, body_hash=body_hash)
        if existing is not None:
            return existing, False
    labels = sorted(seats, key=seat_sort_key)
    for attempt in (1, 2):
        try:
            return _hold(
                user_id=user_id,
                user_email=user_email,
                showtime_id=showtime_id,
                seats=seats,
                payment_method=payment_method,
                idempotency_key=idempotency_key,
                body_hash=body_hash,
            ), True
        except IntegrityError as exc:
            constraint = _violated_constraint(exc)
            if constraint == IDEMPOTENCY_CONSTRAINT:
                # Another request with this key committed first: answer with its booking.
                existing = _idempotent_booking(user_id=user_id, key=idempotency_key, body_hash=body_hash)
                if existing is None:  # pragma: no cover - the winner committed its key with its booking
                    raise Conflict("A request with this Idempotency-Key is still in progress; retry.") from None
                return existing, False
            if constraint not in (ONE_PENDING_CONSTRAINT, LIVE_SEAT_CONSTRAINT):
                raise
            if attempt == 1 and _release_expired_holds(showtime_id=showtime_id, labels=labels, user_id=user_id):
                continue
            if constraint == ONE_PENDING_CONSTRAINT:
                raise Conflict(
                    "You already have a pending booking for this showtime; pay or cancel it first."
                ) from None
            raise SeatsUnavailable(_taken(showtime_id=showtime_id, labels=labels)) from None
    raise AssertionError("unreachable: the second attempt returns or raises")  # pragma: no cover


IDEMPOTENCY_CONSTRAINT = "idempotency_key_unique_per_user"
ONE_PENDING_CONSTRAINT = "booking_one_pending_per_user_showtime"
LIVE_SEAT_CONSTRAINT = "booking_seat_one_live_per_showtime_label"


def _violated_constraint(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)  # psycopg; SQLite names no constraint
    if diag is not None and diag.constraint_name:
        return diag.constraint_name
    message = str(error)
    if "idempotencykey" in message:
        return IDEMPOTENCY_CONSTRAINT
    if "bookingseat" in message:
        return LIVE_SEAT_CONSTRAINT
    if "bookings_booking" in message:
        return ONE_PENDING_CONSTRAINT
    return ""


def _taken(*, showtime_id: uuid.UUID, labels: list[str]) -> list[str]:
    taken = BookingSeat.objects.filter(showtime_id=showtime_id, label__in=labels, is_live=True).values_list(
        "label", flat=True
    )
    return sorted(taken, key=seat_sort_key) or labels


def _idempotent_booking(*, user_id: uuid.UUID, key: str, body_hash: str) -> Booking | None:
    row = IdempotencyKey.objects.filter(user_id=user_id, key=key).select_related("booking").first()
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise IdempotencyKeyReused()
    return row.booking


def _validated_seats(showtime: ShowtimeReplica, seats: list[str], now: dt.datetime) -> list[tuple[str, str, Decimal]]:
    if showtime.is_cancelled:
        raise exceptions.ValidationError({"showtime_id": ["This showtime has been cancelled."]})
    if showtime.starts_at is None or showtime.starts_at <= now:
        raise exceptions.ValidationError({"showtime_id": ["This showtime has already started."]})
    categories = showtime.seat_categories()
    unknown = [label for label in seats if label not in categories]
    if unknown:
        raise exceptions.ValidationError({"seats": [f"Unknown seat(s) for this showtime: {', '.join(unknown)}."]})
    unpriced = [label for label in seats if categories[label] not in showtime.prices]
    if unpriced:
        raise exceptions.ValidationError({"seats": [f"Seat(s) not for sale: {', '.join(unpriced)}."]})
    return [
        (label, categories[label], money(showtime.prices[categories[label]]))
        for label in sorted(seats, key=seat_sort_key)
    ]


@transaction.atomic
def _hold(
    *,
    user_id: uuid.UUID,
    user_email: str,
    showtime_id: uuid.UUID,
    seats: list[str],
    payment_method: str,
    idempotency_key: str | None,
    body_hash: str,
) -> Booking:
    """Read the showtime and hold the seats, in one transaction.

    The read locks the showtime's row ``FOR KEY SHARE``, as the bookings' foreign key does anyway
    (it blocks no other booking). A cancellation of the showtime locks the row ``FOR UPDATE``:
    it either waits for this hold to commit and then cancels it with the others, or goes first,
    and this read waits for it and sees the showtime cancelled. Read before the transaction, a
    hold could commit live on a showtime cancelled meanwhile.
    """
    showtime = showtime_for_hold(showtime_id=showtime_id, lock=True)
    if showtime is None:
        raise exceptions.NotFound("Showtime not found.")
    return _booking_insert(
        user_id=user_id,
        user_email=user_email,
        showtime=showtime,
        priced=_validated_seats(showtime, seats, timezone.now()),
        payment_method=payment_method,
        idempotency_key=idempotency_key,
        body_hash=body_hash,
    )


def _booking_insert(
    *,
    user_id: uuid.UUID,
    user_email: str,
    showtime: ShowtimeReplica,
    priced: list[tuple[str, str, Decimal]],
    payment_method: str,
    idempotency_key: str | None,
    body_hash: str,
) -> Booking:
    """The hold itself. No savepoints: a refusing unique index aborts it all, and the caller decides."""
    now = timezone.now()
    booking = Booking(
        reference=_new_reference(),
        user_id=user_id,
        user_email=user_email,
        showtime=showtime,
        payment_method=payment_method,
        total_amount=sum((price for _, _, price in priced), Decimal("0.00")),
        currency=showtime.currency,
        expires_at=now + dt.timedelta(seconds=_hold_seconds()),
        movie_title=showtime.movie_title,
        cinema_name=showtime.cinema_name,
        cinema_timezone=showtime.cinema_timezone,
        screen_name=showtime.screen_name,
        starts_at=showtime.starts_at,
    )
    if idempotency_key:
        # First, so that a concurrent duplicate waits on this row and then finds the booking.
        insert_rows([IdempotencyKey(user_id=user_id, key=idempotency_key, request_hash=body_hash, booking=booking)])
    # Plain INSERTs (common.db.inserts): on every POST the ORM's compiling cost as much as the SQL.
    insert_rows([booking])
    # One INSERT, rows in seat order: concurrent requests wait on seats in the same order, so they
    # queue instead of deadlocking; the partial unique index decides.
    insert_rows(
        [
            BookingSeat(booking=booking, showtime=showtime, label=label, category=category, price=price)
            for label, category, price in priced
        ]
    )
    labels = [label for label, _, _ in priced]
    booking.seat_labels = labels  # the answer needs them; no reason to read them back
    _record(booking, from_status="", cause="created")
    publish(
        types.BOOKING_CREATED,
        {
            "booking_id": booking.id,
            "user_id": user_id,
            "showtime_id": showtime.id,
            "seats": labels,
            "amount": money_str(booking.total_amount),
            "currency": booking.currency,
            "payment_method": payment_method,
            "expires_at": booking.expires_at,
        },
        aggregate_id=booking.id,
        correlation_id=booking.id,
    )
    return booking


@transaction.atomic
def _release_expired_holds(*, showtime_id: uuid.UUID, labels: list[str], user_id: uuid.UUID) -> bool:
    """Expire, now, the overdue holds in this request's way; True if there were any."""
    now = timezone.now()
    in_the_way = Booking.objects.filter(
        showtime_id=showtime_id, status=Booking.Status.PENDING, expires_at__lte=now
    ).filter(Q(user_id=user_id) | Q(booking_seats__label__in=labels, booking_seats__is_live=True))
    ids = set(in_the_way.values_list("id", flat=True))
    released = False
    for booking in Booking.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if booking.status == Booking.Status.PENDING and booking.expires_at <= now:
            _expire(booking, note="released for a new booking before the sweeper ran")
            released = True
    return released


# --- The user's cancel --------------------------------------------------------------------------


@transaction.atomic
def booking_cancel(*, booking_id: uuid.UUID, user_id: uuid.UUID, staff: str = "") -> Booking:
    """The user's cancel, or (``staff``: who) one made for them in the admin.

    The event's reason is ``user_cancelled`` either way (the contract has no other); the timeline
    says who it was, so that support can tell a customer's cancel from their own.
    """
    booking = Booking.objects.select_for_update().filter(pk=booking_id, user_id=user_id).first()
    if booking is None:
        raise exceptions.NotFound("Booking not found.")
    if not booking.is_live:
        raise Conflict(f"This booking is already {booking.status}.")
    _end(
        booking,
        to_status=Booking.Status.CANCELLED,
        reason="user_cancelled",
        cause="staff_cancelled" if staff else "user_cancelled",
        note=f"by {staff}"[:500] if staff else "",
    )
    return booking


# --- The saga's replies from payment ------------------------------------------------------------


# Called in the transaction of the event's inbox entry: no savepoint of its own (two round trips
# per booking); whatever it raises rolls the whole event back, and the consumer retries it.
@transaction.atomic(savepoint=False)
def booking_apply_payment_succeeded(*, event: Event) -> None:
    data = event.data
    payment_id = str(data["payment_id"])
    booking = _locked_booking(data["booking_id"])
    if booking is None:
        logger.warning("payment %s succeeded for unknown booking %s; ignored", payment_id, data["booking_id"])
        return
    if booking.status == Booking.Status.CONFIRMED:
        if str(booking.payment_id) != payment_id:
            _note_once(booking, cause="extra_payment", note=f"another payment {payment_id} succeeded", event=event)
        return
    if booking.status != Booking.Status.PENDING:
        # Payment refunds it on its own when it sees (or has seen) bookings.booking.cancelled.
        _note_once(
            booking, cause="late_payment", note=f"payment {payment_id} succeeded after {booking.status}", event=event
        )
        return
    if money(data["amount"]) != booking.total_amount or data["currency"] != booking.currency:
        _note_once(
            booking,
            cause="payment_mismatch",
            note=f"payment {payment_id} of {data['amount']} {data['currency']} does not match; not confirmed",
            event=event,
        )
        return
    if showtime_is_cancelled(showtime_id=booking.showtime_id):
        _end(
            booking,
            to_status=Booking.Status.CANCELLED,
            reason="showtime_cancelled",
            cause="showtime_cancelled",
            event=event,
            note=f"payment {payment_id} arrived for a cancelled showtime",
            is_paid=True,
        )
        return
    if booking.expires_at <= timezone.now():
        _expire(booking, event=event, note=f"payment {payment_id} succeeded after the hold expired", is_paid=True)
        return
    booking.status = Booking.Status.CONFIRMED
    booking.payment_id = payment_id
    update_row(booking, ["status", "payment_id", "updated_at"])  # the saga's every booking: no compiler
    _record(booking, from_status=Booking.Status.PENDING, cause="payment_succeeded", event=event)
    confirmed = {
        "booking_id": booking.id,
        "user_id": booking.user_id,
        "movie_title": booking.movie_title,
        "cinema_name": booking.cinema_name,
        "starts_at": booking.starts_at,
        "seats": _labels(booking),
        "amount": money_str(booking.total_amount),
        "currency": booking.currency,
        "reference": booking.reference,
    }
    if booking.screen_name:
        confirmed["screen_name"] = booking.screen_name
    if booking.cinema_timezone:
        confirmed["cinema_timezone"] = booking.cinema_timezone
    publish(types.BOOKING_CONFIRMED, confirmed, aggregate_id=booking.id, caused_by=event)


@transaction.atomic
def booking_apply_payment_failed(*, event: Event) -> None:
    data = event.data
    booking = _locked_booking(data["booking_id"])
    if booking is None:
        logger.warning("payment %s failed for unknown booking %s; ignored", data["payment_id"], data["booking_id"])
        return
    if booking.status == Booking.Status.PENDING:
        _end(
            booking,
            to_status=Booking.Status.CANCELLED,
            reason="payment_failed",
            cause="payment_failed",
            event=event,
            note=str(data.get("reason", ""))[:500],
        )
    elif booking.status == Booking.Status.CONFIRMED:
        # Out of order or a stray retry: the booking is paid; a failure cannot undo that.
        _note_once(
            booking, cause="payment_failed_ignored", note=f"payment {data['payment_id']} failed after confirmation"
        )


# --- Hold expiry --------------------------------------------------------------------------------


def bookings_expire_overdue(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """pending → expired for holds past ``expires_at``, in batches; rows locked elsewhere are skipped."""
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():
            batch = list(
                Booking.objects.select_for_update(skip_locked=True)
                .filter(status=Booking.Status.PENDING, expires_at__lte=timezone.now())
                .order_by("expires_at")[:batch_size]
            )
            for booking in batch:
                _expire(booking)
        total += len(batch)
        if len(batch) < batch_size:
            break
    return total


# --- The showtime replica -----------------------------------------------------------------------


@transaction.atomic
def showtime_apply_snapshot(*, event: Event) -> None:
    """Upsert the newest snapshot; an older or equal version changes nothing.

    A snapshot without a version (the contract's data does not name one) is the newest by
    arrival. Cancellation is final here: a snapshot never brings a cancelled showtime back.
    """
    data = event.data
    version = data.get("version")
    replica = ShowtimeReplica.objects.select_for_update().filter(pk=data["id"]).first()
    if replica is not None and replica.has_snapshot and version is not None and version <= replica.version:
        logger.info("showtime %s v%s is not newer than v%s; ignored", data["id"], version, replica.version)
        return
    if replica is None:
        replica = ShowtimeReplica(id=data["id"])
    was_cancelled = replica.is_cancelled
    if version is not None:
        replica.version = version
    replica.has_snapshot = True
    replica.movie_id = data["movie_id"]
    replica.movie_title = data["movie_title"]
    replica.cinema_id = data["cinema_id"]
    replica.cinema_name = data["cinema_name"]
    replica.cinema_timezone = data.get("cinema_timezone", "") or ""
    replica.screen_name = data["screen_name"]
    replica.starts_at = parse_datetime(data["starts_at"])
    replica.ends_at = parse_datetime(data["ends_at"])
    replica.currency = data["currency"]
    replica.prices = {category: money_str(amount) for category, amount in data["prices"].items()}
    replica.seats = [{"label": seat["label"], "category": seat["category"]} for seat in data["seats"]]
    if was_cancelled or data["status"] == ShowtimeReplica.Status.CANCELLED:
        replica.status = ShowtimeReplica.Status.CANCELLED
        replica.cancelled_at = replica.cancelled_at or timezone.now()
    replica.save()
    if replica.is_cancelled:
        _cancel_showtime_bookings(replica, event=event)


@transaction.atomic
def showtime_apply_cancelled(*, event: Event) -> None:
    data = event.data
    replica = ShowtimeReplica.objects.select_for_update().filter(pk=data["showtime_id"]).first()
    if replica is None:
        # Cancelled before any snapshot arrived: remember it, so a late snapshot cannot resurrect it.
        replica = ShowtimeReplica(id=data["showtime_id"], version=0, has_snapshot=False)
    if not replica.is_cancelled:
        replica.status = ShowtimeReplica.Status.CANCELLED
        replica.cancel_reason = str(data.get("reason", ""))[:500]
        replica.cancelled_at = timezone.now()
        replica.save()
    _cancel_showtime_bookings(replica, event=event)


def _cancel_showtime_bookings(replica: ShowtimeReplica, *, event: Event) -> None:
    live = Booking.objects.select_for_update().filter(showtime=replica, status__in=Booking.LIVE_STATUSES).order_by("pk")
    for booking in live:
        _end(
            booking,
            to_status=Booking.Status.CANCELLED,
            reason="showtime_cancelled",
            cause="showtime_cancelled",
            event=event,
        )
