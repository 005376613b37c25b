"""``manage.py events_replay_dead [--limit N]``: move dead letters back to this service's queue."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from common.events.conf import consumed_types, dead_queue_name, queue_name
from common.events.consumer import replay_dead_letters


class Command(BaseCommand):
    help = "Republish the messages of <service>.events.dead to <service>.events (attempts reset)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="move at most this many")

    def handle(self, *args, **options) -> None:
        service = settings.SERVICE_NAME
        if not consumed_types():
            raise CommandError(f"{service} consumes no events, so it has no dead-letter queue")
        moved = replay_dead_letters(service, limit=options["limit"])
        self.stdout.write(f"{moved} message(s) moved from {dead_queue_name(service)} to {queue_name(service)}")
