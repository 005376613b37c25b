import uuid

import pytest
from django.db import transaction

from payment_service.payments.models import SimulatedCharge, SimulatedRefund
from payment_service.payments.providers import ChargeResult, TransientProviderError
from payment_service.payments.providers.simulated import SimulatedProvider, reseed

pytestmark = pytest.mark.django_db


def charge(payment_method="pm_card_visa", key=None, amount_minor=1250):
    return SimulatedProvider().charge(
        amount_minor=amount_minor,
        currency="EUR",
        payment_method=payment_method,
        idempotency_key=key or f"charge-{uuid.uuid4()}",
    )


@pytest.mark.parametrize(
    ("token", "succeeded", "code"),
    [
        ("pm_card_visa", True, ""),
        ("pm_card_chargeDeclined", False, "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", False, "insufficient_funds"),
        ("pm_card_unknown", False, "invalid_payment_method"),
        ("tok_visa", False, "invalid_payment_method"),
    ],
)
def test_each_test_token(token, succeeded, code):
    # when
    result = charge(token, key="charge-token-test")

    # then
    assert result.succeeded is succeeded
    assert result.failure_code == code
    row = SimulatedCharge.objects.get(idempotency_key="charge-token-test")
    assert (row.id, row.status, row.failure_code, row.amount_minor) == (
        result.charge_id,
        "succeeded" if succeeded else "declined",
        code,
        1250,
    )


def test_same_idempotency_key_returns_the_same_charge_and_charges_once():
    # given
    first = charge(key="charge-same")

    # when
    again = charge(key="charge-same", amount_minor=9999)

    # then
    assert again == first
    assert SimulatedCharge.objects.filter(idempotency_key="charge-same").count() == 1


def test_a_new_charge_is_one_insert(django_assert_num_queries):
    # when / then: the insert, in its own transaction (a savepoint inside the test's): no read first
    with django_assert_num_queries(3) as captured:
        charge(key="charge-one-insert")

    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["SAVEPOINT", "INSERT", "RELEASE"]


def test_a_declined_key_stays_declined():
    first = charge("pm_card_chargeDeclined", key="charge-declined")
    assert charge("pm_card_visa", key="charge-declined") == first


def test_refund_is_idempotent_per_key():
    # given
    charged = charge()
    provider = SimulatedProvider()

    # when
    first = provider.refund(charge_id=charged.charge_id, amount_minor=1250, idempotency_key="refund-1")
    again = provider.refund(charge_id=charged.charge_id, amount_minor=1250, idempotency_key="refund-1")

    # then
    assert first.succeeded is True
    assert again == first
    assert list(SimulatedRefund.objects.values_list("id", "charge_id", "amount_minor")) == [
        (first.refund_id, charged.charge_id, 1250)
    ]


@pytest.mark.parametrize("token", ["pm_card_chargeDeclined", None])
def test_refund_of_a_declined_or_unknown_charge_is_refused(token):
    charge_id = charge(token).charge_id if token else "ch_unknown"
    result = SimulatedProvider().refund(charge_id=charge_id, amount_minor=1250, idempotency_key="refund-x")
    assert result.succeeded is False
    assert result.failure_code == "charge_not_refundable"
    assert not SimulatedRefund.objects.exists()


def test_transient_errors_follow_the_rate_and_charge_nothing(settings):
    # given
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 1.0

    # when / then
    with pytest.raises(TransientProviderError):
        charge(key="charge-outage")
    assert not SimulatedCharge.objects.exists()


def test_seeded_faults_repeat(settings):
    # given
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.5

    def outcomes():
        reseed(42)
        results = []
        for _ in range(20):
            try:
                results.append(isinstance(charge(), ChargeResult))
            except TransientProviderError:
                results.append(False)
        return results

    # when
    first, second = outcomes(), outcomes()

    # then
    assert first == second
    assert True in first
    assert False in first


def test_latency_setting_delays_the_answer(settings):
    import time

    settings.PAYMENT_PROVIDER_LATENCY_MS = 50
    started = time.monotonic()
    charge()
    assert time.monotonic() - started >= 0.05


def test_the_provider_refuses_to_run_inside_our_transaction():
    # The ledger stands for a remote system: it must never share (and roll back with) our transaction.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        charge()
