"""``manage.py verify_report``: this service's side of ``manage_all.py verify``, as JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from booking_service.bookings.selectors import verify_report


class Command(BaseCommand):
    help = "Print bookings, doubly-booked seats and overdue pending bookings as JSON (for manage_all.py verify)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(verify_report(), indent=None))
