"""The beat task that reminds customers of their showtime."""

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from common.events import types
from common.events.testing import deliver
from notification_service.notifications import services
from notification_service.notifications.models import Notification, Ticket
from notification_service.notifications.tasks import send_reminders

from .factories import ContactFactory, TicketFactory, cancelled_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "REMINDER_BEFORE_MINUTES": 180}
    return dt.timedelta(minutes=180)


def test_reminder_is_sent_for_a_confirmed_booking_within_the_lead_time(run_on_commit, lead):
    # given a ticket for a showtime in two hours, confirmed yesterday
    contact = ContactFactory(full_name="Ada Lovelace")
    starts_at = timezone.now().replace(microsecond=0) + dt.timedelta(hours=2)
    ticket = TicketFactory(user_id=contact.user_id, reference="BK9", starts_at=starts_at, cinema_timezone="UTC")

    # when the beat task runs
    result = run_on_commit(send_reminders.apply)

    # then one reminder went out, with the ticket and its QR code
    assert result.get() == 1
    reminder = Notification.objects.get()
    assert reminder.kind == "showtime_reminder"
    assert reminder.event_id == ticket.confirmed_event_id
    assert reminder.booking_id == ticket.booking_id
    assert reminder.status == "sent"
    local = starts_at.astimezone(dt.UTC)
    expected_start = f"{local:%A} {local.day} {local:%B %Y, %H:%M} (UTC)"
    assert reminder.subject == f"Reminder: Dune: Part Two starts {expected_start}"
    assert "Booking reference: BK9\n" in reminder.body_text
    assert '<img src="cid:ticket-qr"' in reminder.body_html
    assert [message.to for message in mail.outbox] == [[contact.email]]
    assert len(mail.outbox[0].attachments) == 1
    ticket.refresh_from_db()
    assert ticket.reminder_created_at is not None


def test_reminder_is_sent_once_however_often_the_beat_runs(run_on_commit, lead):
    contact = ContactFactory()
    TicketFactory(user_id=contact.user_id)

    results = [run_on_commit(send_reminders.apply).get() for _ in range(3)]

    assert results == [1, 0, 0]
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "ticket_options",
    [
        pytest.param({"starts_at_in": dt.timedelta(hours=5)}, id="too early"),
        pytest.param({"starts_at_in": -dt.timedelta(minutes=1)}, id="already started"),
        pytest.param({"cancelled": True}, id="cancelled"),
        pytest.param({"unconfirmed": True}, id="never confirmed"),
        pytest.param({"confirmed_late": True}, id="confirmed inside the reminder window"),
    ],
)
def test_no_reminder(run_on_commit, lead, ticket_options):
    # given a ticket that should not be reminded
    now = timezone.now()
    contact = ContactFactory()
    starts_at = now + ticket_options.get("starts_at_in", dt.timedelta(hours=2))
    ticket = TicketFactory(
        user_id=contact.user_id,
        starts_at=starts_at,
        cancelled_at=now if ticket_options.get("cancelled") else None,
        confirmed_event_id=None if ticket_options.get("unconfirmed") else uuid.uuid4(),
        confirmed_at=now - (dt.timedelta(minutes=5) if ticket_options.get("confirmed_late") else dt.timedelta(days=1)),
    )

    # when the beat task runs
    created = run_on_commit(services.reminders_create_due)

    # then nothing is sent
    assert created == 0
    assert Notification.objects.count() == 0
    assert mail.outbox == []
    assert Ticket.objects.get(id=ticket.id).cancelled_at == ticket.cancelled_at


def test_cancelled_booking_gets_no_reminder(run_on_commit, lead):
    # given a confirmed ticket, then cancelled by the customer
    contact = ContactFactory()
    ticket = TicketFactory(user_id=contact.user_id)
    run_on_commit(
        deliver,
        types.BOOKING_CANCELLED,
        cancelled_data(booking_id=str(ticket.booking_id), user_id=str(contact.user_id)),
    )

    # when the beat task runs
    created = run_on_commit(services.reminders_create_due)

    # then only the cancellation was e-mailed
    assert created == 0
    assert [notification.kind for notification in Notification.objects.all()] == ["booking_cancelled"]
