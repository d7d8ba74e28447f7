"""The search's hand-written SQL (PostgreSQL only): what the ORM can't say. guests.search decides when it runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Expression, Model, QuerySet
from django.db.models.expressions import RawSQL


@dataclass(frozen=True)
class Sort:
    """Newest first: descending by `fields`, for the ORM and for SQL over a subquery `s` selecting them.
    The last field is the primary key: a total sort, so pages neither repeat nor skip a row."""

    fields: tuple[str, ...]

    @property
    def orm(self) -> tuple[str, ...]:
        return tuple(f"-{field}" for field in self.fields)

    @property
    def sql(self) -> str:
        return ", ".join(f"s.{_qn(field)} DESC" for field in self.fields)


# The stored, GIN-indexed tsvector of a row's name and email address before the @, added to orders and
# customer accounts by migration_ops.search_words_column: a column of the table, not a model field.
SEARCH_WORDS = "search_words"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _words_match(model: type[Model]) -> str:
    """The row's words match the tsquery given as the parameter (see _tsquery)."""
    return f"{_qn(model._meta.db_table)}.{_qn(SEARCH_WORDS)} @@ to_tsquery('simple', %s)"


def has_words(model: type[Model], tsquery: str) -> Expression:
    return RawSQL(_words_match(model), [tsquery], output_field=BooleanField())


def estimated_matches(model: type[Model], tsquery: str) -> float:
    """The planner's estimate of the rows whose words match, from the words' statistics (EXPLAIN:
    planning only). For the whole table: what collecting reads, whoever's rows they are."""
    sql = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {_qn(model._meta.db_table)} WHERE {_words_match(model)}"
    with connection.cursor() as cur:
        cur.execute(sql, [tsquery])
        return float(cur.fetchone()[0][0]["Plan"]["Plan Rows"])


def walked(visible: QuerySet, tsquery: str, sort: Sort, limit: int, *, at_most: int) -> list[int]:
    """The first `limit` rows matching `tsquery` among the newest `at_most` of `visible`, in `sort`:
    read through the sort's index, stopping as soon as the page is full."""
    newest = visible.order_by(*sort.orm).annotate(hit=has_words(visible.model, tsquery)).values(*sort.fields, "hit")
    sql, params = newest[:at_most].query.sql_with_params()
    return _ids(f"SELECT s.pk FROM ({sql}) s WHERE s.hit ORDER BY {sort.sql} LIMIT %s", [*params, limit])


def collected_ids(matches: QuerySet, sort: Sort, limit: int) -> list[int]:
    """Every match first (MATERIALIZED: the planner may not push the sort and LIMIT into it), then `limit`
    of them in `sort`."""
    sql, params = matches.order_by().values(*sort.fields).query.sql_with_params()
    return _ids(f"WITH s AS MATERIALIZED ({sql}) SELECT s.pk FROM s ORDER BY {sort.sql} LIMIT %s", [*params, limit])


def _ids(sql: str, params: Sequence[Any]) -> list[int]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [row[0] for row in cur.fetchall()]
