"""Writes many model rows fast for the page benchmark's fleet: COPY on PostgreSQL, batched bulk_create elsewhere.

Primary keys are handed out here (`RowWriter.ids`) so that rows can point at each other before any is written;
`RowWriter.finish` moves the tables' sequences past the keys used. Every concrete field is written, with the
value Django itself would save (`pre_save` fills auto_now fields, `get_db_prep_save` adapts JSON and dates), so
a column another change adds with a default is filled without this module knowing it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max, Model

BATCH = 5000


# Fields whose Python value psycopg writes as Django would (text, numbers, booleans, aware times, keys).
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.DateTimeField,
    models.ForeignKey,
)


def _adapts(field) -> bool:
    """Whether the field changes its value on the way to the database (auto_now times, JSON, decimals, ...)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return True
    return not isinstance(field, PLAIN_FIELDS) and not field.primary_key


class RowWriter:
    """Hands out primary keys and writes rows of any model, COPY on PostgreSQL."""

    def __init__(self) -> None:
        self._next: dict[type[Model], int] = {}
        self.copy = connection.vendor == "postgresql"

    def ids(self, model: type[Model], count: int) -> range:
        """`count` unused primary keys of the model, in increasing order."""
        if model not in self._next:
            self._next[model] = (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        start = self._next[model]
        self._next[model] = start + count
        return range(start, start + count)

    def write(self, model: type[Model], rows: Iterable[Model]) -> int:
        """Write rows whose primary keys came from `ids`; returns how many."""
        if not self.copy:
            written = 0
            batch: list[Model] = []
            for row in rows:
                batch.append(row)
                if len(batch) == BATCH:
                    written += len(model.objects.bulk_create(batch))
                    batch = []
            return written + len(model.objects.bulk_create(batch))
        return self._copy(model, rows)

    def _copy(self, model: type[Model], rows: Iterable[Model]) -> int:
        fields = list(model._meta.concrete_fields)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        # Plain values go to COPY as they are; only fields that fill or adapt their value go through Django.
        adapted = {i for i, field in enumerate(fields) if _adapts(field)}
        names = [field.attname for field in fields]
        written = 0
        with connection.cursor() as cursor:
            # cursor.cursor is psycopg's own cursor; Django's wrapper has no copy().
            with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [getattr(row, name) for name in names]
                    for i in adapted:
                        values[i] = fields[i].get_db_prep_save(fields[i].pre_save(row, True), connection)
                    copy.write_row(values)
                    written += 1
        return written

    def finish(self) -> None:
        """Move each written table's key sequence past the largest key, so later inserts do not collide."""
        if not self._next:
            return
        statements = connection.ops.sequence_reset_sql(no_style(), list(self._next))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
