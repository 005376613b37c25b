"""The database connection of a long-running events loop (the consumer, the relay thread)."""

from __future__ import annotations

from django.db import close_old_connections, connection


def recycle_connection() -> None:
    """Drop this thread's connection if it broke or outlived ``CONN_MAX_AGE``, as a request's end
    does, but skip Django's health check (a ``SELECT 1``) before the next use.

    These loops run one unit of work after another, each its own transaction: a health check before
    each is a round trip per event. A unit that meets a dead connection fails as if the database
    were down (the consumer retries the message, the relay leaves its rows to the sweep) and marks
    the connection broken, so this drops it and the next unit reconnects.
    """
    if connection.in_atomic_block:
        return
    close_old_connections()
    connection.health_check_done = True
