"""What the payment service needs from a payment provider.

Every call carries an idempotency key: the provider returns the first call's result for a key it
has seen, so a retried charge (after a timeout, or a crash between the charge and our commit)
never charges twice. A call is made outside our database transactions: it is a remote side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TransientProviderError(Exception):
    """The provider could not answer (timeout, 5xx, connection refused): retry with the same key."""


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    charge_id: str
    failure_code: str = ""  # card_declined, insufficient_funds, invalid_payment_method, …


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    refund_id: str
    failure_code: str = ""


class PaymentProvider(Protocol):
    def charge(self, *, amount_minor: int, currency: str, payment_method: str, idempotency_key: str) -> ChargeResult:
        """Charge once per key; a declined card is a result, an outage raises TransientProviderError."""
        ...

    def refund(self, *, charge_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        """Refund once per key; raises TransientProviderError when the provider cannot answer."""
        ...

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        """The charge made with this key, or None if none was; raises TransientProviderError when
        the provider cannot answer. It settles whether a call that never answered charged."""
        ...


@lru_cache(maxsize=4)
def _build(path: str) -> PaymentProvider:
    return import_string(path)()


def get_provider() -> PaymentProvider:
    """The provider named by ``settings.PAYMENT_PROVIDER`` (a dotted class path)."""
    return _build(settings.PAYMENT_PROVIDER)
