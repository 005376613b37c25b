"""The bundled simulated provider: Stripe-style test tokens, a ledger of its own, injectable faults.

Tokens: ``pm_card_visa`` succeeds; ``pm_card_chargeDeclined`` → ``card_declined``;
``pm_card_chargeDeclinedInsufficientFunds`` → ``insufficient_funds``; anything else →
``invalid_payment_method``.

Faults (settings, for fault tests): ``PAYMENT_PROVIDER_LATENCY_MS`` sleeps before answering;
``PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE`` (0.0-1.0) raises ``TransientProviderError`` (before
anything is charged) with that probability, drawn from a generator seeded by
``PAYMENT_PROVIDER_RANDOM_SEED`` when set.

The ledger (``SimulatedCharge``/``SimulatedRefund``, unique on the idempotency key) is written in a
durable transaction of its own: like a remote provider's database it is committed whatever
becomes of the caller's transaction, and calling the provider from inside one of our
transactions fails loudly.
"""

from __future__ import annotations

import logging
import random
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import SimulatedCharge, SimulatedRefund
from .base import ChargeResult, RefundResult, TransientProviderError

logger = logging.getLogger(__name__)

SUCCEEDING_TOKEN = "pm_card_visa"  # noqa: S105 - a public test token
DECLINES = {
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
UNKNOWN_TOKEN_CODE = "invalid_payment_method"  # noqa: S105 - a decline code

_random = random.Random()  # noqa: S311 - fault injection, not cryptography
_seeded_with: object = object()


def _rng() -> random.Random:
    global _seeded_with
    seed = getattr(settings, "PAYMENT_PROVIDER_RANDOM_SEED", None)
    if seed is not None and seed != _seeded_with:
        _random.seed(seed)
        _seeded_with = seed
    return _random


def reseed(seed: int | None) -> None:
    """Restart the fault generator (tests)."""
    global _seeded_with
    _random.seed(seed)
    _seeded_with = seed


def _decline_code(payment_method: str) -> str:
    if payment_method == SUCCEEDING_TOKEN:
        return ""
    return DECLINES.get(payment_method, UNKNOWN_TOKEN_CODE)


Status = SimulatedCharge.Status


def _new_id(prefix: str) -> str:
    return f"{prefix}_sim_{secrets.token_hex(12)}"


def _charge_result(charge: SimulatedCharge) -> ChargeResult:
    return ChargeResult(
        succeeded=charge.status == SimulatedCharge.Status.SUCCEEDED,
        charge_id=charge.id,
        failure_code=charge.failure_code,
    )


class SimulatedProvider:
    def _network(self, operation: str) -> None:
        latency_ms = settings.PAYMENT_PROVIDER_LATENCY_MS
        if latency_ms > 0:
            time.sleep(latency_ms / 1000)
        rate = settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE
        if rate > 0 and _rng().random() < rate:
            logger.warning("simulated provider: transient error on %s", operation)
            raise TransientProviderError(f"simulated provider unavailable during {operation}")

    def charge(self, *, amount_minor: int, currency: str, payment_method: str, idempotency_key: str) -> ChargeResult:
        self._network("charge")
        failure_code = _decline_code(payment_method)
        try:
            # Insert first: the unique key makes the first call with a key the only one that charges,
            # so the usual charge is one statement (no read, no savepoint). Durable: never inside
            # one of our transactions.
            with transaction.atomic(durable=True):
                charge = SimulatedCharge.objects.create(
                    id=_new_id("ch"),
                    idempotency_key=idempotency_key,
                    amount_minor=amount_minor,
                    currency=currency,
                    payment_method=payment_method,
                    status=Status.DECLINED if failure_code else Status.SUCCEEDED,
                    failure_code=failure_code,
                )
        except IntegrityError:
            # The key was used before (a retry, or a concurrent call that won the insert): its
            # charge is the answer, as a real provider replays an idempotent request.
            charge = SimulatedCharge.objects.get(idempotency_key=idempotency_key)
        return _charge_result(charge)

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        self._network("find_charge")
        charge = SimulatedCharge.objects.filter(idempotency_key=idempotency_key).first()
        return None if charge is None else _charge_result(charge)

    def refund(self, *, charge_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        self._network("refund")
        with transaction.atomic(durable=True):
            refund = SimulatedRefund.objects.filter(idempotency_key=idempotency_key).first()
            if refund is None:
                charge = SimulatedCharge.objects.filter(id=charge_id).first()
                if charge is None or charge.status != SimulatedCharge.Status.SUCCEEDED:
                    return RefundResult(succeeded=False, refund_id="", failure_code="charge_not_refundable")
                if amount_minor > charge.amount_minor:
                    return RefundResult(succeeded=False, refund_id="", failure_code="amount_too_large")
                try:
                    with transaction.atomic():
                        refund = SimulatedRefund.objects.create(
                            id=_new_id("re"),
                            idempotency_key=idempotency_key,
                            charge_id=charge_id,
                            amount_minor=amount_minor,
                        )
                except IntegrityError:
                    refund = SimulatedRefund.objects.get(idempotency_key=idempotency_key)
        return RefundResult(succeeded=True, refund_id=refund.id)
