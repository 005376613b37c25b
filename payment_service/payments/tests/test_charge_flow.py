"""The payment side of the booking saga: created → charged once → succeeded/failed; cancelled → refunded once."""

import datetime as dt
import importlib.util
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.events import types
from common.events.envelope import EventSchemaError
from common.events.models import InboxEvent
from common.events.testing import deliver, published
from common.testing.infrastructure import closed_port
from common.testing.pytest_plugin import database_down_until_first_retry
from payment_service.payments import services
from payment_service.payments.models import Payment, SimulatedCharge, SimulatedRefund
from payment_service.payments.providers import TransientProviderError, simulated
from payment_service.payments.tasks import charge_payment, refund_payment, sweep_stuck_payments

from .factories import PaymentFactory, booking_cancelled_data, booking_created_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Deliver an event and run what its transaction queued after commit."""

    def deliver_committed(event_type, data, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(event_type, data, **options)

    return deliver_committed


def charges(payment):
    return list(SimulatedCharge.objects.filter(idempotency_key=f"charge-{payment.id}").values_list("status", flat=True))


def refunds(payment):
    return SimulatedRefund.objects.filter(idempotency_key=f"refund-{payment.id}").count()


def types_published():
    return [envelope["type"] for envelope in published()]


# Created -------------------------------------------------------------------------------------


def test_created_makes_a_pending_payment_and_queues_its_charge(commit, enqueued):
    # given
    data = booking_created_data(amount="12.50", currency="EUR")

    # when
    outcome = commit(types.BOOKING_CREATED, data)

    # then
    assert outcome == "applied"
    payment = Payment.objects.get()
    assert (str(payment.booking_id), str(payment.user_id), payment.amount_minor, payment.currency) == (
        data["booking_id"],
        data["user_id"],
        1250,
        "EUR",
    )
    assert (payment.status, payment.payment_method, payment.attempts) == ("pending", "pm_card_visa", 0)
    assert enqueued.calls == [("charge", str(payment.id))]
    assert published() == []


@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        ("pm_card_visa", "succeeded", ""),
        ("pm_card_chargeDeclined", "failed", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "failed", "insufficient_funds"),
        ("pm_card_whatever", "failed", "invalid_payment_method"),
    ],
)
def test_charge_records_the_outcome_and_publishes_it(commit, enqueued, token, status, reason):
    # given
    data = booking_created_data(payment_method=token, amount="12.50")
    commit(types.BOOKING_CREATED, data)

    # when
    enqueued.run()

    # then
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason, payment.attempts) == (status, reason, 1)
    assert payment.updated_at > payment.created_at
    charge = SimulatedCharge.objects.get(idempotency_key=f"charge-{payment.id}")
    assert payment.provider_charge_id == charge.id
    ids = {"payment_id": str(payment.id), "booking_id": data["booking_id"], "user_id": data["user_id"]}
    if status == "succeeded":
        assert [e["data"] for e in published(types.PAYMENT_SUCCEEDED)] == [
            {**ids, "amount": "12.50", "currency": "EUR"}
        ]
        assert types_published() == [types.PAYMENT_SUCCEEDED]
    else:
        assert [e["data"] for e in published(types.PAYMENT_FAILED)] == [{**ids, "reason": reason}]
        assert types_published() == [types.PAYMENT_FAILED]


def test_published_events_carry_the_sagas_correlation_id(commit, enqueued):
    correlation_id = uuid.uuid4()
    commit(types.BOOKING_CREATED, booking_created_data(), correlation_id=correlation_id)

    enqueued.run()

    assert [e["correlation_id"] for e in published()] == [str(correlation_id)]


def test_created_delivered_three_times_makes_one_payment_and_one_charge(commit, enqueued):
    # given
    data = booking_created_data()

    # when: the same event id twice, then the same fact under a new id
    event_id = uuid.uuid4()
    outcomes = [
        commit(types.BOOKING_CREATED, data, event_id=event_id),
        commit(types.BOOKING_CREATED, data, event_id=event_id),
        commit(types.BOOKING_CREATED, data),
    ]
    enqueued.run()
    charge_payment.apply(args=[str(Payment.objects.get().id)]).get()  # a stray duplicate task too

    # then
    assert outcomes == ["applied", "duplicate", "applied"]
    payment = Payment.objects.get()
    assert payment.status == "succeeded"
    assert charges(payment) == ["succeeded"]
    assert types_published() == [types.PAYMENT_SUCCEEDED]


@pytest.fixture
def unreachable_broker(monkeypatch):
    """Celery publishes to a port nothing listens on, as when RabbitMQ stops."""
    app = charge_payment.app
    # The write URL is the one publishing uses (set from CELERY_BROKER_URL when the app configured).
    monkeypatch.setitem(app.conf, "broker_write_url", f"amqp://guest:guest@127.0.0.1:{closed_port()}//")
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


def test_created_with_the_broker_down_keeps_the_payment_for_the_sweeper(
    django_capture_on_commit_callbacks, unreachable_broker, caplog
):
    # given
    data = booking_created_data()

    # when: the payment commits, then its charge cannot be enqueued
    with django_capture_on_commit_callbacks(execute=True):
        outcome = deliver(types.BOOKING_CREATED, data)

    # then the event counts as applied, the payment waits for the sweeper, and the log says why
    assert outcome == "applied"
    payment = Payment.objects.get(booking_id=data["booking_id"])
    assert (payment.status, payment.attempts) == ("pending", 0)
    assert f"_enqueue_charge for payment {payment.id} failed; the sweeper enqueues it again" in caplog.text
    assert "OperationalError" in caplog.text


def test_zero_decimal_currency_is_stored_in_its_own_minor_units(commit, enqueued):
    commit(types.BOOKING_CREATED, booking_created_data(amount="1500.00", currency="JPY"))
    enqueued.run()

    payment = Payment.objects.get()
    assert (payment.amount_minor, payment.amount) == (1500, "1500")
    assert SimulatedCharge.objects.get().amount_minor == 1500
    assert published(types.PAYMENT_SUCCEEDED)[0]["data"]["amount"] == "1500.00"


def test_an_amount_the_currency_cannot_hold_is_refused_and_changes_nothing(commit, enqueued):
    with pytest.raises(EventSchemaError, match="JPY"):
        commit(types.BOOKING_CREATED, booking_created_data(amount="1500.50", currency="JPY"))

    assert not Payment.objects.exists()
    assert not InboxEvent.objects.exists()
    assert enqueued.calls == []
    assert published() == []


# Transient provider errors and crashes -------------------------------------------------------


def test_transient_errors_are_retried_then_the_charge_succeeds(commit, enqueued, settings, monkeypatch):
    # given: the provider fails twice, then answers
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.5
    draws = iter([0.1, 0.2, 0.9])
    monkeypatch.setattr(simulated._random, "random", lambda: next(draws))
    commit(types.BOOKING_CREATED, booking_created_data())

    # when
    enqueued.run()

    # then
    payment = Payment.objects.get()
    assert (payment.status, payment.attempts) == ("succeeded", 3)
    assert charges(payment) == ["succeeded"]
    assert types_published() == [types.PAYMENT_SUCCEEDED]


def test_a_provider_down_through_every_retry_fails_the_payment(commit, enqueued, settings):
    # given
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 1.0
    settings.PAYMENT_PROVIDER_MAX_RETRIES = 3
    data = booking_created_data()
    commit(types.BOOKING_CREATED, data)

    # when
    enqueued.run()

    # then
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason, payment.attempts) == ("failed", "provider_unavailable", 4)
    assert payment.refund_requested  # to settle: did an attempt that never answered charge?
    assert charges(payment) == []
    assert [e["data"]["reason"] for e in published()] == ["provider_unavailable"]


def _swept_later(settings) -> None:
    """The sweeper's next round, ``PAYMENT_STUCK_AFTER_SECONDS`` after the last change."""
    settings.PAYMENT_STUCK_AFTER_SECONDS = 60
    Payment.objects.update(updated_at=timezone.now() - dt.timedelta(seconds=61))
    sweep_stuck_payments.apply().get()


