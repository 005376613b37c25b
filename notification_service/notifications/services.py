"""Every write of the notification service: contacts, tickets, notifications and their delivery."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import smtplib
import socket
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import KombuError

from common.db.inserts import insert_rows
from common.db.selects import select_row
from common.db.updates import update_row

from . import rendering
from .models import Contact, Notification, Ticket

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Status = Notification.Status


def notification_settings() -> dict[str, Any]:
    return settings.NOTIFICATIONS


# --- contacts -------------------------------------------------------------------------------


@transaction.atomic
def contact_upsert(*, user_id: uuid.UUID, email: str, full_name: str, occurred_at: dt.datetime) -> Contact:
    """Keep the newest name and address of a user; an older event never overwrites a newer one.

    Notifications that were waiting for this contact (out-of-order arrival) are rendered with
    it and sent after commit.
    """
    contact = Contact.objects.select_for_update().filter(user_id=user_id).first()
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    user_id=user_id, email=email, full_name=full_name, updated_at=occurred_at
                )
        except IntegrityError:
            # Another worker created it meanwhile: compare with theirs.
            contact = Contact.objects.select_for_update().get(user_id=user_id)
        else:
            notifications_release_waiting(contact=contact)
            return contact
    if contact.updated_at >= occurred_at:
        logger.info("ignored an older contact update for user %s", user_id)
        return contact
    contact.email = email
    contact.full_name = full_name
    contact.updated_at = occurred_at
    contact.save(update_fields=["email", "full_name", "updated_at"])
    notifications_release_waiting(contact=contact)
    return contact


def notifications_release_waiting(*, contact: Contact) -> int:
    """Address (and re-render) the user's unsent notifications, and enqueue them after commit.

    Not only those that were waiting: a send task that met one of them locked here gave up
    (``BUSY``) and would leave it to the stale sweep. One waiting out a retry's backoff keeps it.
    """
    released = 0
    pending = Notification.objects.select_for_update().filter(user_id=contact.user_id, status=Status.PENDING)
    for notification in pending:
        was_waiting = not notification.recipient
        _render_into(notification, contact)
        notification.save(update_fields=["recipient", "subject", "body_text", "body_html", "updated_at"])
        if was_waiting or notification.next_attempt_at is None:
            notification_enqueue(notification_id=notification.id)
        if was_waiting:
            released += 1
    if released:
        logger.info("released %d notification(s) waiting for user %s", released, contact.user_id)
    return released


# --- tickets (the local replica of confirmed bookings) ----------------------------------------


# Called in the transaction of the event's inbox entry: no savepoint of its own (two round trips
# per booking); whatever it raises rolls the whole event back, and the consumer retries it.
@transaction.atomic(savepoint=False)
def ticket_record_confirmed(*, event_id: uuid.UUID, occurred_at: dt.datetime, data: dict[str, Any]) -> Ticket:
    """Store what later e-mails (reminder, cancellation, refund) need from the confirmation."""
    booking_id = uuid.UUID(data["booking_id"])
    confirmation = {
        "reference": rendering.booking_reference(booking_id, data.get("reference")),
        "movie_title": data["movie_title"],
        "cinema_name": data["cinema_name"],
        "screen_name": data.get("screen_name") or "",
        "cinema_timezone": data.get("cinema_timezone") or "",
        "starts_at": dt.datetime.fromisoformat(data["starts_at"]),
        "seats": list(data["seats"]),
        "amount": Decimal(data["amount"]),
        "currency": data["currency"],
        "confirmed_event_id": event_id,
        "confirmed_at": occurred_at,
    }
    # Usually the first news of the booking: the ticket is inserted whole, not inserted and updated.
    ticket, created = _ticket_for_update(booking_id=booking_id, user_id=uuid.UUID(data["user_id"]), **confirmation)
    if created or ticket.confirmed_event_id is not None:
        return ticket  # new, or the same confirmation again under another event id
    for field, value in confirmation.items():
        setattr(ticket, field, value)
    ticket.save()
    return ticket


@transaction.atomic
def ticket_record_cancelled(*, occurred_at: dt.datetime, data: dict[str, Any]) -> Ticket:
    """Mark the booking cancelled (no reminder); may come before its confirmation."""
    ticket, _ = _ticket_for_update(booking_id=uuid.UUID(data["booking_id"]), user_id=uuid.UUID(data["user_id"]))
    if ticket.cancelled_at is None:
        ticket.cancelled_at = occurred_at
    if not ticket.movie_title and data.get("movie_title"):
        ticket.movie_title = data["movie_title"]
    if ticket.starts_at is None and data.get("starts_at"):
        ticket.starts_at = dt.datetime.fromisoformat(data["starts_at"])
    if not ticket.seats and data.get("seats"):
        ticket.seats = [str(seat) for seat in data["seats"]]
    ticket.save()
    return ticket


def _ticket_for_update(*, booking_id: uuid.UUID, user_id: uuid.UUID, **fields: Any) -> tuple[Ticket, bool]:
    """The booking's ticket, locked; created with ``fields`` if there is none yet (``created``).

    Usually there is none (the confirmation is the first news of a booking): one INSERT, which
    also holds the new row's lock, instead of a locked read, a savepoint and an insert.
    """
    ticket = Ticket(booking_id=booking_id, user_id=user_id, **fields)
    if insert_rows([ticket], ignore_conflicts=True):
        return ticket, True
    return Ticket.objects.select_for_update().get(booking_id=booking_id), False


# --- notifications from events ----------------------------------------------------------------


def booking_confirmed_notify(*, event_id: uuid.UUID, ticket: Ticket) -> Notification | None:
    if ticket.cancelled_at is not None:
        # The cancellation overtook the confirmation: a ticket for a cancelled booking would mislead.
        logger.info("booking %s is already cancelled; no ticket e-mail", ticket.booking_id)
        return None
    return notification_create(
        user_id=ticket.user_id,
        kind=Kind.BOOKING_CONFIRMED,
        event_id=event_id,
        dedupe_key=f"booking_confirmed:{ticket.booking_id}",
        booking_id=ticket.booking_id,
        context=rendering.ticket_context(ticket),
    )


def booking_cancelled_notify(*, event_id: uuid.UUID, ticket: Ticket, data: dict[str, Any]) -> Notification | None:
    reason = data["reason"]
    if reason == "payment_failed":
        # The customer hears about a failed payment once, from payments.payment.failed, which
        # carries the provider's reason; this cancellation only stops the reminder.
        return None
    was_confirmed = bool(data.get("was_confirmed", ticket.is_confirmed))
    context = {
        **rendering.ticket_context(ticket),
        "reason": reason,
        "reason_text": rendering.CANCEL_REASON_TEXT[reason],
        "was_confirmed": was_confirmed,
        "is_expired": reason == "expired",
    }
    return notification_create(
        user_id=ticket.user_id,
        kind=Kind.BOOKING_CANCELLED,
        event_id=event_id,
        dedupe_key=f"booking_cancelled:{ticket.booking_id}",
        booking_id=ticket.booking_id,
        context=context,
    )


def payment_failed_notify(*, event_id: uuid.UUID, data: dict[str, Any]) -> Notification | None:
    booking_id = uuid.UUID(data["booking_id"])
    reason = data["reason"]
    context = {
        **_booking_context(booking_id),
        "payment_id": data["payment_id"],
        "reason": reason,
        "reason_text": rendering.PAYMENT_FAILURE_TEXT.get(reason, rendering.DEFAULT_PAYMENT_FAILURE_TEXT),
    }
    return notification_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.PAYMENT_FAILED,
        event_id=event_id,
        dedupe_key=f"payment_failed:{data['payment_id']}",
        booking_id=booking_id,
        context=context,
    )


def refund_completed_notify(*, event_id: uuid.UUID, data: dict[str, Any]) -> Notification | None:
    booking_id = uuid.UUID(data["booking_id"])
    context = {
        **_booking_context(booking_id),
        "payment_id": data["payment_id"],
        "refund_amount_text": rendering.money_text(data["amount"], data["currency"]),
    }
    return notification_create(
        user_id=uuid.UUID(data["user_id"]),
        kind=Kind.REFUND_COMPLETED,
        event_id=event_id,
        dedupe_key=f"refund_completed:{data['payment_id']}",
        booking_id=booking_id,
        context=context,
    )


def welcome_notify(*, event_id: uuid.UUID, user_id: uuid.UUID) -> Notification | None:
    return notification_create(
        user_id=user_id, kind=Kind.WELCOME, event_id=event_id, dedupe_key=f"welcome:{user_id}", context={}
    )


def _booking_context(booking_id: uuid.UUID) -> dict[str, Any]:
    ticket = Ticket.objects.filter(booking_id=booking_id).first()
    if ticket is not None:
        return rendering.ticket_context(ticket)
    return {"booking_id": str(booking_id), "reference": rendering.booking_reference(booking_id)}


def notification_create(
    *,
    user_id: uuid.UUID,
    kind: str,
    event_id: uuid.UUID,
    dedupe_key: str,
    context: dict[str, Any],
    booking_id: uuid.UUID | None = None,
) -> Notification | None:
    """One notification per business fact (``dedupe_key``) and per (event, kind); ``None`` if it exists.

    Called inside the handler's transaction, so the row commits with the event's inbox entry.
    Without a contact yet the row waits (no recipient) until ``contact_upsert`` releases it.
    """
    contact = Contact.objects.filter(user_id=user_id).first()
    notification = Notification(
        user_id=user_id, kind=kind, event_id=event_id, dedupe_key=dedupe_key, booking_id=booking_id, context=context
    )
    _render_into(notification, contact)
    # One statement whether or not the fact is new (a duplicate, rare, is rendered for nothing):
    # no read first, no savepoint around the insert; a concurrent twin's insert is waited for.
    if not insert_rows([notification], ignore_conflicts=True):
        logger.info("notification %s already exists; not created again", dedupe_key)
        return None
    if notification.recipient:
        notification_enqueue(notification_id=notification.id)
    else:
        logger.info("notification %s waits for the contact of user %s", notification.id, user_id)
    return notification


def _render_into(notification: Notification, contact: Contact | None) -> None:
    context = {
        **notification.context,
        "name": contact.full_name if contact else "",
        "email": contact.email if contact else "",
    }
    notification.subject, notification.body_text, notification.body_html = rendering.render(notification.kind, context)
    notification.recipient = contact.email if contact else ""


# --- reminders ------------------------------------------------------------------------------


def reminders_create_due(*, now: dt.datetime | None = None, batch_size: int = 200) -> int:
    """Create the reminder of every confirmed, uncancelled booking that starts within the lead time.

    A booking confirmed when its showtime was already that close gets no reminder: its ticket
    e-mail has just gone out.
    """
    now = now or timezone.now()
    lead = dt.timedelta(minutes=notification_settings()["REMINDER_BEFORE_MINUTES"])
    created = 0
    with transaction.atomic():
        due = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(
                confirmed_event_id__isnull=False,
                cancelled_at__isnull=True,
                reminder_created_at__isnull=True,
                starts_at__gt=now,
                starts_at__lte=now + lead,
            )
            .order_by("starts_at")[:batch_size]
        )
        for ticket in due:
            ticket.reminder_created_at = now
            ticket.save(update_fields=["reminder_created_at"])
            if ticket.confirmed_at and ticket.confirmed_at > ticket.starts_at - lead:
                continue
            notification = notification_create(
                user_id=ticket.user_id,
                kind=Kind.SHOWTIME_REMINDER,
                event_id=ticket.confirmed_event_id,
                dedupe_key=f"showtime_reminder:{ticket.booking_id}",
                booking_id=ticket.booking_id,
                context=rendering.ticket_context(ticket),
            )
            created += notification is not None
    return created


# --- delivery -------------------------------------------------------------------------------


def notification_enqueue(*, notification_id: uuid.UUID) -> None:
    """Send after the current transaction commits (nothing is sent for a rolled-back event)."""
    from .tasks import send_notification

    def enqueue() -> None:
        try:
            send_notification.delay(str(notification_id))
        except (KombuError, OSError):  # the broker is down: the stale sweep enqueues it again later
            logger.exception("could not enqueue notification %s", notification_id)

    transaction.on_commit(enqueue)


class DeliveryOutcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    WAITING = "waiting"  # no contact yet
    DONE = "done"  # already sent or failed
    BUSY = "busy"  # another worker is sending it right now
    MISSING = "missing"


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    retry_in: int | None = None


PERMANENT_SMTP_ERRORS = (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)


def is_transient(exc: BaseException) -> bool:
    """Worth another try: a dropped or refused connection, a timeout, or an SMTP 4xx reply."""
    if isinstance(exc, PERMANENT_SMTP_ERRORS):
        return False
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror, socket.herror))


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2 * base, 4 * base, ... up to the cap."""
    options = notification_settings()
    delay = options["SEND_RETRY_BACKOFF_SECONDS"] * 2 ** max(attempts - 1, 0)
    return int(min(delay, options["SEND_RETRY_BACKOFF_MAX_SECONDS"]))


