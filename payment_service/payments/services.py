"""Every write of the payment service.

A charge or a refund is three steps, so that no database transaction (and no row lock) is held
across a remote call and the provider's effect survives whatever happens to ours:

1. lock the payment, decide whether to call the provider, count the attempt, commit (for a
   charge, usually one conditional UPDATE: ``_count_charge_attempt``);
2. call the provider with the payment's idempotency key (outside any transaction);
3. lock the payment again and record the result with its event, unless it is already recorded.

A crash or a rollback after step 2 leaves the payment pending: the retried task (or the sweeper)
calls the provider again with the same key and gets the same charge back, so a booking is
charged at most once whatever is retried or redelivered.

Giving up on a provider that stays down fails the payment without knowing whether an attempt
that never answered charged: the sweeper later asks the provider (``payment_settle_given_up``),
and a charge found then, or reported by a webhook, is refunded.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.db.inserts import insert_rows
from common.db.selects import select_row
from common.db.updates import update_row
from common.events import types
from common.events.publisher import publish

from .models import Payment, ProviderWebhookEvent
from .money import to_event_amount, to_minor
from .providers import get_provider

logger = logging.getLogger(__name__)

BOOKING_CANCELLED_REASON = "booking_cancelled"
PROVIDER_UNAVAILABLE_REASON = "provider_unavailable"


def _enqueue_charge(payment_id: uuid.UUID) -> None:
    from .tasks import charge_payment

    charge_payment.delay(str(payment_id))


def _enqueue_refund(payment_id: uuid.UUID) -> None:
    from .tasks import refund_payment

    refund_payment.delay(str(payment_id))


def _enqueue_settle(payment_id: uuid.UUID) -> None:
    from .tasks import settle_given_up_payment

    settle_given_up_payment.delay(str(payment_id))


def _after_commit(function, payment_id: uuid.UUID) -> None:
    transaction.on_commit(partial(_enqueue_or_leave_to_sweeper, function, payment_id))


def _enqueue_or_leave_to_sweeper(function, payment_id: uuid.UUID) -> None:
    """A broker that is down must not undo or fail the committed change: the sweeper re-enqueues
    whatever stays pending (``PAYMENT_STUCK_AFTER_SECONDS``).

    Not ``on_commit(robust=True)``: Django 5.2 names the failed callback by its ``__qualname__``,
    which a ``partial`` lacks, so the AttributeError escaped into the consumer, which then retried
    an event it had already applied and hid the broker's error.
    """
    try:
        function(payment_id)
    except Exception:
        logger.warning(
            "%s for payment %s failed; the sweeper enqueues it again", function.__name__, payment_id, exc_info=True
        )


def _locked(payment_id: uuid.UUID | str) -> Payment:
    payment = select_row(Payment, payment_id, for_update=True)  # every step of a charge or refund starts here
    if payment is None:
        raise Payment.DoesNotExist(f"no payment {payment_id}")
    return payment


def _event_data(payment: Payment) -> dict:
    return {"payment_id": payment.id, "booking_id": payment.booking_id, "user_id": payment.user_id}


def _publish(payment: Payment, event_type: str, **data) -> None:
    publish(
        event_type,
        {**_event_data(payment), **data},
        aggregate_id=payment.id,
        correlation_id=payment.correlation_id,
    )


# Booking events ------------------------------------------------------------------------------


# Called in the transaction of the event's inbox entry: no savepoint of its own (two round trips
# per booking); whatever it raises rolls the whole event back, and the consumer retries it.
@transaction.atomic(savepoint=False)
def payment_create_for_booking(
    *,
    booking_id: uuid.UUID | str,
    user_id: uuid.UUID | str,
    amount: str,
    currency: str,
    payment_method: str,
    correlation_id: uuid.UUID | None = None,
) -> tuple[Payment, bool]:
    """The payment of a new booking, pending and queued for charging; idempotent on ``booking_id``.

    Returns ``(payment, created)``. If the booking's cancellation arrived first, the placeholder it
    left is completed with the amount and stays failed: nothing is charged.
    Raises ``money.InvalidAmountError`` for an amount the currency cannot hold.
    """
    amount_minor = to_minor(amount, currency)
    details = {"user_id": user_id, "amount_minor": amount_minor, "currency": currency, "payment_method": payment_method}
    payment = Payment(booking_id=booking_id, correlation_id=correlation_id, **details)
    # Every booking's payment: one statement, no query compiler and no savepoint. A payment of
    # this booking already there (a redelivery, the cancellation's placeholder) is left as it is.
    if insert_rows([payment], ignore_conflicts=True):
        _after_commit(_enqueue_charge, payment.id)
        return payment, True
    payment = Payment.objects.select_for_update().get(booking_id=booking_id)
    is_placeholder = payment.failure_reason == BOOKING_CANCELLED_REASON and not payment.currency
    if payment.status == Payment.Status.FAILED and is_placeholder:
        for field, value in details.items():
            setattr(payment, field, value)
        payment.correlation_id = payment.correlation_id or correlation_id
        payment.save(update_fields=[*details, "correlation_id", "updated_at"])
    return payment, False


@transaction.atomic
def payment_cancel_for_booking(*, booking_id: uuid.UUID | str, user_id: uuid.UUID | str) -> Payment:
    """The booking was cancelled: refund its payment (now, or once an in-flight charge succeeds).

    A cancellation that arrives before the booking's created event leaves a placeholder payment
    (failed, ``booking_cancelled``) so that the late created event never charges.
    """
    payment = Payment.objects.select_for_update().filter(booking_id=booking_id).first()
    if payment is None:
        try:
            with transaction.atomic():
                return Payment.objects.create(
                    booking_id=booking_id,
                    user_id=user_id,
                    status=Payment.Status.FAILED,
                    failure_reason=BOOKING_CANCELLED_REASON,
                    refund_requested=True,
                )
        except IntegrityError:
            # The created event is being applied concurrently: act on its payment instead.
            payment = Payment.objects.select_for_update().get(booking_id=booking_id)
    return payment_refund_request(payment_id=payment.id)


@transaction.atomic
def payment_refund_request(*, payment_id: uuid.UUID | str) -> Payment:
    """Ask for the refund of a payment: queued now if it succeeded, remembered if still pending.

    The one entry point for refunds (booking cancellations and the admin action). Failed and
    refunded payments have nothing to refund and are left as they are.
    """
    payment = _locked(payment_id)
    if payment.status not in (Payment.Status.PENDING, Payment.Status.SUCCEEDED):
        return payment
    if not payment.refund_requested:
        payment.refund_requested = True
        payment.save(update_fields=["refund_requested", "updated_at"])
    if payment.status == Payment.Status.SUCCEEDED:
        _after_commit(_enqueue_refund, payment.id)
    return payment


# Charging ------------------------------------------------------------------------------------


def payment_charge(*, payment_id: uuid.UUID | str) -> Payment:
    """Charge a pending payment once. Raises ``TransientProviderError`` for the task to retry."""
    payment = _count_charge_attempt(payment_id)
    if payment is None:
        # Not counted in one statement: decided under the row's lock.
        with transaction.atomic():
            payment = _locked(payment_id)
            if payment.status != Payment.Status.PENDING:
                return payment
            if payment.refund_requested and payment.attempts == 0:
                # Cancelled before the provider was ever asked: nothing to charge, nothing to refund.
                payment.status = Payment.Status.FAILED
                payment.failure_reason = BOOKING_CANCELLED_REASON
                payment.save(update_fields=["status", "failure_reason", "updated_at"])
                return payment
            if not payment.refund_requested:
                payment.attempts += 1
                update_row(payment, ["attempts", "updated_at"])
        if payment.refund_requested:
            return _settle_cancelled_charge(payment)

    result = get_provider().charge(
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        payment_method=payment.payment_method,
        idempotency_key=payment.charge_idempotency_key,
    )
    return payment_record_charge(
        payment_id=payment.id, succeeded=result.succeeded, charge_id=result.charge_id, failure_code=result.failure_code
    )


def _count_charge_attempt(payment_id: uuid.UUID | str) -> Payment | None:
    """Step 1 of a charge: count the attempt of a payment that is to be charged, in one statement.

    Returns the payment as it now is, or None if it did not count it (gone, no longer pending,
    its booking cancelled, or a database without ``UPDATE … RETURNING``: SQLite before
    3.35), for the caller to decide under the row's lock. The UPDATE takes the row's lock and
    checks its conditions on the newest version of the row, as the locked read and the update do;
    alone, in autocommit, it is one round trip where they are four (BEGIN, SELECT … FOR UPDATE,
    UPDATE, COMMIT), on the charge of every booking.
    """
    if not connection.features.can_return_columns_from_insert:  # the same versions return from UPDATE
        return None
    meta = Payment._meta
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    attempts, updated, status, refund = (
        quote(meta.get_field(name).column) for name in ("attempts", "updated_at", "status", "refund_requested")
    )
    sql = f"""
        UPDATE {table} SET {attempts} = {attempts} + 1, {updated} = %s
        WHERE {key} = %s AND {status} = %s AND NOT {refund}
        RETURNING *
    """  # noqa: S608 - the model's names; every value is a parameter
    updated_at = meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)  # naive UTC on SQLite
    params = [updated_at, meta.pk.get_db_prep_value(payment_id, connection), Payment.Status.PENDING.value]
    return next(iter(Payment.objects.raw(sql, params)), None)


@transaction.atomic
def payment_record_charge(
    *, payment_id: uuid.UUID | str, succeeded: bool, charge_id: str, failure_code: str = ""
) -> Payment:
    """Record the outcome of the charge, once: whatever comes later (a retry, a webhook) is a no-op."""
    payment = _locked(payment_id)
    if payment.status != Payment.Status.PENDING:
        if succeeded and _given_up(payment):
            _refund_late_charge(payment, charge_id)
        return payment
    payment.provider_charge_id = charge_id
    if succeeded:
        payment.status = Payment.Status.SUCCEEDED
        payment.failure_reason = ""
        update_row(payment, ["status", "failure_reason", "provider_charge_id", "updated_at"])
        _publish(
            payment,
            types.PAYMENT_SUCCEEDED,
            amount=to_event_amount(payment.amount_minor, payment.currency),
            currency=payment.currency,
        )
        if payment.refund_requested:
            # The booking was cancelled (or expired) while the charge was in flight.
            _after_commit(_enqueue_refund, payment.id)
        return payment
    _fail(payment, failure_code or "card_declined")
    update_row(payment, ["status", "failure_reason", "provider_charge_id", "updated_at"])
    return payment


def _settle_cancelled_charge(payment: Payment) -> Payment:
    """A pending payment whose booking was cancelled after an attempt: an attempt may have charged.

    Never start a charge now (the attempt that failed in transit, or died with its worker, may
    have charged nothing, and the user has cancelled): ask the provider for the charge under the
    payment's key. One found is recorded as the attempt's answer (a success then refunded at
    once, as a late success is); none found fails the payment as given up on, so that a charge
    still in flight elsewhere is refunded when it lands or when the sweeper asks again.
    """
    result = get_provider().find_charge(idempotency_key=payment.charge_idempotency_key)
    if result is not None:
        return payment_record_charge(
            payment_id=payment.id,
            succeeded=result.succeeded,
            charge_id=result.charge_id,
            failure_code=result.failure_code,
        )
    with transaction.atomic():
        payment = _locked(payment.id)
        if payment.status == Payment.Status.PENDING and payment.refund_requested:
            payment.status = Payment.Status.FAILED
            payment.failure_reason = BOOKING_CANCELLED_REASON
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
    return payment


def _fail(payment: Payment, reason: str) -> None:
    payment.status = Payment.Status.FAILED
    payment.failure_reason = reason
    if not payment.refund_requested:
        # A booking already cancelled needs no answer; telling its user "payment failed" is noise.
        _publish(payment, types.PAYMENT_FAILED, reason=reason)


@transaction.atomic
def payment_charge_give_up(*, payment_id: uuid.UUID | str) -> Payment:
    """The provider stayed unavailable through every retry: the payment fails.

    An attempt that never answered may still have charged (we lost our database after the
    provider's answer, or a real provider timed out after charging): ``refund_requested`` marks
    the payment for the sweeper to settle with the provider, and refund what it finds.
    """
    payment = _locked(payment_id)
    if payment.status != Payment.Status.PENDING:
        return payment
    _fail(payment, PROVIDER_UNAVAILABLE_REASON)
    payment.refund_requested = True
    payment.save(update_fields=["status", "failure_reason", "refund_requested", "updated_at"])
    return payment


# Failed after an attempt, with no charge of the provider's on record (the provider stayed down,
# or the booking was cancelled while an attempt's answer was lost): a charge may yet turn up. As
# the sweeper's filter and as a row's fields (``_given_up``). A decline has the provider's charge.
GIVEN_UP = {"status": Payment.Status.FAILED, "provider_charge_id": "", "attempts__gt": 0}


def _given_up(payment: Payment) -> bool:
    for lookup, value in GIVEN_UP.items():
        field, _, comparison = lookup.partition("__")
        actual = getattr(payment, field)
        if not (actual > value if comparison == "gt" else actual == value):
            return False
    return True


def _refund_late_charge(payment: Payment, charge_id: str) -> None:
    """The provider charged a payment we gave up on (its booking is cancelled): give it back.

    No ``payment.succeeded``: the booking was told the payment failed, and stays cancelled; the
    refund's ``payment.refunded`` tells the customer. The failure reason stays, as the story.
    """
    logger.warning("payment %s was charged (%s) after we gave up on it: refunding", payment.id, charge_id)
    payment.status = Payment.Status.SUCCEEDED
    payment.provider_charge_id = charge_id
    payment.refund_requested = True
    update_row(payment, ["status", "provider_charge_id", "refund_requested", "updated_at"])
    _after_commit(_enqueue_refund, payment.id)


def payment_settle_given_up(*, payment_id: uuid.UUID | str) -> Payment:
    """Ask the provider whether a payment we gave up on was charged; refund it if so.

    Raises ``TransientProviderError`` while the provider is still down (the sweeper asks again).
    """
    payment = Payment.objects.get(pk=payment_id)
    if not (_given_up(payment) and payment.refund_requested):
        return payment
    result = get_provider().find_charge(idempotency_key=payment.charge_idempotency_key)
    if result is not None and result.succeeded:
        return payment_record_charge(payment_id=payment.id, succeeded=True, charge_id=result.charge_id)
    with transaction.atomic():
        payment = _locked(payment_id)
        if _given_up(payment) and payment.refund_requested:  # nothing was charged: settled
            payment.refund_requested = False
            payment.save(update_fields=["refund_requested", "updated_at"])
    return payment


# Refunding -----------------------------------------------------------------------------------


def payment_refund(*, payment_id: uuid.UUID | str) -> Payment:
    """Refund a succeeded payment once. Raises ``TransientProviderError`` for the task to retry."""
    with transaction.atomic():
        payment = _locked(payment_id)
        if payment.status != Payment.Status.SUCCEEDED:
            return payment
        if not payment.refund_requested:
            payment.refund_requested = True
            payment.save(update_fields=["refund_requested", "updated_at"])

    result = get_provider().refund(
        charge_id=payment.provider_charge_id,
        amount_minor=payment.amount_minor,
        idempotency_key=payment.refund_idempotency_key,
    )
    if not result.succeeded:
        logger.error("refund of payment %s refused by the provider: %s", payment.id, result.failure_code)
        return payment
    return payment_record_refund(payment_id=payment.id, refund_id=result.refund_id)


@transaction.atomic
def payment_record_refund(*, payment_id: uuid.UUID | str, refund_id: str) -> Payment:
    payment = _locked(payment_id)
    if payment.status != Payment.Status.SUCCEEDED:
        return payment
    payment.status = Payment.Status.REFUNDED
    payment.provider_refund_id = refund_id
    payment.refund_requested = True
    payment.save(update_fields=["status", "provider_refund_id", "refund_requested", "updated_at"])
    _publish(
        payment,
        types.PAYMENT_REFUNDED,
        amount=to_event_amount(payment.amount_minor, payment.currency),
        currency=payment.currency,
    )
    return payment


# Recovery ------------------------------------------------------------------------------------


def payments_sweep_stuck(*, older_than: dt.timedelta) -> dict[str, list[uuid.UUID]]:
    """Re-enqueue charges and refunds left untouched for ``older_than`` (a lost task, a killed
    worker), and the settling of payments given up on while the provider was down.

    Safe to repeat: the idempotency keys make a second charge or refund return the first one.
    The swept payments are touched, so they are swept again only after another ``older_than``.
    """
    cutoff = timezone.now() - older_than
    stale = Payment.objects.filter(updated_at__lt=cutoff)
    charges = list(stale.filter(status=Payment.Status.PENDING).values_list("id", flat=True)[:500])
    refunds = list(
        stale.filter(status=Payment.Status.SUCCEEDED, refund_requested=True).values_list("id", flat=True)[:500]
    )
    settles = list(stale.filter(**GIVEN_UP, refund_requested=True).values_list("id", flat=True)[:500])
    Payment.objects.filter(id__in=charges + refunds + settles).update(updated_at=timezone.now())
    for payment_id in charges:
        _enqueue_charge(payment_id)
    for payment_id in refunds:
        _enqueue_refund(payment_id)
    for payment_id in settles:
        _enqueue_settle(payment_id)
    if charges or refunds or settles:
        logger.warning(
            "swept %d stuck charges, %d stuck refunds and %d payments given up on to settle",
            len(charges),
            len(refunds),
            len(settles),
        )
    return {"charges": charges, "refunds": refunds, "settles": settles}


# Provider webhooks ---------------------------------------------------------------------------

WEBHOOK_TYPES = ("charge.succeeded", "charge.failed", "charge.refunded")


def _webhook_payment(charge: dict) -> Payment | None:
    metadata = charge.get("metadata") if isinstance(charge.get("metadata"), dict) else {}
    payment_id = metadata.get("payment_id")
    if payment_id:
        try:
            return Payment.objects.filter(id=uuid.UUID(str(payment_id))).first()
        except ValueError:
            return None
    charge_id = charge.get("id")
    if isinstance(charge_id, str) and charge_id:
        return Payment.objects.filter(provider_charge_id=charge_id).first()
    return None


@transaction.atomic
def webhook_event_process(*, event_id: str, event_type: str, data: dict) -> str:
    """Apply a verified provider callback once per provider event id.

    The callbacks confirm what the charge and refund calls already told us, through the same
    record functions: a payment already recorded is left as it is and nothing is published twice.
    Returns ``"processed"``, ``"duplicate"`` or ``"ignored"`` (an unknown type or payment).
    """
    try:
        with transaction.atomic():
            webhook = ProviderWebhookEvent.objects.create(
                provider_event_id=event_id, type=event_type, payload={"id": event_id, "type": event_type, "data": data}
            )
    except IntegrityError:
        return "duplicate"
    charge = data.get("object") if isinstance(data.get("object"), dict) else {}
    payment = _webhook_payment(charge) if event_type in WEBHOOK_TYPES else None
    if payment is None:
        webhook.outcome = "ignored"
        webhook.save(update_fields=["outcome"])
        return "ignored"
    charge_id = str(charge.get("id") or payment.provider_charge_id)
    outcome = "processed"
    if event_type == "charge.succeeded":
        payment = payment_record_charge(payment_id=payment.id, succeeded=True, charge_id=charge_id)
        if payment.status == Payment.Status.FAILED:
            # The provider charged a payment we gave up on: money taken, booking cancelled.
            logger.error("webhook %s: payment %s is failed here but charged at the provider", event_id, payment.id)
            outcome = "conflict"
    elif event_type == "charge.failed":
        payment_record_charge(
            payment_id=payment.id,
            succeeded=False,
            charge_id=charge_id,
            failure_code=str(charge.get("failure_code") or "card_declined")[:100],
        )
    else:
        refunds = charge.get("refunds") if isinstance(charge.get("refunds"), dict) else {}
        refund_list = refunds.get("data") if isinstance(refunds.get("data"), list) else []
        refund_id = refund_list[0].get("id", "") if refund_list and isinstance(refund_list[0], dict) else ""
        payment_record_refund(payment_id=payment.id, refund_id=str(refund_id)[:100])
    webhook.outcome = outcome
    webhook.save(update_fields=["outcome"])
    return "processed"
