"""Inserting many rows fast: PostgreSQL COPY, with primary keys reserved first.

``bulk_create`` builds one INSERT with a placeholder per value; for thousands of
footprints psycopg spends more time splitting that statement than PostgreSQL spends
storing the rows. COPY streams the rows instead. Primary keys are taken from the
table's sequence beforehand so the caller can link rows (many-to-many, audit) as with
``bulk_create``. Other databases (SQLite in development) use ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def copy_insert(objects: Sequence[Model]) -> None:
    """Insert unsaved model instances of one model, setting their primary keys."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects)
        return
    meta = model._meta
    table = meta.db_table
    pk_column = str(meta.pk.column)
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(name)) for name in [pk_column, *(f.column for f in fields)])
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                # pre_save fills auto_now_add timestamps, as Model.save() would.
                values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                copy.write_row([obj.pk, *values])
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
