"""``select_locked``: one row by primary key, locked for the rest of the transaction, without the
query compiler.

The saga's steps each start by locking their row (``select_for_update().get()``), and compiling
that one-row query costs about as much CPU as running it (docs/performance.md). ``raw()`` builds
the same model from the same row; the lock is left out where the database has none (SQLite,
whose writers take the whole file), as Django's ``select_for_update`` does.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


def select_locked(model: type[M], pk: Any, *, using: str = "default") -> M | None:
    """The ``model`` row with primary key ``pk``, locked ``FOR UPDATE``, or None if there is none."""
    connection = connections[using]
    if not connection.in_atomic_block:
        # As select_for_update: a lock outside a transaction would end with the statement.
        raise TransactionManagementError("select_locked cannot be used outside of a transaction.")
    meta = model._meta
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT * FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s{lock}"  # noqa: S608 - the model's names
    key = meta.pk.get_db_prep_value(pk, connection)
    return next(iter(model._default_manager.using(using).raw(sql, [key])), None)