def notification_deliver(*, notification_id: uuid.UUID | str) -> Delivery:
    """Send a pending notification once; record the attempt, and say whether to retry.

    The row stays locked while the message is handed to the backend, so two workers never send
    the same notification at once; after ``SEND_MAX_RETRIES`` retries it is ``failed``.
    """
    with transaction.atomic():
        # Every confirmed booking's e-mail comes here: the lock and the save below without the
        # query compiler (``common.db``).
        notification = select_row(Notification, notification_id, for_update=True, skip_locked=True)
        if notification is None:
            exists = Notification.objects.filter(id=notification_id).exists()
            return Delivery(DeliveryOutcome.BUSY if exists else DeliveryOutcome.MISSING)
        if notification.status != Status.PENDING:
            return Delivery(DeliveryOutcome.DONE)
        if not notification.recipient:
            return Delivery(DeliveryOutcome.WAITING)
        notification.attempts += 1
        now = timezone.now()
        try:
            rendering.build_message(notification).send()
        except Exception as exc:
            # smtplib.SMTPException and socket errors are OSErrors, judged by is_transient. Anything
            # else (a task's soft time limit mid-send, a template or backend bug) fails the row
            # too: raised, it rolled the attempt back and left the row pending, and the stale
            # sweep sent it again every 15 minutes for ever (each time, if it had gone out).
            if not isinstance(exc, OSError):
                logger.exception("sending notification %s raised", notification.id)
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            retries_left = notification.attempts <= notification_settings()["SEND_MAX_RETRIES"]
            if is_transient(exc) and retries_left:
                delay = retry_delay(notification.attempts)
                notification.next_attempt_at = now + dt.timedelta(seconds=delay)
                notification.save(update_fields=["attempts", "last_error", "next_attempt_at", "updated_at"])
                logger.warning("sending notification %s failed (%s); retry in %ss", notification.id, exc, delay)
                return Delivery(DeliveryOutcome.RETRY, retry_in=delay)
            notification.status = Status.FAILED
            notification.next_attempt_at = None
            notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"])
            logger.error("notification %s failed after %d attempt(s): %s", notification.id, notification.attempts, exc)
            return Delivery(DeliveryOutcome.FAILED)
        notification.status = Status.SENT
        notification.sent_at = now
        notification.next_attempt_at = None
        update_row(notification, ["attempts", "status", "sent_at", "next_attempt_at", "updated_at"])
    logger.info(
        "sent %s notification %s to %s: %s",
        notification.kind,
        notification.id,
        notification.recipient,
        notification.subject,
    )
    return Delivery(DeliveryOutcome.SENT)


