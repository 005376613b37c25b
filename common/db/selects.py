"""``select_row``: one row by primary key without the query compiler, locked if asked.

On the hot paths a one-row read by key (the showtime of every booking POST, the row each step of
the saga locks first) cost about as much CPU to build and compile as to run (docs/performance.md).
``raw()`` builds the same model from the same row. ``for_update`` adds ``FOR UPDATE`` where the
database has row locks and leaves it out on SQLite (whose writers take the whole file), as
Django's ``select_for_update`` does.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


def select_row(model: type[M], pk: Any, *, for_update: bool = False, using: str = "default") -> M | None:
    """The ``model`` row with primary key ``pk``, or None if there is none; with ``for_update``
    locked until the transaction ends."""
    connection = connections[using]
    if for_update and not connection.in_atomic_block:
        # As select_for_update: a lock outside a transaction would end with the statement.
        raise TransactionManagementError("select_row(for_update=True) cannot be used outside of a transaction.")
    meta = model._meta
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if for_update and connection.features.has_select_for_update else ""
    sql = f"SELECT * FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s{lock}"  # noqa: S608 - the model's names
    key = meta.pk.get_db_prep_value(pk, connection)
    return next(iter(model._default_manager.using(using).raw(sql, [key])), None)