def test_a_charge_made_before_the_provider_went_down_is_found_and_refunded(commit, enqueued, settings, monkeypatch):
    # given: the provider charged, we lost the answer, and the provider was down for every retry
    commit(types.BOOKING_CREATED, booking_created_data())
    payment = Payment.objects.get()

    def lose_the_database(*args, **kwargs):
        raise ConnectionError("worker lost its database mid-commit")

    with monkeypatch.context() as patch:
        patch.setattr(services, "publish", lose_the_database)
        with pytest.raises(ConnectionError):
            charge_payment.apply(args=[str(payment.id)]).get()
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 1.0
    settings.PAYMENT_PROVIDER_MAX_RETRIES = 2
    charge_payment.apply(args=[str(payment.id)]).get()
    payment.refresh_from_db()
    assert (payment.status, charges(payment)) == ("failed", ["succeeded"])  # failed here, charged there

    # when the provider is back and the sweeper comes round
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.0
    _swept_later(settings)
    enqueued.run()

    # then the charge is found and given back, once
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.provider_charge_id) == (
        "refunded",
        "provider_unavailable",
        SimulatedCharge.objects.get().id,
    )
    assert (charges(payment), refunds(payment)) == (["succeeded"], 1)
    assert types_published() == [types.PAYMENT_FAILED, types.PAYMENT_REFUNDED]
    _swept_later(settings)
    assert enqueued.calls == []


