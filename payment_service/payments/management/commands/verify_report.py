"""Print every payment with the provider ledger's charge and refund counts, as JSON.

Consumed by ``manage_all.py verify`` (the consistency checker)::

    {"payments": [{"id", "booking_id", "status", "amount": "12.50", "currency", "charge_count", "refund_count"}]}
"""

import json

from django.core.management.base import BaseCommand

from payment_service.payments.selectors import payment_report


class Command(BaseCommand):
    help = "Print the payments and the simulated provider's charge/refund counts as JSON (for `verify`)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps({"payments": payment_report()}))
