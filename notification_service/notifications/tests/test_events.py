"""Each consumed event → exactly one notification, to the right person, saying the right thing."""

import io
import uuid

import pytest
import zxingcpp
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from common.events import types
from common.events.models import InboxEvent
from common.events.testing import deliver, published
from notification_service.notifications import services
from notification_service.notifications.models import Notification, Ticket

from .factories import (
    ContactFactory,
    TicketFactory,
    cancelled_data,
    confirmed_data,
    payment_failed_data,
    refunded_data,
    user_data,
)

pytestmark = pytest.mark.django_db


def only_notification() -> Notification:
    notifications = list(Notification.objects.all())
    assert len(notifications) == 1
    return notifications[0]


def qr_image_of(message) -> tuple[str, bytes]:
    images = [part for part in message.attachments if getattr(part, "get_content_type", None)]
    assert len(images) == 1
    return images[0]["Content-ID"], images[0].get_payload(decode=True)


def test_registered_user_gets_a_welcome_email(run_on_commit):
    # given a new user's registration
    data = user_data()

    # when it is delivered
    outcome = run_on_commit(deliver, types.USER_REGISTERED, data)

    # then one welcome e-mail went to them, by name
    assert outcome == "applied"
    notification = only_notification()
    assert notification.kind == "welcome"
    assert notification.user_id == uuid.UUID(data["user_id"])
    assert notification.recipient == "ada@example.com"
    assert notification.status == "sent"
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert notification.subject == "Welcome to Movie Tickets"
    assert notification.body_text.startswith("Hello Ada Lovelace,\n\nWelcome to Movie Tickets! Your account (ada@")
    assert "<p>Hello Ada Lovelace,</p>" in notification.body_html
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Welcome to Movie Tickets"
    assert message.body == notification.body_text
    assert message.alternatives[0][0] == notification.body_html
    assert message.alternatives[0][1] == "text/html"
    assert message.attachments == []
    assert published() == []


def test_confirmed_booking_sends_the_ticket_in_the_cinemas_local_time(run_on_commit):
    # given a known customer
    contact = ContactFactory(full_name="Ada Lovelace", email="ada@example.com")
    data = confirmed_data(user_id=str(contact.user_id))

    # when their booking is confirmed
    run_on_commit(deliver, types.BOOKING_CONFIRMED, data)

    # then the ticket names movie, cinema, screen, local start, seats, amount and reference
    notification = only_notification()
    assert notification.kind == "booking_confirmed"
    assert notification.booking_id == uuid.UUID(data["booking_id"])
    assert notification.recipient == "ada@example.com"
    assert notification.status == "sent"
    assert notification.subject == "Your ticket for Dune: Part Two (BK-7Q2XK9)"
    assert notification.body_text == (
        "Hello Ada Lovelace,\n\n"
        "Your booking is confirmed. Here is your ticket:\n\n"
        "Booking reference: BK-7Q2XK9\n"
        "Movie:     Dune: Part Two\n"
        "Cinema:    Kino International\n"
        "Screen:    Saal 1\n"
        "Starts:    Saturday 5 December 2026, 19:30 (Europe/Berlin)\n"
        "Seats:     C7, C8\n"
        "Amount:    24.00 EUR\n\n"
        "Show the booking reference (or the QR code in the HTML version of this e-mail) at the entrance.\n"
        "The time above is the cinema's local time.\n\n"
        "See you at the movies,\n"
        "The Movie Tickets team\n"
    )
    for fragment in ("Kino International", "Saal 1", "Saturday 5 December 2026, 19:30 (Europe/Berlin)", "C7, C8"):
        assert fragment in notification.body_html
    assert '<img src="cid:ticket-qr"' in notification.body_html
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.com"]


def test_ticket_qr_code_is_an_inline_related_part_that_decodes_to_the_reference(run_on_commit):
    # given a confirmed booking of a known customer
    contact = ContactFactory()
    run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed_data(user_id=str(contact.user_id)))

    # when the e-mail is read
    message = mail.outbox[0]
    content_id, png = qr_image_of(message)
    raw = message.message().as_string()

    # then the HTML shows the QR image by Content-ID, inside multipart/related, and it decodes
    assert content_id == "<ticket-qr>"
    assert "multipart/related" in raw
    assert "Content-Disposition: inline" in raw
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [result.text for result in decoded] == ["BK-7Q2XK9"]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode


def test_confirmed_booking_without_optional_fields_uses_utc_and_a_reference_from_the_id(run_on_commit):
    # given a confirmation without reference, screen or time zone
    contact = ContactFactory()
    booking_id = uuid.UUID("7f3a2c91-0000-4000-8000-000000000001")
    data = confirmed_data(user_id=str(contact.user_id), booking_id=str(booking_id))
    for optional in ("reference", "screen_name", "cinema_timezone"):
        del data[optional]

    # when it is delivered
    run_on_commit(deliver, types.BOOKING_CONFIRMED, data)

    # then the time is UTC and the reference is derived from the booking id
    notification = only_notification()
    assert notification.subject == "Your ticket for Dune: Part Two (7F3A2C91)"
    assert "Starts:    Saturday 5 December 2026, 18:30 (UTC)\n" in notification.body_text
    assert "Screen:" not in notification.body_text
    _, png = qr_image_of(mail.outbox[0])
    assert [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == ["7F3A2C91"]


def test_confirmed_booking_is_kept_as_a_ticket_for_the_reminder(run_on_commit):
    contact = ContactFactory()
    data = confirmed_data(user_id=str(contact.user_id))

    run_on_commit(deliver, types.BOOKING_CONFIRMED, data)

    ticket = Ticket.objects.get()
    assert ticket.booking_id == uuid.UUID(data["booking_id"])
    assert ticket.user_id == contact.user_id
    assert ticket.reference == "BK-7Q2XK9"
    assert ticket.screen_name == "Saal 1"
    assert ticket.cinema_timezone == "Europe/Berlin"
    assert ticket.starts_at.isoformat() == "2026-12-05T18:30:00+00:00"
    assert ticket.seats == ["C7", "C8"]
    assert str(ticket.amount) == "24.00"
    assert ticket.cancelled_at is None
    assert ticket.reminder_created_at is None


@pytest.mark.parametrize(
    ("reason", "subject", "sentence"),
    [
        ("user_cancelled", "Your booking BK1 has been cancelled", "Your booking has been cancelled. You cancelled"),
        ("expired", "Your booking BK1 has expired", "Your booking has expired. The booking was not paid within"),
        ("showtime_cancelled", "Your booking BK1 has been cancelled", "cancelled. The cinema cancelled this showtime."),
    ],
)
def test_cancelled_booking_tells_the_reason_in_plain_words(run_on_commit, reason, subject, sentence):
    # given a customer with a confirmed ticket
    contact = ContactFactory()
    ticket = TicketFactory(user_id=contact.user_id, reference="BK1")
    data = cancelled_data(booking_id=str(ticket.booking_id), user_id=str(contact.user_id), reason=reason)

    # when the booking is cancelled
    run_on_commit(deliver, types.BOOKING_CANCELLED, data)

    # then one e-mail says why, and the ticket gets no reminder
    notification = only_notification()
    assert notification.kind == "booking_cancelled"
    assert notification.subject == subject
    assert sentence in notification.body_text
    assert "Movie:     Dune: Part Two\n" in notification.body_text
    assert "the payment will be refunded" in notification.body_text
    assert notification.status == "sent"
    assert [message.subject for message in mail.outbox] == [subject]
    ticket.refresh_from_db()
    assert ticket.cancelled_at is not None


def test_expired_unpaid_booking_says_nothing_was_charged(run_on_commit):
    contact = ContactFactory()
    data = cancelled_data(user_id=str(contact.user_id), reason="expired", movie_title="Alien", was_confirmed=False)

    run_on_commit(deliver, types.BOOKING_CANCELLED, data)

    notification = only_notification()
    assert "Movie:     Alien\n" in notification.body_text
    assert "Nothing was charged for this booking" in notification.body_text
    assert "the payment will be refunded" not in notification.body_text


def test_failed_payment_produces_one_email_although_booking_also_reports_the_cancellation(run_on_commit):
    # given a customer whose payment was declined
    contact = ContactFactory()
    failed = payment_failed_data(user_id=str(contact.user_id), reason="insufficient_funds")
    cancelled = cancelled_data(booking_id=failed["booking_id"], user_id=str(contact.user_id), reason="payment_failed")

    # when both the payment's failure and the booking's cancellation arrive
    run_on_commit(deliver, types.PAYMENT_FAILED, failed)
    run_on_commit(deliver, types.BOOKING_CANCELLED, cancelled)

    # then exactly one e-mail, the payment failure, with the provider's reason in plain words
    notification = only_notification()
    reference = uuid.UUID(failed["booking_id"]).hex[:8].upper()
    assert notification.kind == "payment_failed"
    assert notification.subject == f"Payment failed for booking {reference}"
    assert f"payment for your booking {reference}. Your card was declined for insufficient funds." in (
        notification.body_text
    )
    assert len(mail.outbox) == 1
    assert Ticket.objects.get(booking_id=failed["booking_id"]).cancelled_at is not None


def test_refund_completed_names_the_amount_and_the_booking(run_on_commit):
    # given a customer whose confirmed booking was cancelled
    contact = ContactFactory()
    ticket = TicketFactory(user_id=contact.user_id, reference="BK2", movie_title="Alien")
    data = refunded_data(
        booking_id=str(ticket.booking_id), user_id=str(contact.user_id), amount="25.00", currency="GBP"
    )

    # when the refund completes
    run_on_commit(deliver, types.PAYMENT_REFUNDED, data)

    # then one e-mail confirms it
    notification = only_notification()
    assert notification.kind == "refund_completed"
    assert notification.subject == "Your refund of 25.00 GBP is on its way (BK2)"
    assert "We have refunded 25.00 GBP for your booking BK2." in notification.body_text
    assert "Movie:     Alien\n" in notification.body_text
    assert mail.outbox[0].to == [contact.email]


def test_user_updated_makes_no_notification(run_on_commit):
    run_on_commit(deliver, types.USER_UPDATED, user_data())

    assert Notification.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("event_type", "make_data"),
    [
        (types.USER_REGISTERED, lambda user_id: user_data(user_id=user_id)),
        (types.BOOKING_CONFIRMED, lambda user_id: confirmed_data(user_id=user_id)),
        (types.BOOKING_CANCELLED, lambda user_id: cancelled_data(user_id=user_id)),
        (types.PAYMENT_FAILED, lambda user_id: payment_failed_data(user_id=user_id)),
        (types.PAYMENT_REFUNDED, lambda user_id: refunded_data(user_id=user_id)),
    ],
)
def test_same_event_delivered_three_times_sends_one_email(run_on_commit, event_type, make_data):
    # given one event
    contact = ContactFactory()
    data = make_data(str(contact.user_id))
    event_id = uuid.uuid4()

    # when the broker delivers it three times
    outcomes = [run_on_commit(deliver, event_type, data, event_id=event_id) for _ in range(3)]

    # then it is applied once and one e-mail is sent
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("event_type", "make_data"),
    [
        (types.USER_REGISTERED, lambda user_id: user_data(user_id=user_id)),
        (types.BOOKING_CONFIRMED, lambda user_id: confirmed_data(user_id=user_id)),
        (types.BOOKING_CANCELLED, lambda user_id: cancelled_data(user_id=user_id)),
        (types.PAYMENT_FAILED, lambda user_id: payment_failed_data(user_id=user_id)),
        (types.PAYMENT_REFUNDED, lambda user_id: refunded_data(user_id=user_id)),
    ],
)
def test_same_fact_under_a_new_event_id_sends_no_second_email(run_on_commit, event_type, make_data):
    # given one business fact, published twice (e.g. a producer retried after a crash)
    contact = ContactFactory()
    data = make_data(str(contact.user_id))

    # when both copies arrive, with different event ids
    outcomes = [run_on_commit(deliver, event_type, data) for _ in range(2)]

    # then both are applied, but only one notification and one e-mail exist
    assert outcomes == ["applied", "applied"]
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_confirmation_overtaken_by_its_cancellation_sends_no_ticket(run_on_commit):
    # given a booking whose cancellation arrived before its confirmation
    contact = ContactFactory()
    confirmed = confirmed_data(user_id=str(contact.user_id))
    run_on_commit(
        deliver,
        types.BOOKING_CANCELLED,
        cancelled_data(booking_id=confirmed["booking_id"], user_id=str(contact.user_id), was_confirmed=True),
    )

    # when the confirmation arrives late
    run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed)

    # then only the cancellation was e-mailed, and the ticket row is complete but cancelled
    assert [notification.kind for notification in Notification.objects.all()] == ["booking_cancelled"]
    assert len(mail.outbox) == 1
    ticket = Ticket.objects.get()
    assert ticket.cancelled_at is not None
    assert ticket.movie_title == "Dune: Part Two"


