"""Handlers of the common test project: each counts its effect in ``Counter``.

- ``payments.payment.succeeded``: +1 on the payment id; an amount of 666.00 always raises
  (a poison message that no retry can fix).
- ``auth.user.registered``: +1 on the user id; if the file named by ``EVENTS_TEST_SLEEP_MARKER``
  exists, the handler removes it, writes ``<marker>.started`` and sleeps (to be killed mid-handler).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.db.models import F

from common.events import types
from common.events.registry import handler

from .models import Counter

POISON_AMOUNT = "666.00"


def count(key: str) -> None:
    Counter.objects.get_or_create(key=key)
    Counter.objects.filter(key=key).update(value=F("value") + 1)


@handler(types.PAYMENT_SUCCEEDED)
def on_payment_succeeded(event) -> None:
    count(event.data["payment_id"])
    if event.data["amount"] == POISON_AMOUNT:
        raise RuntimeError("this payment can never be applied")


@handler(types.USER_REGISTERED)
def on_user_registered(event) -> None:
    count(event.data["user_id"])
    marker = os.environ.get("EVENTS_TEST_SLEEP_MARKER")
    if marker and Path(marker).exists():
        Path(marker).unlink()
        Path(f"{marker}.started").write_text(str(event.id))
        time.sleep(60)