def test_a_payment_given_up_on_that_was_never_charged_is_settled_without_a_refund(commit, enqueued, settings):
    # given a payment given up on, the provider still down when the sweeper first asks
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 1.0
    settings.PAYMENT_PROVIDER_MAX_RETRIES = 1
    commit(types.BOOKING_CREATED, booking_created_data())
    enqueued.run()
    _swept_later(settings)
    enqueued.run()
    payment = Payment.objects.get()
    assert (payment.status, payment.refund_requested) == ("failed", True)  # still to settle

    # when the provider answers at the next round
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.0
    _swept_later(settings)
    enqueued.run()

    # then nothing was charged, nothing refunded, and it is settled for good
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested) == ("failed", False)
    assert (charges(payment), refunds(payment)) == ([], 0)
    assert types_published() == [types.PAYMENT_FAILED]
    _swept_later(settings)
    assert enqueued.calls == []


def test_a_crash_between_the_provider_charge_and_our_commit_charges_once(commit, enqueued, monkeypatch):
    # given: recording the result fails once after the provider has charged
    commit(types.BOOKING_CREATED, booking_created_data())
    payment = Payment.objects.get()
    real_publish = services.publish
    crashes = iter([True])

    def crash_once(*args, **kwargs):
        if next(crashes, False):
            raise ConnectionError("worker lost its database mid-commit")
        return real_publish(*args, **kwargs)

    monkeypatch.setattr(services, "publish", crash_once)

    # when
    with pytest.raises(ConnectionError):
        charge_payment.apply(args=[str(payment.id)]).get()
    payment.refresh_from_db()
    assert (payment.status, charges(payment)) == ("pending", ["succeeded"])  # provider charged, we did not record
    charge_payment.apply(args=[str(payment.id)]).get()  # the redelivered task (acks_late)

    # then
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    assert charges(payment) == ["succeeded"]
    assert types_published() == [types.PAYMENT_SUCCEEDED]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("task", ["charge", "refund"])
