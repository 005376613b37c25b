"""The Celery application of one service."""

from __future__ import annotations

import os

from celery import Celery


def create_celery_app(service_name: str) -> Celery:
    """A Celery app configured from the service's Django settings (``CELERY_*``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service_name}_service.settings.local")
    app = Celery(f"{service_name}_service")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    # Every worker also consumes its service's queue of events (<service>.events), no flag needed.
    from common.events.consumer import EventsConsumerStep

    app.steps["consumer"].add(EventsConsumerStep)
    return app
