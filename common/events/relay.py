"""Sends committed outbox rows to the broker. (Being written: see docs/events.md.)"""

from __future__ import annotations


def relay_after_commit(position: int) -> None:
    """Called once the transaction that wrote outbox row ``position`` has committed."""