def test_a_task_that_meets_its_database_down_is_retried_and_takes_effect_once(
    commit, enqueued, own_database_accepting, task
):
    # given a pending payment (or a paid one whose booking was cancelled), and the service's
    # database refusing connections until the task's first retry
    if task == "charge":
        commit(types.BOOKING_CREATED, booking_created_data())
        payment, run, effects = Payment.objects.get(), charge_payment, ("succeeded", ["succeeded"], 0)
    else:
        created, payment = paid_booking(commit, enqueued)
        commit(types.BOOKING_CANCELLED, booking_cancelled_data(created))
        run, effects = refund_payment, ("refunded", ["succeeded"], 1)
    with database_down_until_first_retry(own_database_accepting) as retried_with:
        # when the task runs
        run.apply(args=[str(payment.id)]).get()

    # then it was retried once, after the database failed it, and took effect once
    assert retried_with == [{}]  # the first run's kwargs; its retry carries database_retries=1
    payment.refresh_from_db()
    assert (payment.status, charges(payment), refunds(payment)) == effects
    expected = [types.PAYMENT_SUCCEEDED] + ([types.PAYMENT_REFUNDED] if task == "refund" else [])
    assert types_published() == expected


@pytest.mark.django_db(transaction=True)
def test_a_charge_whose_database_stays_down_is_left_pending_for_the_sweeper(
    commit, enqueued, own_database_accepting, settings, caplog
):
    # given a pending payment, and its database down through every retry
    settings.PAYMENT_DATABASE_MAX_RETRIES = 2
    commit(types.BOOKING_CREATED, booking_created_data())
    payment = Payment.objects.get()
    own_database_accepting(False)

    # when the charge task runs
    charge_payment.apply(args=[str(payment.id)]).get()

    # then it gave up after its retries without charging, and the payment waits for the sweeper
    own_database_accepting(True)
    assert caplog.text.count("database unavailable") == 2
    assert "the database stayed unavailable; left to the sweeper" in caplog.text
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("pending", 0)
    assert charges(payment) == []
    assert types_published() == []


def test_the_sweeper_requeues_charges_and_refunds_left_untouched(enqueued, settings):
    # given
    settings.PAYMENT_STUCK_AFTER_SECONDS = 60
    old = timezone.now() - dt.timedelta(seconds=61)
    stuck_charge = PaymentFactory()
    stuck_refund = PaymentFactory(status="succeeded", refund_requested=True, provider_charge_id="ch_x")
    fresh = PaymentFactory()
    done = PaymentFactory(status="failed")
    given_up = PaymentFactory(status="failed", failure_reason="provider_unavailable", refund_requested=True, attempts=4)
    Payment.objects.filter(id__in=[stuck_charge.id, stuck_refund.id, done.id, given_up.id]).update(updated_at=old)

    # when
    sweep_stuck_payments.apply().get()
    sweep_stuck_payments.apply().get()  # touched: not swept again straight away

    # then
    assert enqueued.calls == [
        ("charge", str(stuck_charge.id)),
        ("refund", str(stuck_refund.id)),
        ("settle", str(given_up.id)),
    ]
    assert fresh.id not in {uuid.UUID(payment_id) for _, payment_id in enqueued.calls}
    assert published() == []


def test_the_sweeper_runs_as_often_as_the_environment_says(monkeypatch):
    monkeypatch.setenv("PAYMENT_SWEEP_INTERVAL_SECONDS", "2")
    spec = importlib.util.find_spec("payment_service.settings.base")
    fresh = importlib.util.module_from_spec(spec)

    spec.loader.exec_module(fresh)

    assert fresh.CELERY_BEAT_SCHEDULE["payment.payments.sweep_stuck"]["schedule"] == 2.0


# Cancelled -----------------------------------------------------------------------------------


def paid_booking(commit, enqueued) -> tuple[dict, Payment]:
    data = booking_created_data(amount="30.00")
    commit(types.BOOKING_CREATED, data)
    enqueued.run()
    return data, Payment.objects.get(booking_id=data["booking_id"])


def test_cancelled_for_a_paid_booking_delivered_three_times_refunds_once(commit, enqueued):
    # given
    created, payment = paid_booking(commit, enqueued)
    cancelled = booking_cancelled_data(created)
    event_id = uuid.uuid4()

    # when
    outcomes = [
        commit(types.BOOKING_CANCELLED, cancelled, event_id=event_id),
        commit(types.BOOKING_CANCELLED, cancelled, event_id=event_id),
        commit(types.BOOKING_CANCELLED, cancelled),
    ]
    enqueued.run()
    refund_payment.apply(args=[str(payment.id)]).get()  # a stray duplicate task too

    # then
    assert outcomes == ["applied", "duplicate", "applied"]
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert payment.provider_refund_id == SimulatedRefund.objects.get().id
    assert refunds(payment) == 1
    assert charges(payment) == ["succeeded"]
    assert types_published() == [types.PAYMENT_SUCCEEDED, types.PAYMENT_REFUNDED]
    assert published(types.PAYMENT_REFUNDED)[0]["data"] == {
        "payment_id": str(payment.id),
        "booking_id": created["booking_id"],
        "user_id": created["user_id"],
        "amount": "30.00",
        "currency": "EUR",
    }


def test_cancelled_before_created_means_the_late_created_is_never_charged(commit, enqueued):
    # given: out of order
    created = booking_created_data()
    commit(types.BOOKING_CANCELLED, booking_cancelled_data(created, reason="expired"))

    # when
    commit(types.BOOKING_CREATED, created)
    enqueued.run()

    # then
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason, payment.amount_minor, payment.currency) == (
        "failed",
        "booking_cancelled",
        2500,
        "EUR",
    )
    assert enqueued.calls == []
    assert not SimulatedCharge.objects.exists()
    assert published() == []


def test_cancel_before_the_charge_started_charges_nothing(commit, enqueued):
    # given: created, its charge task still queued
    created = booking_created_data()
    commit(types.BOOKING_CREATED, created)

    # when
    commit(types.BOOKING_CANCELLED, booking_cancelled_data(created, reason="expired"))
    enqueued.run()

    # then
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason, payment.refund_requested) == ("failed", "booking_cancelled", True)
    assert not SimulatedCharge.objects.exists()
    assert published() == []


def test_late_success_after_cancel_is_refunded(commit, enqueued, monkeypatch):
    # given: the charge is in flight (attempt counted, provider not answered yet) when the cancel arrives
    created = booking_created_data()
    commit(types.BOOKING_CREATED, created)
    payment = Payment.objects.get()
    real_charge = simulated.SimulatedProvider.charge

    def charge_during_cancel(self, **kwargs):
        commit(types.BOOKING_CANCELLED, booking_cancelled_data(created, reason="expired"))
        return real_charge(self, **kwargs)

    monkeypatch.setattr(simulated.SimulatedProvider, "charge", charge_during_cancel)

    # when
    enqueued.run()

    # then
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert (charges(payment), refunds(payment)) == (["succeeded"], 1)
    assert types_published() == [types.PAYMENT_SUCCEEDED, types.PAYMENT_REFUNDED]


def _cancel_during_the_first_attempt(commit, created, monkeypatch, *, charged: bool) -> None:
    """The first attempt is lost in transit (``charged``: after the provider charged) as the cancel arrives."""
    real_charge = simulated.SimulatedProvider.charge
    calls = []

    def first_attempt_lost(self, **kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            return real_charge(self, **kwargs)
        if charged:
            real_charge(self, **kwargs)
        commit(types.BOOKING_CANCELLED, booking_cancelled_data(created, reason="user_cancelled"))
        raise TransientProviderError("connection reset")

    monkeypatch.setattr(simulated.SimulatedProvider, "charge", first_attempt_lost)


def test_a_cancel_after_an_attempt_that_charged_nothing_is_never_charged(commit, enqueued, settings, monkeypatch):
    # given: the first attempt fails in transit before the provider charged; the user cancels meanwhile
    created = booking_created_data()
    commit(types.BOOKING_CREATED, created)
    _cancel_during_the_first_attempt(commit, created, monkeypatch, charged=False)

    # when the charge task retries
    enqueued.run()

    # then nothing was charged or refunded, and no event tells of a payment
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason, payment.attempts) == ("failed", "booking_cancelled", 1)
    assert (charges(payment), refunds(payment)) == ([], 0)
    assert published() == []

    # and the sweeper, asking the provider again later, settles it for good
    _swept_later(settings)
    enqueued.run()
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested, charges(payment)) == ("failed", False, [])
    _swept_later(settings)
    assert enqueued.calls == []


