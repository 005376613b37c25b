"""Delivery: retries with backoff on transient SMTP errors, a bound, the admin's resend."""

import datetime as dt
import smtplib
import uuid

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from common.events import types
from common.events.testing import deliver, published
from common.testing.infrastructure import require_postgres_database
from common.testing.locks import row_locked_elsewhere
from common.testing.pytest_plugin import database_down_until_first_retry
from notification_service.notifications import services
from notification_service.notifications.models import Notification
from notification_service.notifications.tasks import resend_stale, send_notification

from .factories import ContactFactory, NotificationFactory, confirmed_data

pytestmark = pytest.mark.django_db

FAKE_SMTP = "notification_service.notifications.tests.test_delivery.FakeSMTPBackend"


class FakeSMTPBackend(BaseEmailBackend):
    """The SMTP server (the outside world): fails with ``error`` for the next ``failures`` sends."""

    failures = 0
    error: Exception = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    calls = 0

    def send_messages(self, email_messages):
        FakeSMTPBackend.calls += 1
        if FakeSMTPBackend.failures:
            FakeSMTPBackend.failures -= 1
            raise FakeSMTPBackend.error
        mail.outbox.extend(email_messages)
        return len(email_messages)


@pytest.fixture
def smtp(settings):
    settings.EMAIL_BACKEND = FAKE_SMTP
    FakeSMTPBackend.failures = 0
    FakeSMTPBackend.calls = 0
    FakeSMTPBackend.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    return FakeSMTPBackend


def test_transient_smtp_failures_are_retried_and_the_email_is_sent(run_on_commit, smtp):
    # given an SMTP server that drops the connection three times
    smtp.failures = 3
    contact = ContactFactory()

    # when a ticket is to be sent
    run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed_data(user_id=str(contact.user_id)))

    # then it was tried four times and sent once
    notification = Notification.objects.get()
    assert smtp.calls == 4
    assert notification.status == "sent"
    assert notification.attempts == 4
    assert notification.sent_at is not None
    assert notification.next_attempt_at is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [contact.email]


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPConnectError(421, b"try later"),
        smtplib.SMTPDataError(451, b"local error"),
        smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"mailbox busy")}),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
    ],
)
def test_transient_errors_schedule_a_retry_with_exponential_backoff(smtp, error):
    # given a pending notification and an SMTP server failing transiently
    smtp.error = error
    smtp.failures = 1
    notification = NotificationFactory()

    # when the task's service tries once
    before = timezone.now()
    delivery = services.notification_deliver(notification_id=notification.id)

    # then a retry is asked for after the base delay, and the attempt is recorded
    assert delivery == services.Delivery(services.DeliveryOutcome.RETRY, retry_in=30)
    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.attempts == 1
    assert notification.last_error.startswith(type(error).__name__)
    assert before + dt.timedelta(seconds=30) <= notification.next_attempt_at
    assert mail.outbox == []


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no such user")}),
        smtplib.SMTPDataError(554, b"rejected"),
        smtplib.SMTPAuthenticationError(535, b"bad credentials"),
    ],
)
def test_permanent_smtp_errors_fail_at_once(smtp, error):
    smtp.error = error
    smtp.failures = 1
    notification = NotificationFactory()

    send_notification.apply(args=[str(notification.id)])

    notification.refresh_from_db()
    assert smtp.calls == 1
    assert notification.status == "failed"
    assert notification.attempts == 1
    assert notification.last_error.startswith(type(error).__name__)
    assert mail.outbox == []


@pytest.mark.parametrize(
    "error", [RuntimeError("the backend broke"), KeyError("template variable")], ids=["runtime-error", "key-error"]
)
def test_a_send_that_raises_anything_else_fails_the_row_instead_of_leaving_it_to_be_sent_for_ever(smtp, error):
    # given a backend that raises something that is not a network or SMTP error
    smtp.error = error
    smtp.failures = 1
    notification = NotificationFactory()
    services.Notification.objects.filter(pk=notification.pk).update(updated_at=timezone.now() - dt.timedelta(hours=1))

    # when the send task runs
    send_notification.apply(args=[str(notification.id)])

    # then the attempt is recorded and the row failed, with its error, for staff to resend
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert notification.last_error == f"{type(error).__name__}: {error}"
    assert mail.outbox == []
    # and the stale sweep leaves it alone
    assert services.notifications_enqueue_stale() == 0


def test_backoff_doubles_up_to_the_cap(settings):
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "SEND_RETRY_BACKOFF_SECONDS": 30,
        "SEND_RETRY_BACKOFF_MAX_SECONDS": 300,
    }

    assert [services.retry_delay(attempt) for attempt in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_smtp_failing_for_good_fails_after_the_retries_and_shows_in_the_admin(run_on_commit, smtp, admin_client):
    # given an SMTP server that never accepts the message
    smtp.failures = 1000
    contact = ContactFactory()

    # when a ticket is to be sent
    run_on_commit(deliver, types.BOOKING_CONFIRMED, confirmed_data(user_id=str(contact.user_id)))

    # then one try plus five retries were made, and the notification is failed
    notification = Notification.objects.get()
    assert smtp.calls == 6
    assert notification.status == "failed"
    assert notification.attempts == 6
    assert notification.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert notification.sent_at is None
    assert mail.outbox == []

    # and staff find it in the admin by its status
    response = admin_client.get(reverse("admin:notifications_notification_changelist"), {"status__exact": "failed"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [notification]
    detail = admin_client.get(reverse("admin:notifications_notification_change", args=[notification.id]))
    assert detail.status_code == 200
    assert b"SMTPServerDisconnected: Connection unexpectedly closed" in detail.content


def test_admin_resend_sends_a_failed_notification_again(run_on_commit, smtp, admin_client):
    # given a failed notification, and SMTP working again
    notification = NotificationFactory(
        status="failed", attempts=6, last_error="SMTPServerDisconnected: Connection unexpectedly closed"
    )

    # when staff resend it from the admin
    response = run_on_commit(
        admin_client.post,
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(notification.id)]},
    )

    # then it goes through the same delivery and is sent
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.attempts == 1
    assert notification.last_error == ""
    assert [message.to for message in mail.outbox] == [[notification.recipient]]
    assert published() == []


def test_admin_resend_goes_to_the_address_the_user_has_now(run_on_commit, smtp, admin_client):
    # given a notification that failed for good at an address the user has corrected since
    contact = ContactFactory(email="fixed@example.com", full_name="Ada")
    notification = NotificationFactory(user_id=contact.user_id, recipient="typo@exmaple.com", status="failed")

    # when staff resend it
    run_on_commit(
        admin_client.post,
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(notification.id)]},
    )

    # then it is rendered for the contact as it is and sent there
    notification.refresh_from_db()
    assert (notification.status, notification.recipient) == ("sent", "fixed@example.com")
    assert [message.to for message in mail.outbox] == [["fixed@example.com"]]


@pytest.mark.parametrize(
    ("kind", "status", "ticket", "outcome"),
    [
        ("welcome", "pending", None, "already on its way"),
        ("booking_confirmed", "sent", {"cancelled_at": timezone.now()}, "its booking was cancelled since"),
        ("showtime_reminder", "sent", {"starts_at": timezone.now() - dt.timedelta(minutes=5)}, "the show has begun"),
    ],
    ids=["pending", "ticket-of-a-cancelled-booking", "reminder-after-the-start"],
)
def test_admin_resend_leaves_what_would_be_sent_twice_or_say_something_untrue(
    run_on_commit, smtp, admin_client, kind, status, ticket, outcome
):
    # given a notification that is on its way, or no longer true
    from .factories import TicketFactory

    booking_id = uuid.uuid4()
    if ticket is not None:
        TicketFactory(booking_id=booking_id, **ticket)
    notification = NotificationFactory(kind=kind, status=status, booking_id=booking_id, attempts=1)

    # when staff resend it
    response = run_on_commit(
        admin_client.post,
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(notification.id)]},
        follow=True,
    )

    # then it is left as it was, and the admin says why
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (status, 1)
    assert mail.outbox == []
    assert f"{notification.subject}: not sent again, {outcome}." in [str(m) for m in response.context["messages"]]


def test_send_task_does_nothing_for_a_sent_notification(smtp):
    notification = NotificationFactory(status="sent", attempts=1, sent_at=timezone.now())

    result = send_notification.apply(args=[str(notification.id)])

    assert result.get() == "done"
    assert smtp.calls == 0
    notification.refresh_from_db()
    assert notification.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_another_worker_is_sending_is_left_to_it(smtp, settings):
    require_postgres_database(settings)  # row locks: SQLite locks the whole file
    # given a pending notification whose row another worker holds while it sends
    notification = NotificationFactory(recipient="a@example.com")

    with row_locked_elsewhere(Notification, notification.id):
        # when this worker's send task runs meanwhile
        outcome = send_notification.apply(args=[str(notification.id)]).get()

    # then it neither waits for the lock nor sends a second copy
    assert (outcome, smtp.calls) == ("busy", 0)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 0)


def test_a_sent_notification_records_its_attempt_and_when_it_went(smtp):
    # given a pending notification, last touched an hour ago
    notification = NotificationFactory(recipient="a@example.com")
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    Notification.objects.filter(id=notification.id).update(updated_at=an_hour_ago)

    # when it is sent
    assert send_notification.apply(args=[str(notification.id)]).get() == "sent"

    # then the row says so, and when
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.next_attempt_at) == ("sent", 1, None)
    assert notification.sent_at is not None
    assert notification.updated_at > an_hour_ago + dt.timedelta(minutes=59)
    assert len(mail.outbox) == 1


def test_send_task_for_an_unknown_id_is_a_no_op(smtp):
    assert send_notification.apply(args=[str(uuid.uuid4())]).get() == "missing"
    assert smtp.calls == 0


def test_development_default_writes_the_email_to_a_file(settings, tmp_path):
    # given the file backend of the development default
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    notification = NotificationFactory(recipient="ada@example.com", subject="Welcome to Movie Tickets")

    # when it is sent
    send_notification.apply(args=[str(notification.id)])

    # then the whole message is in a file
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    content = files[0].read_text()
    assert "To: ada@example.com" in content
    assert "Subject: Welcome to Movie Tickets" in content
    assert f"X-Notification-Id: {notification.id}" in content


def test_stale_pending_notifications_are_enqueued_again(run_on_commit, smtp):
    # given a pending notification whose task was lost long ago, and a fresh one
    stale = NotificationFactory()
    fresh = NotificationFactory()
    Notification.objects.filter(id=stale.id).update(updated_at=timezone.now() - dt.timedelta(hours=1))

    # when the sweep runs
    result = run_on_commit(resend_stale.apply)

    # then only the stale one is sent
    assert result.get() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "sent"
    assert fresh.status == "pending"
    assert len(mail.outbox) == 1


def test_the_sweep_releases_a_notification_that_missed_its_users_contact(run_on_commit, smtp):
    # given a notification created while its user's contact was, each blind to the other
    contact = ContactFactory(email="grace@example.com")
    missed = NotificationFactory(user_id=contact.user_id, recipient="")
    still_unknown = NotificationFactory(recipient="")
    Notification.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))

    # when the sweep runs
    run_on_commit(resend_stale.apply)

    # then it is addressed and sent; a user with no contact yet still waits
    missed.refresh_from_db()
    still_unknown.refresh_from_db()
    assert (missed.status, missed.recipient) == ("sent", "grace@example.com")
    assert (still_unknown.status, still_unknown.recipient) == ("pending", "")
    assert [message.to for message in mail.outbox] == [["grace@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_a_send_that_meets_its_database_down_is_retried_and_sent_once(smtp, own_database_accepting):
    # given a pending ticket, and the service's database refusing connections until the first retry
    notification = NotificationFactory()
    with database_down_until_first_retry(own_database_accepting) as retried_with:
        # when its task runs
        send_notification.apply(args=[str(notification.id)]).get()

    # then it was retried once, after the database failed it, and the message left once
    assert retried_with == [{}]  # the first run's kwargs; its retry carries database_retries=1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1
    assert smtp.calls == 1


@pytest.mark.django_db(transaction=True)
def test_a_send_whose_database_stays_down_is_left_pending_for_the_stale_sweep(
    smtp, own_database_accepting, settings, caplog
):
    # given a pending ticket, and its database down through every retry
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DATABASE_MAX_RETRIES": 2}
    notification = NotificationFactory()
    own_database_accepting(False)

    # when its task runs
    send_notification.apply(args=[str(notification.id)]).get()

    # then it gave up after its retries without sending, and the notification is still pending
    own_database_accepting(True)
    assert caplog.text.count("database unavailable") == 2
    assert "the database stayed unavailable; left to resend_stale" in caplog.text
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 0)
    assert mail.outbox == []
    assert smtp.calls == 0