@transaction.atomic
def notification_resend(*, notification_id: uuid.UUID | str) -> str:
    """Send a failed or sent notification again (staff action): back to pending with a fresh
    retry budget, addressed and rendered for the user's contact as it is now.

    Returns what was done, for the admin to say: ``"queued"``, or why not. A pending one is on
    its way (one being sent holds its row, and resetting it after would send it twice); a ticket
    or reminder of a booking cancelled since, or a reminder of a show that has begun, would tell
    the customer something no longer true.
    """
    notification = Notification.objects.select_for_update().get(id=notification_id)
    if notification.status == Status.PENDING:
        return "already on its way"
    if notification.kind in (Kind.BOOKING_CONFIRMED, Kind.SHOWTIME_REMINDER) and notification.booking_id:
        ticket = Ticket.objects.filter(booking_id=notification.booking_id).first()
        if ticket is not None and ticket.cancelled_at is not None:
            return "its booking was cancelled since"
        begun = ticket is not None and ticket.starts_at is not None and ticket.starts_at <= timezone.now()
        if notification.kind == Kind.SHOWTIME_REMINDER and begun:
            return "the show has begun"
    contact = Contact.objects.filter(user_id=notification.user_id).first()
    if contact is not None:
        _render_into(notification, contact)  # an address the user has corrected since
    notification.status = Status.PENDING
    notification.attempts = 0
    notification.last_error = ""
    notification.next_attempt_at = None
    notification.sent_at = None
    notification.save()
    if notification.recipient:
        notification_enqueue(notification_id=notification.id)
    return "queued"