def test_a_cancel_after_an_attempt_whose_charge_went_through_refunds_that_charge(commit, enqueued, monkeypatch):
    # given: the first attempt charged, its answer lost in transit; the user cancels meanwhile
    created = booking_created_data()
    commit(types.BOOKING_CREATED, created)
    _cancel_during_the_first_attempt(commit, created, monkeypatch, charged=True)

    # when the charge task retries
    enqueued.run()

    # then the charge found under the payment's key is recorded and given back, once
    payment = Payment.objects.get()
    assert payment.status == "refunded"
    assert (charges(payment), refunds(payment)) == (["succeeded"], 1)
    assert types_published() == [types.PAYMENT_SUCCEEDED, types.PAYMENT_REFUNDED]


def test_a_charge_landing_after_its_cancelled_payment_was_failed_is_refunded(
    commit, enqueued, django_capture_on_commit_callbacks
):
    # given a payment failed because its booking was cancelled after an attempt, no charge found then
    created = booking_created_data()
    commit(types.BOOKING_CREATED, created)
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(attempts=1)
    commit(types.BOOKING_CANCELLED, booking_cancelled_data(created, reason="expired"))
    enqueued.run()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == ("failed", "booking_cancelled")

    # when the attempt still in flight elsewhere comes back with a charge
    late = simulated.SimulatedProvider().charge(
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        payment_method=payment.payment_method,
        idempotency_key=payment.charge_idempotency_key,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_record_charge(payment_id=payment.id, succeeded=True, charge_id=late.charge_id)
    enqueued.run()

    # then that charge is refunded, and the booking is told nothing more than the refund
    payment.refresh_from_db()
    assert (payment.status, payment.provider_charge_id) == ("refunded", late.charge_id)
    assert refunds(payment) == 1
    assert types_published() == [types.PAYMENT_REFUNDED]


def test_late_decline_after_cancel_fails_quietly(commit, enqueued, monkeypatch):
    created = booking_created_data(payment_method="pm_card_chargeDeclined")
    commit(types.BOOKING_CREATED, created)
    real_charge = simulated.SimulatedProvider.charge

    def charge_during_cancel(self, **kwargs):
        commit(types.BOOKING_CANCELLED, booking_cancelled_data(created))
        return real_charge(self, **kwargs)

    monkeypatch.setattr(simulated.SimulatedProvider, "charge", charge_during_cancel)

    enqueued.run()

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_reason) == ("failed", "card_declined")
    assert published() == []


@pytest.mark.parametrize("status", ["failed", "refunded"])
def test_cancelled_for_a_failed_or_refunded_payment_changes_nothing(commit, enqueued, status):
    # given
    payment = PaymentFactory(status=status)
    before = Payment.objects.values().get()

    # when
    commit(
        types.BOOKING_CANCELLED,
        {"booking_id": str(payment.booking_id), "user_id": str(payment.user_id), "reason": "user_cancelled"},
    )

    # then
    assert Payment.objects.values().get() == before
    assert enqueued.calls == []
    assert published() == []


def test_refund_survives_transient_errors(commit, enqueued, settings, monkeypatch):
    # given
    created, payment = paid_booking(commit, enqueued)
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 0.5
    draws = iter([0.1, 0.9])
    monkeypatch.setattr(simulated._random, "random", lambda: next(draws))

    # when
    commit(types.BOOKING_CANCELLED, booking_cancelled_data(created))
    enqueued.run()

    # then
    payment.refresh_from_db()
    assert (payment.status, refunds(payment)) == ("refunded", 1)


