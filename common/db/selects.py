"""``select_row`` and ``select_values``: the hot paths' small reads without the query compiler.

On the hot paths a one-row read by key (the showtime of every booking POST, the row each step of
the saga locks first) cost about as much CPU to build and compile as to run (docs/performance.md).
``raw()`` builds the same model from the same row. ``for_update`` adds ``FOR UPDATE`` where the
database has row locks and leaves it out on SQLite (whose writers take the whole file), as
Django's ``select_for_update`` does (``skip_locked`` likewise); ``key_share`` adds PostgreSQL's
``FOR KEY SHARE``, which Django has no API for: the lock a foreign key's check takes, which
blocks only deleting the row, changing its key or locking it ``FOR UPDATE``. ``select_values`` reads one
column of the rows that match a few equalities (the seat labels of a booking, say), which
``values_list`` also compiles each time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Field, Model
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


def select_row(
    model: type[M],
    pk: Any,
    *,
    for_update: bool = False,
    skip_locked: bool = False,
    key_share: bool = False,
    using: str = "default",
) -> M | None:
    """The ``model`` row with primary key ``pk``, or None if there is none; with ``for_update``
    (or ``key_share``) locked until the transaction ends. With ``skip_locked`` too, a row another
    transaction has locked is None as well, instead of waited for (``select_for_update(skip_locked=True)``)."""
    connection = connections[using]
    if (for_update or key_share) and not connection.in_atomic_block:
        # As select_for_update: a lock outside a transaction would end with the statement.
        raise TransactionManagementError("select_row() cannot lock a row outside of a transaction.")
    sql = _row_statement(model, for_update, skip_locked, key_share, using)
    key = model._meta.pk.get_db_prep_value(pk, connection)
    return next(iter(model._default_manager.using(using).raw(sql, [key])), None)


def select_values(model: type[Model], field_name: str, *, using: str = "default", **equals: Any) -> list[Any]:
    """The ``field_name`` values of the ``model`` rows whose fields equal ``equals``, in no order.

    Each value goes through the field's ``to_python``, so a UUID is a UUID on SQLite too; meant for
    plain columns (text, numbers, keys), not for fields that convert on read such as ``JSONField``.
    """
    connection = connections[using]
    field, conditions, sql = _values_statement(model, field_name, tuple(equals), using)
    params = [
        condition.get_db_prep_value(value, connection)
        for condition, value in zip(conditions, equals.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [field.to_python(value) for (value,) in cursor.fetchall()]


# The statements' text, kept per model and shape as insert_rows and update_row keep theirs.


@lru_cache(maxsize=64)
def _row_statement(model: type[Model], for_update: bool, skip_locked: bool, key_share: bool, using: str) -> str:
    connection = connections[using]
    meta = model._meta
    quote = connection.ops.quote_name
    lock = ""
    if for_update and connection.features.has_select_for_update:
        skip = skip_locked and connection.features.has_select_for_update_skip_locked
        lock = " FOR UPDATE SKIP LOCKED" if skip else " FOR UPDATE"
    elif key_share and connection.features.has_select_for_no_key_update:  # PostgreSQL's lock strengths
        lock = " FOR KEY SHARE"
    return f"SELECT * FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s{lock}"  # noqa: S608 - the model's names


@lru_cache(maxsize=64)
def _values_statement(
    model: type[Model], field_name: str, names: tuple[str, ...], using: str
) -> tuple[Field, list[Field], str]:
    if not names:
        raise ValueError("select_values needs at least one condition")
    meta = model._meta
    field = meta.get_field(field_name)
    conditions = [meta.get_field(name) for name in names]
    quote = connections[using].ops.quote_name
    where = " AND ".join(f"{quote(condition.column)} = %s" for condition in conditions)
    sql = f"SELECT {quote(field.column)} FROM {quote(meta.db_table)} WHERE {where}"  # noqa: S608 - the model's names
    return field, conditions, sql
