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
from .services import payment_charge, payment_charge_give_up, payment_refund, payments_sweep_stuck

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


@shared_task(
    name="payment.payments.charge",
    bind=True,
    max_retries=None,
    retries_database_errors=True,
    soft_time_limit=60,
    time_limit=90,
)
def charge_payment(self, payment_id: str, database_retries: int = 0) -> None:
    try:
        payment_charge(payment_id=payment_id)
    except Payment.DoesNotExist:
        logger.error("charge of unknown payment %s dropped", payment_id)
    except TransientProviderError as exc:
        provider_retries = self.request.retries - database_retries
        if provider_retries >= settings.PAYMENT_PROVIDER_MAX_RETRIES:
            logger.warning("provider unavailable for payment %s after %d retries", payment_id, provider_retries)
            payment_charge_give_up(payment_id=payment_id)
            return
        raise self.retry(exc=exc, countdown=backoff_seconds(provider_retries)) from exc
    except DATABASE_ERRORS as exc:
        retry = retry_after_our_database_error(self, exc, payment_id=payment_id, database_retries=database_retries)
        if retry is not None:
            raise retry from exc


@shared_task(
    name="payment.payments.refund",
    bind=True,
    max_retries=None,
    retries_database_errors=True,
    soft_time_limit=60,
    time_limit=90,
)
def refund_payment(self, payment_id: str, database_retries: int = 0) -> None:
    try:
        payment_refund(payment_id=payment_id)
    except Payment.DoesNotExist:
        logger.error("refund of unknown payment %s dropped", payment_id)
    except TransientProviderError as exc:
        provider_retries = self.request.retries - database_retries
        if provider_retries >= settings.PAYMENT_PROVIDER_MAX_RETRIES:
            # A refund is never given up: the payment keeps refund_requested and the sweeper
            # enqueues it again later.
            logger.error("provider unavailable for the refund of payment %s; left to the sweeper", payment_id)
            return
        raise self.retry(exc=exc, countdown=backoff_seconds(provider_retries)) from exc
    except DATABASE_ERRORS as exc:
        retry = retry_after_our_database_error(self, exc, payment_id=payment_id, database_retries=database_retries)
        if retry is not None:
            raise retry from exc


@shared_task(name="payment.payments.sweep_stuck", soft_time_limit=50, time_limit=60)
def sweep_stuck_payments() -> None:
    payments_sweep_stuck(older_than=dt.timedelta(seconds=settings.PAYMENT_STUCK_AFTER_SECONDS))
