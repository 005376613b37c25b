import json
from io import StringIO

import pytest
from django.core.management import call_command

from common.events import types
from common.events.testing import deliver
from payment_service.payments.models import Payment

from .factories import PaymentFactory, booking_cancelled_data, booking_created_data

pytestmark = pytest.mark.django_db


def report() -> dict:
    out = StringIO()
    call_command("verify_report", stdout=out)
    return json.loads(out.getvalue())


def test_report_counts_the_providers_charges_and_refunds(enqueued, django_capture_on_commit_callbacks):
    # given: one refunded, one declined, one never charged
    refunded_booking = booking_created_data(amount="12.50")
    declined_booking = booking_created_data(amount="8.00", payment_method="pm_card_chargeDeclined")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(types.BOOKING_CREATED, refunded_booking)
        deliver(types.BOOKING_CREATED, declined_booking)
    enqueued.run()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(types.BOOKING_CANCELLED, booking_cancelled_data(refunded_booking))
    enqueued.run()
    pending = PaymentFactory(amount_minor=1500, currency="JPY")
    refunded = Payment.objects.get(booking_id=refunded_booking["booking_id"])
    declined = Payment.objects.get(booking_id=declined_booking["booking_id"])

    # when
    result = report()

    # then
    assert sorted(result["payments"], key=lambda row: row["amount"]) == sorted(
        [
            {
                "id": str(refunded.id),
                "booking_id": refunded_booking["booking_id"],
                "status": "refunded",
                "amount": "12.50",
                "currency": "EUR",
                "charge_count": 1,
                "refund_count": 1,
            },
            {
                "id": str(declined.id),
                "booking_id": declined_booking["booking_id"],
                "status": "failed",
                "amount": "8.00",
                "currency": "EUR",
                "charge_count": 0,
                "refund_count": 0,
            },
            {
                "id": str(pending.id),
                "booking_id": str(pending.booking_id),
                "status": "pending",
                "amount": "1500",
                "currency": "JPY",
                "charge_count": 0,
                "refund_count": 0,
            },
        ],
        key=lambda row: row["amount"],
    )


def test_report_of_no_payments():
    assert report() == {"payments": []}