def test_a_refund_the_provider_cannot_reach_is_left_for_the_sweeper(commit, enqueued, settings):
    created, payment = paid_booking(commit, enqueued)
    settings.PAYMENT_PROVIDER_TRANSIENT_ERROR_RATE = 1.0
    settings.PAYMENT_PROVIDER_MAX_RETRIES = 2

    commit(types.BOOKING_CANCELLED, booking_cancelled_data(created))
    enqueued.run()

    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested, refunds(payment)) == ("succeeded", True, 0)
    assert types_published() == [types.PAYMENT_SUCCEEDED]


@pytest.mark.parametrize("task", [charge_payment, refund_payment], ids=["charge", "refund"])
def test_a_task_for_an_unknown_payment_is_dropped_with_an_error_logged(task, caplog):
    # given a payment id this service never stored (a task from another environment's broker, say)
    payment_id = str(uuid.uuid4())

    # when
    task.apply(args=[payment_id]).get()

    # then it is neither retried nor charged, and the log says which payment
    assert f"{task.name} of unknown payment {payment_id} dropped" in caplog.text
    assert (SimulatedCharge.objects.count(), SimulatedRefund.objects.count(), published()) == (0, 0, [])


def test_applying_a_booking_created_is_one_savepoint_and_its_statements(enqueued):
    # when
    with CaptureQueriesContext(connection) as captured:
        deliver(types.BOOKING_CREATED, booking_created_data())

    # then: the event's own transaction (a savepoint inside the test's) and two inserts; the
    # payment's skips a duplicate (ON CONFLICT) instead of needing a savepoint to catch one
    statements = [query["sql"] for query in captured.captured_queries]
    assert [sql.split()[0] for sql in statements] == [
        "SAVEPOINT",  # the inbox entry's transaction
        "INSERT",  # the inbox entry
        "INSERT",  # the payment
        "RELEASE",
    ]
    assert statements[2].endswith("ON CONFLICT DO NOTHING")


def test_a_charge_counts_its_attempt_in_one_statement_before_it_calls_the_provider(commit, enqueued):
    # given a pending payment
    commit(types.BOOKING_CREATED, booking_created_data())

    # when its charge runs
    with CaptureQueriesContext(connection) as captured:
        enqueued.run()

    # then the attempt is one conditional UPDATE (no transaction around it), before the provider's
    # ledger is written in a transaction of its own
    statements = [query["sql"] for query in captured.captured_queries]
    assert [sql.split()[0] for sql in statements[:4]] == ["UPDATE", "SAVEPOINT", "INSERT", "RELEASE"]
    assert statements[0].split()[1].strip('"') == "payments_payment"
    assert statements[0].rstrip().endswith("RETURNING *")
    assert "payments_simulatedcharge" in statements[2]
    payment = Payment.objects.get()
    assert (payment.status, payment.attempts) == ("succeeded", 1)


def test_without_update_returning_the_attempt_is_counted_under_the_lock(commit, enqueued, monkeypatch):
    # given a database that cannot return rows from an UPDATE (SQLite before 3.35)
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    commit(types.BOOKING_CREATED, booking_created_data())

    # when the charge runs
    with CaptureQueriesContext(connection) as captured:
        enqueued.run()

    # then it counted the attempt with a locked read and an update instead, and charged once
    statements = [query["sql"] for query in captured.captured_queries]
    assert [sql.split()[0] for sql in statements[:4]] == ["SAVEPOINT", "SELECT", "UPDATE", "RELEASE"]
    assert "RETURNING" not in statements[2]  # the attempt's UPDATE
    payment = Payment.objects.get()
    assert (payment.status, payment.attempts, charges(payment)) == ("succeeded", 1, ["succeeded"])
