"""The relay's periodic sweep, run by every service's worker (scheduled by beat)."""

from __future__ import annotations

from celery import shared_task

from . import relay


@shared_task(name="events.sweep_outbox", ignore_result=True, acks_late=False, time_limit=60, soft_time_limit=50)
def sweep_outbox() -> int:
    # acks_late off: a sweep lost with its worker is simply the next one, two seconds later.
    return relay.sweep_outbox()
