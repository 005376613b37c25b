"""``insert_rows``: the INSERT of a hot path without the query compiler.

``save()`` and ``bulk_create()`` build a query and compile it on every call, and on a booking
POST that costs about as much CPU as running the statement (0.15-0.25 ms a row on the bench VM,
docs/performance.md). This writes the same row with the same SQL, kept per model and row count,
and takes the values from the fields exactly as Django's insert does (``pre_save`` fills
``auto_now_add``, ``get_db_prep_save`` adapts for the backend), so it runs on PostgreSQL and
SQLite alike. Unlike ``save()`` it sends no signals and runs no related-object checks: use it for
rows of models that have neither, which is the case for every caller here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.db import connections
from django.db.models import Field, Model


def insert_rows(rows: Sequence[Model], *, using: str = "default", ignore_conflicts: bool = False) -> int:
    """INSERT ``rows``, instances of one model, in one statement; returns how many were written.

    An auto primary key (``AutoField``, ``BigAutoField``) is always the database's: it is left out
    of the INSERT and read back into each instance where the database can return it.

    ``ignore_conflicts`` adds ``ON CONFLICT DO NOTHING``: a row that a unique constraint refuses
    (one committed, or being written by a transaction this one then waits for) is skipped, without
    the savepoint that catching ``IntegrityError`` needs inside a transaction. Only for one row
    when the key is read back, which row was skipped being otherwise unknown.
    """
    if not rows:
        return 0
    model = type(rows[0])
    connection = connections[using]
    fields, returning, sql = _statement(model, len(rows), using, ignore_conflicts)
    if ignore_conflicts and returning and len(rows) > 1:
        raise ValueError(f"insert_rows(ignore_conflicts=True) reads back {model._meta.label}'s key: one row at a time")
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall() if returning else ()
        written = len(returned) if returning else cursor.rowcount
    for row, values in zip(rows, returned, strict=False):
        for field, value in zip(returning, values, strict=True):
            setattr(row, field.attname, value)
    if written == len(rows):
        for row in rows:
            row._state.adding = False
            row._state.db = using
    return written


@lru_cache(maxsize=64)
def _statement(
    model: type[Model], count: int, using: str, ignore_conflicts: bool
) -> tuple[list[Field], list[Field], str]:
    connection = connections[using]
    meta = model._meta
    returning = [field for field in meta.concrete_fields if field.primary_key and field.db_returning]
    fields = [field for field in meta.concrete_fields if field not in returning and not field.generated]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only quoted names of the model and placeholders go into the text; the values are parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"  # PostgreSQL and SQLite alike
    features = connection.features
    if returning and (
        features.can_return_columns_from_insert if count == 1 else features.can_return_rows_from_bulk_insert
    ):
        sql += " RETURNING " + ", ".join(quote(field.column) for field in returning)
    else:
        returning = []
    return fields, returning, sql