def notifications_enqueue_stale(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Enqueue again pending notifications whose task was lost (broker down at enqueue time), and
    release those still waiting for a contact that has arrived since."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=notification_settings()["STALE_PENDING_MINUTES"])
    _release_waiting_for_a_known_contact(cutoff=cutoff, limit=limit)
    stale = (
        Notification.objects.filter(status=Status.PENDING, updated_at__lt=cutoff)
        .exclude(recipient="")
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
        .values_list("id", flat=True)[:limit]
    )
    ids = list(stale)
    for notification_id in ids:
        notification_enqueue(notification_id=notification_id)
    return len(ids)


def _release_waiting_for_a_known_contact(*, cutoff: dt.datetime, limit: int) -> None:
    """A notification created while its user's contact was being created, each transaction blind to
    the other's row, waits with no recipient although the contact exists: release it now."""
    users = (
        Notification.objects.filter(status=Status.PENDING, recipient="", updated_at__lt=cutoff)
        .filter(user_id__in=Contact.objects.values("user_id"))
        .values_list("user_id", flat=True)
        .distinct()[:limit]
    )
    for user_id in list(users):
        with transaction.atomic():
            contact = Contact.objects.select_for_update().get(user_id=user_id)
            released = notifications_release_waiting(contact=contact)
        logger.warning("released %d notification(s) of user %s that missed their contact", released, user_id)


def notification_mark_read(*, notification: Notification) -> Notification:
    """First read wins; reading again changes nothing."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification
