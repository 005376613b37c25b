"""Races that only a real PostgreSQL can show: concurrent workers, row locks, unique indexes."""

import threading
import time
import uuid

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from common.events import types
from common.events.processing import apply_envelope
from common.events.testing import deliver, make_envelope
from common.testing.infrastructure import require_postgres_database
from notification_service.notifications import services
from notification_service.notifications.models import Contact, Notification

from .factories import ContactFactory, NotificationFactory, payment_failed_data, user_data

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_BACKEND = "notification_service.notifications.tests.test_concurrency.SlowEmailBackend"


class SlowEmailBackend(EmailBackend):
    """An SMTP server that takes a while to accept each message."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def run_in_threads(*functions):
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


@pytest.fixture(autouse=True)
def _postgres(settings):
    require_postgres_database(settings)


def test_two_workers_sending_one_notification_send_one_email(settings):
    # given a pending notification and a slow SMTP server
    settings.EMAIL_BACKEND = SLOW_BACKEND
    notification = NotificationFactory()

    # when two workers pick up its send task at the same moment
    outcomes = run_in_threads(
        lambda: services.notification_deliver(notification_id=notification.id).outcome,
        lambda: services.notification_deliver(notification_id=notification.id).outcome,
    )

    # then one sends it and the other skips the locked row
    assert sorted(outcomes) == ["busy", "sent"]
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)


def test_the_same_fact_under_two_event_ids_at_once_makes_one_notification():
    # given one failed payment published twice (two event ids)
    contact = ContactFactory()
    data = payment_failed_data(user_id=str(contact.user_id))

    # when two consumers apply both copies at the same moment
    outcomes = run_in_threads(
        lambda: deliver(types.PAYMENT_FAILED, data),
        lambda: deliver(types.PAYMENT_FAILED, data),
    )

    # then both are applied but only one notification and one e-mail exist
    assert outcomes == ["applied", "applied"]
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_concurrent_contact_updates_keep_the_newest():
    # given a registration and a later update of one user
    user_id = str(uuid.uuid4())
    older = make_envelope(types.USER_REGISTERED, user_data(user_id=user_id, email="old@example.com"))
    newer = make_envelope(types.USER_UPDATED, user_data(user_id=user_id, email="new@example.com"))

    # when two consumers apply them at the same moment
    run_in_threads(lambda: apply_envelope(newer), lambda: apply_envelope(older))

    # then one contact row holds the newer address
    contact = Contact.objects.get(user_id=user_id)
    assert contact.email == "new@example.com"
    assert Notification.objects.filter(kind="welcome").count() == 1
