"""Thin Celery tasks: ids in, a service does the work; retries and backoff live here."""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import shared_task
from django.conf import settings

from common.celery_app import DATABASE_ERRORS, retry_after_database_error

from .models import Payment
from .providers import TransientProviderError
from .services import (
    payment_charge,
    payment_charge_give_up,
    payment_refund,
    payment_settle_given_up,
    payments_sweep_stuck,
)

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int) -> float:
    """Exponential (base, 2x base, 4x base, …) with up to 25% jitter, capped."""
    delay = min(settings.PAYMENT_RETRY_BACKOFF_SECONDS * 2**retries, settings.PAYMENT_RETRY_BACKOFF_MAX_SECONDS)
    return delay * (1 + random.random() / 4)  # noqa: S311 - jitter, not cryptography


def retry_after_our_database_error(task, exc: Exception, *, payment_id: str, database_retries: int):
    """Running the task again is safe: the provider answers a repeated idempotency key with the
    first charge or refund. Once ``PAYMENT_DATABASE_MAX_RETRIES`` are spent the payment stays as
    it is, for the sweeper."""
    return retry_after_database_error(
        task,
        exc,
        subject=f"payment {payment_id}",
        database_retries=database_retries,
        max_retries=settings.PAYMENT_DATABASE_MAX_RETRIES,
        countdown=backoff_seconds(database_retries),
        left_to="the sweeper",
    )


# A charge and a refund retry alike: database errors on a budget of their own, a provider that is
# down with backoff up to PAYMENT_PROVIDER_MAX_RETRIES. The time limits apply in a prefork pool
# only (docs/deployment.md); under threads the provider's own timeout bounds a call.
PAYMENT_STEP_OPTIONS = {
    "bind": True,
    "max_retries": None,
    "retries_database_errors": True,
    "soft_time_limit": 60,
    "time_limit": 90,
}


def run_payment_step(task, step, *, payment_id: str, database_retries: int, when_provider_stays_down) -> None:
    """Run ``step(payment_id=…)`` (a charge or a refund) with the retries both share.

    An unknown payment is dropped. A transient provider error retries with backoff until
    ``PAYMENT_PROVIDER_MAX_RETRIES`` provider retries are spent, then calls
    ``when_provider_stays_down(payment_id, provider_retries)`` and returns.
    """
    try:
        step(payment_id=payment_id)
    except Payment.DoesNotExist:
        logger.error("%s of unknown payment %s dropped", task.name, payment_id)
    except TransientProviderError as exc:
        provider_retries = task.request.retries - database_retries
        if provider_retries >= settings.PAYMENT_PROVIDER_MAX_RETRIES:
            when_provider_stays_down(payment_id, provider_retries)
            return
        raise task.retry(exc=exc, countdown=backoff_seconds(provider_retries)) from exc
    except DATABASE_ERRORS as exc:
        retry = retry_after_our_database_error(task, exc, payment_id=payment_id, database_retries=database_retries)
        if retry is not None:
            raise retry from exc


def _give_up_charge(payment_id: str, provider_retries: int) -> None:
    logger.warning("provider unavailable for payment %s after %d retries", payment_id, provider_retries)
    payment_charge_give_up(payment_id=payment_id)


def _leave_refund_to_sweeper(payment_id: str, provider_retries: int) -> None:
    # A refund is never given up: the payment keeps refund_requested and the sweeper enqueues it
    # again later.
    logger.error(
        "provider unavailable for the refund of payment %s after %d retries; left to the sweeper",
        payment_id,
        provider_retries,
    )


@shared_task(name="payment.payments.charge", **PAYMENT_STEP_OPTIONS)
def charge_payment(self, payment_id: str, database_retries: int = 0) -> None:
    run_payment_step(
        self,
        payment_charge,
        payment_id=payment_id,
        database_retries=database_retries,
        when_provider_stays_down=_give_up_charge,
    )


@shared_task(name="payment.payments.refund", **PAYMENT_STEP_OPTIONS)
def refund_payment(self, payment_id: str, database_retries: int = 0) -> None:
    run_payment_step(
        self,
        payment_refund,
        payment_id=payment_id,
        database_retries=database_retries,
        when_provider_stays_down=_leave_refund_to_sweeper,
    )


def _leave_settling_to_sweeper(payment_id: str, provider_retries: int) -> None:
    logger.warning(
        "provider still unavailable to settle payment %s after %d retries; left to the sweeper",
        payment_id,
        provider_retries,
    )


@shared_task(name="payment.payments.settle_given_up", **PAYMENT_STEP_OPTIONS)
def settle_given_up_payment(self, payment_id: str, database_retries: int = 0) -> None:
    run_payment_step(
        self,
        payment_settle_given_up,
        payment_id=payment_id,
        database_retries=database_retries,
        when_provider_stays_down=_leave_settling_to_sweeper,
    )


@shared_task(name="payment.payments.sweep_stuck", soft_time_limit=50, time_limit=60)
def sweep_stuck_payments() -> None:
    payments_sweep_stuck(older_than=dt.timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS))
