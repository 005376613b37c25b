"""A row held under lock by another transaction, as another worker would hold it, for a test."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Model


@contextlib.contextmanager
def row_locked_elsewhere(model: type[Model], pk: Any, *, timeout: float = 10.0) -> Iterator[None]:
    """Lock the ``model`` row ``pk`` (``SELECT … FOR UPDATE``) in a transaction of another thread,
    on that thread's own connection, and hold it until the block ends, whatever happens in it.

    Needs row locks (PostgreSQL) and a test whose data is committed (``django_db(transaction=True)``),
    or the other connection would not see the row.
    """
    locked, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                model._default_manager.select_for_update().get(pk=pk)
                locked.set()
                release.wait(timeout * 3)
        except BaseException as exc:  # reported to the test below, not lost in the thread
            failures.append(exc)
            locked.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold, name=f"lock {model._meta.label} {pk}", daemon=True)
    thread.start()
    if not locked.wait(timeout) or failures:
        release.set()
        raise RuntimeError(f"could not lock {model._meta.label} {pk} elsewhere") from (failures or [None])[0]
    try:
        yield
    finally:
        release.set()
        thread.join(timeout)
