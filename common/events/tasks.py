"""The relay's periodic sweep and the outbox and inbox retention, run by every service's worker (beat)."""

from __future__ import annotations

from celery import shared_task

from . import relay, services


@shared_task(name="events.sweep_outbox", ignore_result=True, acks_late=False, time_limit=60, soft_time_limit=50)
def sweep_outbox() -> int:
    # acks_late off: a sweep lost with its worker is simply the next one, two seconds later.
    return relay.sweep_outbox()


@shared_task(name="events.prune", ignore_result=True, acks_late=False, time_limit=600, soft_time_limit=540)
def prune() -> dict[str, int]:
    # acks_late off: a prune lost with its worker is the next one, an hour later.
    return services.events_prune()
