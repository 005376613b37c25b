"""Races between workers, on real transactions (and real PostgreSQL row locks where marked)."""

import threading

import pytest
from django.db import connection

from common.events import types
from common.events.testing import deliver, published
from common.testing.infrastructure import require_postgres_database
from payment_service.payments import services
from payment_service.payments.models import Payment, SimulatedCharge, SimulatedRefund
from payment_service.payments.services import payment_charge
from payment_service.payments.tasks import charge_payment

from .factories import booking_cancelled_data, booking_created_data


def run_in_threads(*functions) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(functions))

    def run(function):
        try:
            barrier.wait(timeout=10)
            function()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_a_committed_provider_charge_is_retried_into_one_charge(enqueued, monkeypatch):
    # given: the provider's ledger commits for real, then our recording transaction rolls back
    deliver(types.BOOKING_CREATED, booking_created_data())
    payment = Payment.objects.get()
    real_publish = services.publish
    crashes = iter([True])

    def crash_once(*args, **kwargs):
        if next(crashes, False):
            raise ConnectionError("worker killed before commit")
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(services, "publish", crash_once)

    # when
    with pytest.raises(ConnectionError):
        charge_payment.apply(args=[str(payment.id)]).get()
    assert Payment.objects.get().status == "pending"
    assert SimulatedCharge.objects.filter(idempotency_key=f"charge-{payment.id}").count() == 1
    charge_payment.apply(args=[str(payment.id)]).get()

    # then
    assert Payment.objects.get().status == "succeeded"
    assert SimulatedCharge.objects.filter(idempotency_key=f"charge-{payment.id}").count() == 1
    assert [e["type"] for e in published()] == [types.PAYMENT_SUCCEEDED]


@pytest.mark.django_db(transaction=True)
def test_concurrent_charge_tasks_charge_once(settings, enqueued):
    # given
    require_postgres_database(settings)
    settings.PAYMENT_PROVIDER_LATENCY_MS = 50  # keep the calls overlapping
    deliver(types.BOOKING_CREATED, booking_created_data())
    payment_id = Payment.objects.get().id

    # when
    errors = run_in_threads(*[lambda: payment_charge(payment_id=payment_id)] * 8)

    # then
    assert errors == []
    assert Payment.objects.get().status == "succeeded"
    assert SimulatedCharge.objects.count() == 1
    assert [e["type"] for e in published()] == [types.PAYMENT_SUCCEEDED]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_created_make_one_payment(settings, enqueued):
    require_postgres_database(settings)
    data = booking_created_data()

    errors = run_in_threads(*[lambda: deliver(types.BOOKING_CREATED, data)] * 8)

    assert errors == []
    assert Payment.objects.count() == 1
    assert enqueued.calls == [("charge", str(Payment.objects.get().id))]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(5))
def test_created_racing_cancelled_never_leaves_a_charge_unrefunded(settings, enqueued, repeat):
    # given
    require_postgres_database(settings)
    created = booking_created_data()

    # when: both events at once, then whatever they queued
    errors = run_in_threads(
        lambda: deliver(types.BOOKING_CREATED, created),
        lambda: deliver(types.BOOKING_CANCELLED, booking_cancelled_data(created)),
    )
    enqueued.run()

    # then
    assert errors == []
    payment = Payment.objects.get()
    charged = SimulatedCharge.objects.filter(status="succeeded").count()
    refunded = SimulatedRefund.objects.count()
    assert (payment.status, charged, refunded) in {("failed", 0, 0), ("refunded", 1, 1)}, (payment.status, repeat)
