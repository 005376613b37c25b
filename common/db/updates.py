"""``update_row``: the UPDATE of a hot path without the query compiler.

``save(update_fields=…)`` builds and compiles an UPDATE on every call; on the saga's steps that is
about 0.25 ms of CPU a statement on the bench VM (docs/performance.md), more than running it. This
sends the same statement, kept per model and field list, and takes the values from the fields as
``save()`` does (``pre_save`` refreshes ``auto_now``, ``get_db_prep_save`` adapts for the backend),
so it runs on PostgreSQL and SQLite alike. Like ``insert_rows`` it sends no signals: use it only
for models that have none.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.db import connections
from django.db.models import Field, Model


def update_row(instance: Model, fields: Sequence[str], *, using: str | None = None) -> int:
    """UPDATE the columns of ``fields`` (names or attnames) of ``instance``'s row, by primary key.

    Returns the number of rows updated: 0 if the row is gone, where ``save(update_fields=…)``
    would raise ``DatabaseError``; the caller, which holds the row's lock, decides.
    """
    using = using or instance._state.db or "default"
    connection = connections[using]
    model_fields, sql = _statement(type(instance), tuple(fields), using)
    params = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in model_fields]
    params.append(instance._meta.pk.get_db_prep_value(instance.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@lru_cache(maxsize=64)
def _statement(model: type[Model], names: tuple[str, ...], using: str) -> tuple[list[Field], str]:
    meta = model._meta
    model_fields = [meta.get_field(name) for name in names]
    if not model_fields or any(field.primary_key or not field.concrete for field in model_fields):
        raise ValueError(f"update_row needs concrete non-key fields of {meta.label}, not {list(names)}")
    quote = connections[using].ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in model_fields)
    # Only quoted names of the model and placeholders go into the text; the values are parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    return model_fields, sql
