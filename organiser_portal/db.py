"""Hand-written SQL: the one switch between its two forms, and the names it is written with.

A few hot paths (the webhook storm, the door rush, the search's vocabulary) run SQL written out by hand,
each app's in its `sql.py`: a PostgreSQL form (data-modifying WITH, row locks, jsonb …) and beside it a
portable form with the same rules for SQLite, the embedded default. `is_postgres()` decides which runs;
`portable_sql()` makes the portable forms run on PostgreSQL too, so the tests run both on the same data
and prove they give the same results. Table and column names come from the models' `_meta` (`Table`),
so renaming a model or a field cannot leave a statement behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

_portable_forced = False


def is_postgres(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the PostgreSQL forms run: on PostgreSQL, unless `portable_sql()` is in force."""
    return not _portable_forced and _vendor(using) == "postgresql"


@cache
def _vendor(using: str) -> str:
    # A database's vendor never changes while the process runs; `connections[…]` costs a thread-local lookup.
    return connections[using].vendor


@contextmanager
def portable_sql() -> Iterator[None]:
    """Run the portable forms even on PostgreSQL, in every thread, until the block ends (for the tests)."""
    global _portable_forced
    previous, _portable_forced = _portable_forced, True
    try:
        yield
    finally:
        _portable_forced = previous


class Table:
    """A model's names for hand-written SQL: `str(Table(Ticket))` is its table, `Table(Ticket).order` the
    column of its field `order` (`order_id`). A field that does not exist fails at import, not in production.
    Every other attribute starts with an underscore (a field may be called `name`), but for `columns`."""

    def __init__(self, model: type[Model]) -> None:
        self._model = model

    def __str__(self) -> str:
        return self._model._meta.db_table

    def __getattr__(self, field: str) -> str:
        if field.startswith("_"):  # copy, pickle and friends probing for dunder methods
            raise AttributeError(field)
        found = self._model._meta.get_field(field)
        if not isinstance(found, Field) or found.column is None:
            raise AttributeError(f"{self._model.__name__}.{field} has no column")
        return found.column

    def columns(self, alias: str, fields: tuple[str, ...]) -> str:
        """`alias.column, …` for `fields`, in their order (as `Model.from_db` takes them)."""
        return ", ".join(f"{alias}.{getattr(self, field)}" for field in fields)


def row_estimate(model: type[Model], using: str = DEFAULT_DB_ALIAS) -> int | None:
    """The planner's estimate of the model's row count (PostgreSQL's statistics, no scan); None where there is
    none, so the caller counts (the portable form: SQLite keeps no such estimate)."""
    if not is_postgres(using):
        return None
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row else None
