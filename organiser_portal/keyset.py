"""Keyset paging on (a time column, id): each page starts after the last row shown, so page 1,000 costs what
page 1 does (an index on (…, time, id) walks straight to it), where OFFSET would read every row before it.

A cursor is `<ISO time>~<id>`, written into the page's links (templates/guests/_keyset_pager.html reads
`next_cursor` / `prev_cursor`); a cursor that isn't one this module wrote is taken as no cursor (page 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, Q, QuerySet


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None  # the rows after this page's last, or None on the last page
    prev_cursor: str | None  # the rows before this page's first, or None on the first page


def cursor(row: Model, field: str) -> str:
    return f"{getattr(row, field).isoformat()}~{row.pk}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """(time in UTC, id) of a cursor `cursor` wrote; None for anything else."""
    if not value or "~" not in value:
        return None
    when, _, pk = value.rpartition("~")
    try:
        moment, key = datetime.fromisoformat(when), int(pk)
        # The cursors this module writes are aware and name a row id; anything else is a first page. In UTC,
        # so an offset PostgreSQL refuses (+23:59 is valid to Python) never reaches the query.
        if moment.tzinfo is None or not 0 < key < 2**63:
            return None
        return moment.astimezone(UTC), key
    except (ValueError, OverflowError):
        return None


def beyond(field: str, when: datetime, pk: int, *, descending: bool) -> Q:
    """The rows past (when, pk) in the sort: a range on the index's time column, then the ties already shown dropped."""
    if descending:
        return Q(**{f"{field}__lte": when}) & (Q(**{f"{field}__lt": when}) | Q(pk__lt=pk))
    return Q(**{f"{field}__gte": when}) & (Q(**{f"{field}__gt": when}) | Q(pk__gt=pk))


def keyset_page(
    rows: QuerySet, *, field: str, after: str | None, before: str | None, page_size: int, descending: bool = True
) -> KeysetPage:
    """One page of `rows` sorted by (field, id), newest first unless not `descending`: the page after the
    cursor `after`, or the one before the cursor `before`, or else the first. One query of page_size + 1 rows."""
    forward = (f"-{field}", "-id") if descending else (field, "id")
    backward = (field, "id") if descending else (f"-{field}", "-id")
    if (mark := parse_cursor(before)) is not None:
        found = list(rows.filter(beyond(field, *mark, descending=not descending)).order_by(*backward)[: page_size + 1])
        more_before = len(found) > page_size
        page = list(reversed(found[:page_size]))
        return KeysetPage(
            page,
            cursor(page[-1], field) if page else None,
            cursor(page[0], field) if page and more_before else None,
        )
    if (mark := parse_cursor(after)) is not None:
        rows = rows.filter(beyond(field, *mark, descending=descending))
    found = list(rows.order_by(*forward)[: page_size + 1])
    more_after = len(found) > page_size
    page = found[:page_size]
    return KeysetPage(
        page,
        cursor(page[-1], field) if page and more_after else None,
        cursor(page[0], field) if page and mark is not None else None,
    )
