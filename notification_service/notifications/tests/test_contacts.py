"""The contacts replica, and notifications that arrive before the user's registration."""

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from common.events import types
from common.events.processing import apply_envelope
from common.events.testing import deliver, make_envelope
from notification_service.notifications.models import Contact, Notification

from .factories import ContactFactory, NotificationFactory, confirmed_data, payment_failed_data, user_data

pytestmark = pytest.mark.django_db


def test_registration_creates_the_contact(run_on_commit):
    data = user_data()

    envelope = make_envelope(types.USER_REGISTERED, data)
    run_on_commit(apply_envelope, envelope)

    contact = Contact.objects.get()
    assert contact.user_id == uuid.UUID(data["user_id"])
    assert contact.email == "ada@example.com"
    assert contact.full_name == "Ada Lovelace"
    assert contact.updated_at == dt.datetime.fromisoformat(envelope["occurred_at"])


def test_update_changes_name_and_address(run_on_commit):
    contact = ContactFactory(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    run_on_commit(
        deliver, types.USER_UPDATED, user_data(user_id=str(contact.user_id), email="new@example.com", full_name="New")
    )

    contact.refresh_from_db()
    assert (contact.email, contact.full_name) == ("new@example.com", "New")
    assert Contact.objects.count() == 1


def test_an_update_sends_the_users_unsent_notifications_again_to_the_new_address(run_on_commit, settings):
    # given an unsent notification, whose send task may have found it locked by the update and
    # given up, and one waiting out a retry's backoff
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    contact = ContactFactory(email="old@example.com", updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    unsent = NotificationFactory(user_id=contact.user_id, recipient="old@example.com")
    backing_off = NotificationFactory(
        user_id=contact.user_id, recipient="old@example.com", next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )

    # when the user's address changes
    run_on_commit(deliver, types.USER_UPDATED, user_data(user_id=str(contact.user_id), email="new@example.com"))

    # then the unsent one goes now, to the new address; the other keeps its retry's time
    unsent.refresh_from_db()
    backing_off.refresh_from_db()
    assert (unsent.status, unsent.recipient) == ("sent", "new@example.com")
    assert (backing_off.status, backing_off.recipient) == ("pending", "new@example.com")
    assert [message.to for message in mail.outbox] == [["new@example.com"]]


def test_an_older_update_arriving_late_does_not_overwrite_a_newer_one(run_on_commit):
    # given two updates of one user, the second newer than the first
    user_id = str(uuid.uuid4())
    older = make_envelope(types.USER_UPDATED, user_data(user_id=user_id, email="old@example.com", full_name="Old"))
    newer = make_envelope(types.USER_UPDATED, user_data(user_id=user_id, email="new@example.com", full_name="New"))
    assert older["occurred_at"] < newer["occurred_at"]

    # when they arrive in the wrong order
    run_on_commit(apply_envelope, newer)
    outcome = run_on_commit(apply_envelope, older)

    # then the newer one stays
    assert outcome == "applied"
    contact = Contact.objects.get()
    assert (contact.email, contact.full_name) == ("new@example.com", "New")
    assert contact.updated_at == dt.datetime.fromisoformat(newer["occurred_at"])


def test_registration_after_a_newer_update_keeps_the_update_but_still_welcomes(run_on_commit):
    user_id = str(uuid.uuid4())
    registered = make_envelope(types.USER_REGISTERED, user_data(user_id=user_id, email="first@example.com"))
    updated = make_envelope(types.USER_UPDATED, user_data(user_id=user_id, email="second@example.com"))

    run_on_commit(apply_envelope, updated)
    run_on_commit(apply_envelope, registered)

    assert Contact.objects.get().email == "second@example.com"
    welcome = Notification.objects.get()
    assert welcome.kind == "welcome"
    assert [message.to for message in mail.outbox] == [["second@example.com"]]


def test_a_ticket_for_a_user_not_known_yet_waits_and_is_sent_when_the_registration_arrives(run_on_commit):
    # given a booking confirmed for a user whose registration has not arrived yet
    user_id = str(uuid.uuid4())
    run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed_data(user_id=user_id))

    # then the ticket waits: pending, no recipient, nothing sent
    waiting = Notification.objects.get()
    assert waiting.kind == "booking_confirmed"
    assert waiting.status == "pending"
    assert waiting.recipient == ""
    assert waiting.attempts == 0
    assert waiting.body_text.startswith("Hello,\n\nYour booking is confirmed.")
    assert mail.outbox == []

    # when the registration arrives
    run_on_commit(deliver, types.USER_REGISTERED, user_data(user_id=user_id, full_name="Grace Hopper"))

    # then the ticket is addressed, greeted by name and sent, and so is the welcome
    waiting.refresh_from_db()
    assert waiting.status == "sent"
    assert waiting.recipient == "ada@example.com"
    assert waiting.body_text.startswith("Hello Grace Hopper,\n\nYour booking is confirmed.")
    assert sorted(message.subject for message in mail.outbox) == [
        "Welcome to Movie Tickets",
        "Your ticket for Dune: Part Two (BK-7Q2XK9)",
    ]
    assert all(message.to == ["ada@example.com"] for message in mail.outbox)


def test_waiting_notifications_of_other_users_stay_waiting(run_on_commit):
    run_on_commit(deliver, types.PAYMENT_FAILED, payment_failed_data())

    run_on_commit(deliver, types.USER_REGISTERED, user_data())

    failed = Notification.objects.get(kind="payment_failed")
    assert failed.status == "pending"
    assert failed.recipient == ""
    assert [message.subject for message in mail.outbox] == ["Welcome to Movie Tickets"]
