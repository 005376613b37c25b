"""The admin: filters, search by address or user, read-only detail."""

import uuid

import pytest
from django.urls import reverse

from .factories import ContactFactory, NotificationFactory, TicketFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:notifications_notification_changelist"


def listed(response):
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def test_changelist_filters_by_kind_and_status(admin_client):
    welcome = NotificationFactory(kind="welcome", status="sent")
    failed = NotificationFactory(kind="payment_failed", status="failed")
    NotificationFactory(kind="payment_failed", status="sent")

    assert listed(admin_client.get(reverse(CHANGELIST), {"kind__exact": "welcome"})) == {welcome}
    assert listed(
        admin_client.get(reverse(CHANGELIST), {"kind__exact": "payment_failed", "status__exact": "failed"})
    ) == {failed}


@pytest.mark.parametrize("term", ["ada@example", "ADA@EXAMPLE.COM"])
def test_changelist_searches_by_email(admin_client, term):
    ada = NotificationFactory(recipient="ada@example.com")
    NotificationFactory(recipient="grace@example.com")

    assert listed(admin_client.get(reverse(CHANGELIST), {"q": term})) == {ada}


def test_changelist_searches_by_user_id(admin_client):
    user_id = uuid.uuid4()
    mine = NotificationFactory(user_id=user_id)
    NotificationFactory()

    assert listed(admin_client.get(reverse(CHANGELIST), {"q": str(user_id)})) == {mine}


def test_changelist_search_with_a_word_that_is_no_uuid_still_works(admin_client):
    NotificationFactory(recipient="ada@example.com")

    assert listed(admin_client.get(reverse(CHANGELIST), {"q": "nobody"})) == set()


def test_contact_and_ticket_admins_render(admin_client):
    contact = ContactFactory()
    ticket = TicketFactory(user_id=contact.user_id)

    assert admin_client.get(reverse("admin:notifications_contact_changelist"), {"q": contact.email}).status_code == 200
    assert (
        admin_client.get(reverse("admin:notifications_ticket_changelist"), {"q": ticket.reference}).status_code == 200
    )
    assert admin_client.get(reverse("admin:notifications_ticket_change", args=[ticket.id])).status_code == 200


@pytest.mark.parametrize("model", ["notification", "contact", "ticket"])
def test_notifications_contacts_and_tickets_are_shown_but_neither_saved_nor_deleted_by_hand(admin_client, model):
    # given a contact, their ticket and its e-mail
    contact = ContactFactory()
    ticket = TicketFactory(user_id=contact.user_id)
    rows = {"notification": NotificationFactory(user_id=contact.user_id), "contact": contact, "ticket": ticket}
    row = rows[model]
    change = reverse(f"admin:notifications_{model}_change", args=[row.pk])
    assert admin_client.get(change).status_code == 200

    # when staff press Save on its page, or delete it (a deleted contact silenced the user for good)
    saved = admin_client.post(change, {})
    deleted = admin_client.post(reverse(f"admin:notifications_{model}_delete", args=[row.pk]), {"post": "yes"})

    # then both are refused and all three rows are still there
    assert (saved.status_code, deleted.status_code) == (403, 403)
    assert all(type(each).objects.filter(pk=each.pk).exists() for each in rows.values())
