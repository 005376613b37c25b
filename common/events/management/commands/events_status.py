"""``manage.py events_status [--json]``: this service's outbox backlog and dead letters."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from common.events.conf import consumed_types, dead_queue_name
from common.events.consumer import dead_letter_count
from common.events.services import outbox_status


class Command(BaseCommand):
    help = "Unsent outbox rows, the age of the oldest, failed rows and the dead-letter count."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object (what manage_all.py events reads)")

    def handle(self, *args, **options) -> None:
        status = {"service": settings.SERVICE_NAME, "unsent": None, "failed": None, "oldest_unsent_age_seconds": None}
        status["database_error"] = None
        try:
            status.update(outbox_status())
        except DatabaseError as exc:
            status["database_error"] = f"{exc.__class__.__name__}: {exc}"
        status["dead_letter_queue"] = dead_queue_name(settings.SERVICE_NAME) if consumed_types() else None
        status["dead_letters"] = None
        status["broker_error"] = None
        if status["dead_letter_queue"]:
            try:
                status["dead_letters"] = dead_letter_count()
            except Exception as exc:
                status["broker_error"] = f"{exc.__class__.__name__}: {exc}"
        if options["json"]:
            self.stdout.write(json.dumps(status))
            return
        for key, value in status.items():
            self.stdout.write(f"{key}: {value}")
