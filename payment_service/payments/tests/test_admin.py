import pytest
from django.urls import reverse

from common.events.testing import published

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_changelist_filters_by_status_and_searches_by_booking_id(admin_client):
    # given
    wanted = PaymentFactory(status="succeeded")
    PaymentFactory(status="succeeded")
    PaymentFactory(status="failed")
    url = reverse("admin:payments_payment_changelist")

    # when
    by_status = admin_client.get(url, {"status__exact": "succeeded"})
    by_booking = admin_client.get(url, {"q": str(wanted.booking_id)})

    # then
    assert by_status.status_code == by_booking.status_code == 200
    assert by_status.context["cl"].result_count == 2
    assert list(by_booking.context["cl"].result_list) == [wanted]


def test_the_payment_admin_refunds_nothing_itself_so_no_booking_stays_confirmed_unpaid(
    admin_client, enqueued, django_capture_on_commit_callbacks
):
    # given a paid payment (its booking confirmed: booking does not hear payments.payment.refunded)
    paid = PaymentFactory(status="succeeded", provider_charge_id="ch_1")
    url = reverse("admin:payments_payment_changelist")

    # when staff look for a refund action, and post the one that used to be there
    action_form = admin_client.get(url).context["action_form"]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"action": "refund", "_selected_action": [str(paid.id)]})

    # then there is none (a refund goes through cancelling the booking), and nothing was asked of the provider
    assert action_form is None  # no action at all: neither a refund nor a bulk delete
    paid.refresh_from_db()
    assert (paid.status, paid.refund_requested) == ("succeeded", False)
    assert enqueued.calls == []
    assert published() == []


def test_payments_cannot_be_edited_by_hand(admin_client):
    payment = PaymentFactory()

    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403
    response = admin_client.post(reverse("admin:payments_payment_change", args=[payment.id]), {"status": "refunded"})

    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "pending"
