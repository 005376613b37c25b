"""Reads of the payment service."""

from __future__ import annotations

import uuid

from django.db.models import Count, QuerySet

from .models import Payment, SimulatedCharge, SimulatedRefund


def payment_list_for_user(*, user_id: uuid.UUID) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def payment_report() -> list[dict]:
    """Every payment with the simulated provider's successful charges and refunds for it.

    Charges are counted by the payment's idempotency key, refunds by the charges they refund;
    both come from the provider's ledger, not from what we recorded.
    """
    payments = list(Payment.objects.order_by("created_at", "id"))
    charges = dict(
        SimulatedCharge.objects.filter(status=SimulatedCharge.Status.SUCCEEDED)
        .values_list("idempotency_key")
        .annotate(count=Count("id"))
    )
    charge_ids: dict[str, str] = dict(
        SimulatedCharge.objects.filter(status=SimulatedCharge.Status.SUCCEEDED).values_list("id", "idempotency_key")
    )
    refunds_by_key: dict[str, int] = {}
    for charge_id, count in SimulatedRefund.objects.values_list("charge_id").annotate(count=Count("id")):
        key = charge_ids.get(charge_id)
        if key is not None:
            refunds_by_key[key] = refunds_by_key.get(key, 0) + count
    return [
        {
            "id": str(payment.id),
            "booking_id": str(payment.booking_id),
            "status": payment.status,
            "amount": payment.amount,
            "currency": payment.currency,
            "charge_count": charges.get(payment.charge_idempotency_key, 0),
            "refund_count": refunds_by_key.get(payment.charge_idempotency_key, 0),
        }
        for payment in payments
    ]
