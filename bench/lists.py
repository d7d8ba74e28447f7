"""The lists across events: Orders ("Ticketing → Orders") and Customers, through the test client, every page checked.

Each page's expected first row comes from plain SQL over the tables, not from the code under test. Deep pages
are reached the way the pages reach them: by the keyset cursor of the row before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .common import Ctx, Result, Wrong, _expect_codes, _sql, _text, _timed_pages, _url

PAGE_SIZE = 50
DEEP_PAGE = 1000


def _orders_url(ctx: Ctx, **params: Any) -> str:
    return _url("orders", org=ctx.org.slug) + ("?" + urlencode(params) if params else "")


def _orders_targets(ctx: Ctx, variant: str) -> list[tuple[str, Callable[[Any], None]]]:
    where, params, query, offset = "TRUE", [], {}, 0
    if variant == "page 1,000":
        offset = (_deep_page(ctx, "orders_order") - 1) * PAGE_SIZE
    elif variant == "filtered by bounced":
        where, query = "email_status = 'bounced'", {"email_status": "bounced"}
    elif variant == "held for review":
        where, query = "tickets_held", {"held": "on"}
    elif variant == "status + search":
        surname = ctx.rng.choice(("Schmidt", "Weber", "Kowalski", "Wagner", "Becker"))
        where, params = (
            "status = 'paid' AND (UPPER(contact_name) LIKE UPPER(%s) OR UPPER(contact_email) LIKE UPPER(%s))",
            [
                f"%{surname}%",
                f"%{surname}%",
            ],
        )
        query = {"status": "paid", "q": surname}
    rows = _sql(
        f"SELECT id, code, created_at FROM orders_order WHERE organisation_id = %s AND {where} "
        "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 2",
        [ctx.org.pk, *params, max(0, offset - 1)],
    )
    if not rows or (offset and len(rows) < 2):
        raise Wrong(f"no sample for the Orders list {variant}")
    if offset:
        before, first = rows
        query = {"after": f"{before[2].isoformat()}~{before[0]}"}
        expected = first[1]
    else:
        expected = rows[0][1]
    return [(_orders_url(ctx, **query), _expect_codes([expected], f"Orders list {variant}"))]


def _deep_page(ctx: Ctx, table: str) -> int:
    """Page 1,000, or the last full page of a smaller data set (the smoke test's)."""
    ((count,),) = _sql(f"SELECT count(*) FROM {table} WHERE organisation_id = %s", [ctx.org.pk])
    return max(2, min(DEEP_PAGE, count // PAGE_SIZE))


def _expect_text(text: str, label: str) -> Callable[[Any], None]:
    def check(response) -> None:
        if response.status_code != 200 or text not in _text(response):
            raise Wrong(f"{label}: HTTP {response.status_code}, expected {text!r} on the page")

    return check


def _customers_targets(ctx: Ctx, variant: str) -> list[tuple[str, Callable[[Any], None]]]:
    url = _url("customers", org=ctx.org.slug)
    if variant == "search by email":
        ((email,),) = _sql(
            "SELECT email FROM guests_customer WHERE organisation_id = %s ORDER BY id DESC OFFSET %s LIMIT 1",
            [ctx.org.pk, (_deep_page(ctx, "guests_customer") - 1) * PAGE_SIZE // 2],
        )
        return [(f"{url}?{urlencode({'q': email})}", _expect_text(email, "Customers search"))]
    offset = (_deep_page(ctx, "guests_customer") - 1) * PAGE_SIZE if variant == "page 1,000" else 0
    rows = _sql(
        "SELECT id, email FROM guests_customer WHERE organisation_id = %s ORDER BY id DESC OFFSET %s LIMIT 2",
        [ctx.org.pk, max(0, offset - 1)],
    )
    if not rows or (offset and len(rows) < 2):
        raise Wrong(f"no sample for the Customers list {variant}")
    if offset:
        return [(f"{url}?after={rows[0][0]}", _expect_text(rows[1][1], "Customers list page 1,000"))]
    return [(url, _expect_text(rows[0][1], "Customers list page 1"))]


ORDERS_VARIANTS = ("page 1", "page 1,000", "filtered by bounced", "held for review", "status + search")
CUSTOMERS_VARIANTS = ("page 1", "page 1,000", "search by email")


def bench_lists(ctx: Ctx, *, iterations: int = 40) -> list[Result]:
    """The Orders and Customers lists: p95 ≤ 40 ms a page, as the guest list."""
    return [
        *_timed_pages(ctx, "orders list", ORDERS_VARIANTS, _orders_targets, 40, iterations),
        *_timed_pages(ctx, "customers list", CUSTOMERS_VARIANTS, _customers_targets, 40, iterations),
    ]
