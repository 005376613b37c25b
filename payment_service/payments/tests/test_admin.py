import pytest
from django.urls import reverse

from common.events import types
from common.events.testing import published
from payment_service.payments.models import Payment

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


def test_refund_action_uses_the_refund_service(admin_client, enqueued, django_capture_on_commit_callbacks):
    # given
    paid = PaymentFactory(status="succeeded", provider_charge_id="ch_1")
    pending = PaymentFactory()
    failed = PaymentFactory(status="failed", failure_reason="card_declined")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:payments_payment_changelist"),
            {"action": "refund", "_selected_action": [str(paid.id), str(pending.id), str(failed.id)]},
            follow=True,
        )

    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Refund requested for 2 payment(s).",
        "1 failed or refunded payment(s) skipped.",
    ]
    assert enqueued.calls == [("refund", str(paid.id))]
    assert set(Payment.objects.filter(refund_requested=True).values_list("id", flat=True)) == {paid.id, pending.id}
    assert published() == []


def test_refund_action_then_the_worker_refunds(admin_client, enqueued, django_capture_on_commit_callbacks):
    from payment_service.payments.providers.simulated import SimulatedProvider

    charge = SimulatedProvider().charge(
        amount_minor=2500, currency="EUR", payment_method="pm_card_visa", idempotency_key="charge-admin"
    )
    paid = PaymentFactory(status="succeeded", provider_charge_id=charge.charge_id)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:payments_payment_changelist"), {"action": "refund", "_selected_action": [str(paid.id)]}
        )

    enqueued.run()

    paid.refresh_from_db()
    assert paid.status == "refunded"
    assert [e["type"] for e in published()] == [types.PAYMENT_REFUNDED]


def test_payments_cannot_be_edited_by_hand(admin_client):
    payment = PaymentFactory()

    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403
    response = admin_client.post(reverse("admin:payments_payment_change", args=[payment.id]), {"status": "refunded"})

    assert response.status_code == 403
    payment.refresh_from_db()
    assert payment.status == "pending"
