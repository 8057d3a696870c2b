"""Inserting many rows fast: PostgreSQL COPY, with primary keys reserved first.

``bulk_create`` builds one INSERT with a placeholder per value; for thousands of
footprints psycopg spends more time splitting that statement than PostgreSQL spends
storing the rows. COPY streams the rows instead. Primary keys are taken from the
table's sequence beforehand so the caller can link rows (many-to-many, audit) as with
``bulk_create``. Other databases (SQLite in development) use ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

# Field types whose Python values psycopg adapts exactly as Django would store them, so
# the per-value get_db_prep_save call (a noticeable cost per row) can be skipped.
_NATIVE = {
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "UUIDField",
    "BinaryField",
    "BooleanField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "SmallIntegerField",
    "ForeignKey",
}


def _converter(field: Field) -> Callable[[Model], Any]:
    """How one field's value goes into the COPY row for a new object."""
    kind = field.get_internal_type()
    if kind in ("DateTimeField", "DateField"):
        # pre_save fills auto_now(_add) timestamps, as Model.save() would.
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    attname = field.attname
    if kind in _NATIVE:
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(getattr(obj, attname), connection)


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
            converters = [_converter(field) for field in fields]
            for obj in objects:
                copy.write_row([obj.pk, *(convert(obj) for convert in converters)])
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