def test_a_handler_failure_rolls_back_the_notification_with_the_inbox_entry(run_on_commit, monkeypatch):
    # given a handler that fails after its notification row was written (e.g. the database hiccups)
    create = services.notification_create

    def create_then_fail(**kwargs):
        create(**kwargs)
        raise RuntimeError("transient failure")

    monkeypatch.setattr(services, "notification_create", create_then_fail)
    contact = ContactFactory()

    # when the event is applied
    with pytest.raises(RuntimeError):
        run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed_data(user_id=str(contact.user_id)))

    # then nothing of it remains, so the redelivery starts afresh, and nothing was sent
    assert Notification.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert InboxEvent.objects.count() == 0
    assert mail.outbox == []


def test_applying_a_confirmation_inserts_the_ticket_whole_with_no_savepoint_of_its_own(run_on_commit):
    # given
    contact = ContactFactory()

    # when
    with CaptureQueriesContext(connection) as captured:
        deliver(types.BOOKING_CONFIRMED, confirmed_data(user_id=str(contact.user_id)))

    # then: the event's own transaction (a savepoint inside the test's); the inserts that may meet a
    # duplicate skip it (ON CONFLICT) instead of a read first and a savepoint each, and the new
    # ticket is not updated after its insert
    assert [query["sql"].split()[0] for query in captured.captured_queries] == [
        "SAVEPOINT",  # the inbox entry's transaction
        "INSERT",  # the inbox entry
        "INSERT",  # the ticket, unless there is one
        "SELECT",  # the contact
        "INSERT",  # the notification, unless this fact has one
        "RELEASE",
    ]
