"""The one search box: orders and customer accounts by name, email, phone, order code or ticket ID.

Everything is scoped through the user's Access (organisation and regions). The queries are written
to stay fast at a million orders: lookups that hit an index (exact code / ticket ID / email / phone,
trigram indexes on UPPER(name) and UPPER(email)), no COUNT over large sets (fetch one row more than
a page to know whether there is a next one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast, Lower, Upper

from orders.models import Order
from orders.selectors import orders_visible
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.permissions import Access
from tickets.models import Ticket

from .models import Guest, NameWord
from .selectors import _code_like, guests_visible

MIN_SUBSTRING = 3  # a trigram index needs three characters to narrow anything down
_PHONE = re.compile(r"^\+?[\d\s\-()/.]{6,}$")
_WHOLE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
# The newest rows a name search reads through the ordering index before it switches to the trigram
# index: a name on more than ~1 in WINDOW / page rows fills its page inside the window (a few ms);
# a rarer one is cheap to collect whole through the trigram index and sort.
WINDOW = 4000


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class SearchResults:
    query: str
    kind: str  # "email", "phone", "name", "code" or "" when the query is too short
    orders: list[Order] = field(default_factory=list)
    guests: list[Guest] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    jump_to: Order | None = None  # an exact order code or ticket ID: go straight to the order

    @property
    def too_short(self) -> bool:
        return self.kind == ""

    @property
    def empty(self) -> bool:
        return not self.orders and not self.guests


def search_jump(access: Access, query: str) -> Order | None:
    """The order an exact order code or ticket ID names, if this access may see it."""
    if code := _code_like(query, ORDER_CODE_LENGTH):
        # iexact compiles to UPPER(code::text) = UPPER(%s): the order_code_upper index.
        order = orders_visible(access).filter(code__iexact=code).select_related("event").first()
        if order:
            return order
    if ticket_id := _code_like(query, TICKET_ID_LENGTH):
        ticket = Ticket.objects.filter(organisation=access.organisation, public_id=ticket_id).only("order_id").first()
        if ticket:
            return orders_visible(access).filter(pk=ticket.order_id).select_related("event").first()
    return None


def _phone_variants(query: str) -> list[str]:
    digits = re.sub(r"\D", "", query)
    return sorted({query.strip(), digits, f"+{digits}", re.sub(r"[^\d+]", "", query)})


def _upper(column: str) -> Upper:
    """UPPER(column::text): the expression the trigram indexes are built on (migration_ops.trigram_index)."""
    return Upper(Cast(F(column), TextField()))


@dataclass(frozen=True)
class _Order:
    """One ordering, two ways: for the ORM, and for SQL over the columns of a subquery `s`."""

    orm: tuple[Any, ...]
    sql: str
    fields: tuple[str, ...]


NEWEST = _Order(
    orm=("-created_at", "-id"),
    sql="s.created_at DESC, s.pk DESC",
    fields=("created_at",),
)
# Accounts newest first: the primary key's index walks in that order, where an order by name would
# read a whole alphabet's worth of accounts before the first "Schröder".
NEWEST_ACCOUNTS = _Order(
    orm=("-id",),
    sql="s.pk DESC",
    fields=(),
)


def _first_matches(
    visible: QuerySet, columns: Sequence[str], query: str, order: _Order, limit: int, *, window: bool = True
) -> list[int]:
    """Ids of the first `limit` rows of `visible`, in `order`, with `query` in one of `columns` (case-insensitive).

    PostgreSQL: first the newest WINDOW rows through the ordering index (stops early for a common
    name: NOTES.md measured 3.7 ms for a surname on 10,000 orders); if they hold fewer than `limit`
    matches, the name is rare, so collect all its matches through the trigram indexes (a bitmap scan
    of a few hundred rows) and let SQL hand back only the first `limit` of them. Either way the cost
    is bounded, whatever the planner estimates for a LIKE '%…%'. `window=False` skips the first step
    where matches are always rare (email).
    """
    match = reduce(or_, (Q(**{f"{column}__icontains": query}) for column in columns))
    if not _is_postgres():
        return list(visible.filter(match).order_by(*order.orm).values_list("pk", flat=True)[:limit])
    if window:
        newest = visible.order_by(*order.orm).values(*dict.fromkeys(["pk", *order.fields, *columns]))[:WINDOW]
        newest_sql, newest_params = newest.query.sql_with_params()
        pattern = f"%{connection.ops.prep_for_like_query(query)}%"
        where = " OR ".join(f"UPPER(s.{column}::text) LIKE UPPER(%s)" for column in columns)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT s.pk FROM ({newest_sql}) s WHERE {where} ORDER BY {order.sql} LIMIT %s",
                [*newest_params, *[pattern] * len(columns), limit],
            )
            ids = [row[0] for row in cur.fetchall()]
        if len(ids) >= limit:
            return ids
    # The ordering runs over the matches only (MATERIALIZED keeps the planner from walking the ordering
    # index through a whole organisation for a rare name) and only `limit` ids come back: a name on a
    # few thousand orders ("Stein") used to ship every match here to be sorted.
    matches = visible.filter(match).order_by().values(*dict.fromkeys(["pk", *order.fields]))
    matches_sql, matches_params = matches.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            f"WITH s AS MATERIALIZED ({matches_sql}) SELECT s.pk FROM s ORDER BY {order.sql} LIMIT %s",
            [*matches_params, limit],
        )
        return [row[0] for row in cur.fetchall()]


def _rows(qs: QuerySet, ids: Sequence[int]) -> list:
    by_pk = qs.in_bulk(list(ids))
    return [by_pk[pk] for pk in ids if pk in by_pk]


def _exact_then_contains(
    visible: QuerySet,
    exact: Q | None,
    columns: Sequence[str],
    query: str,
    order: _Order,
    page: int,
    page_size: int,
    *,
    window: bool = True,
    exact_suffices: bool = False,
) -> tuple[list[int], bool]:
    """One page of ids: rows matching `exact` first (a btree lookup), then the rest containing `query`.

    With `exact_suffices`, exact matches alone answer (a whole email address that exists): the
    substring fill would cost a trigram scan of every trigram in the address for rows nobody asked for.
    """
    start, end = (page - 1) * page_size, page * page_size + 1
    exact_ids = list(visible.filter(exact).order_by(*order.orm).values_list("pk", flat=True)) if exact else []
    ids = exact_ids
    if exact_suffices and exact_ids:
        return ids[start : end - 1], len(ids) >= end
    if len(exact_ids) < end:
        seen = set(exact_ids)
        contains = _first_matches(visible, columns, query, order, end + len(exact_ids), window=window)
        ids = exact_ids + [pk for pk in contains if pk not in seen]
    return ids[start : end - 1], len(ids) >= end


def search(access: Access, query: str, *, page: int = 1, page_size: int = 20) -> SearchResults:
    """Orders and customer accounts matching `query`, best match first.

    Email (contains "@"): a whole address that exists answers exactly; otherwise (a fragment, or a
    whole address nobody has) the addresses containing it, newest first.
    Phone: the number as typed or as digits. Otherwise a name or email fragment, newest orders first
    and accounts newest first (an account of exactly that name first); on PostgreSQL also names spelt
    similarly (typos), through the NameWord vocabulary. Order codes and ticket IDs are exact: see search_jump.
    """
    query = " ".join(query.split())
    results = SearchResults(query=query, kind="", page=page)
    if not query:
        return results
    results.jump_to = search_jump(access, query)
    orders = orders_visible(access)
    guests = guests_visible(access)
    if results.jump_to is not None:
        results.kind = "code"
        results.orders = [results.jump_to] if page == 1 else []
        return results
    if "@" in query:
        results.kind = "email"
        whole = bool(_WHOLE_EMAIL.match(query))
        # LOWER(col) = lower(%s): the order_email_lower and guest_email_lower btree indexes, ~0.1 ms.
        order_exact = Q(email_lower=query.lower()) if whole else None
        guest_exact = Q(email_lower=query.lower()) if whole else None
        order_ids, more_orders = _exact_then_contains(
            orders.alias(email_lower=Lower("contact_email")),
            order_exact,
            ["contact_email"],
            query,
            NEWEST,
            page,
            page_size,
            window=False,
            exact_suffices=True,
        )
        guest_ids, more_guests = _exact_then_contains(
            guests.alias(email_lower=Lower("email")),
            guest_exact,
            ["email"],
            query,
            NEWEST_ACCOUNTS,
            page,
            page_size,
            window=False,
            exact_suffices=True,
        )
    elif _PHONE.match(query) and sum(c.isdigit() for c in query) >= 6:
        results.kind = "phone"
        variants = _phone_variants(query)
        order_ids, more_orders = _page_ids(orders.filter(contact_phone__in=variants), NEWEST, page, page_size)
        guest_ids, more_guests = _page_ids(guests.filter(phone__in=variants), NEWEST_ACCOUNTS, page, page_size)
    elif len(query) >= MIN_SUBSTRING:
        results.kind = "name"
        could_be_email = " " not in query
        order_ids, more_orders = _exact_then_contains(
            orders,
            None,  # no index on an order's whole name; a full name is rare enough to come first by itself
            ["contact_name", "contact_email"] if could_be_email else ["contact_name"],
            query,
            NEWEST,
            page,
            page_size,
        )
        guest_ids, more_guests = _exact_then_contains(
            guests,
            Q(name__iexact=query),  # UPPER(name) = UPPER(%s): the guest_name_upper index
            ["name", "email"] if could_be_email else ["name"],
            query,
            NEWEST_ACCOUNTS,
            page,
            page_size,
        )
    else:
        return results
    results.orders = _rows(orders.select_related("event"), order_ids)
    results.guests = _rows(guests, guest_ids)
    results.has_next = more_orders or more_guests
    if results.kind == "name" and page == 1:
        _add_similar_names(access, results, page_size)
    return results


def _page_ids(qs: QuerySet, order: _Order, page: int, page_size: int) -> tuple[list[int], bool]:
    start = (page - 1) * page_size
    ids = list(qs.order_by(*order.orm).values_list("pk", flat=True)[start : start + page_size + 1])
    return ids[:page_size], len(ids) > page_size


def similar_words(organisation_id: int, word: str, *, limit: int = 2) -> list[str]:
    """The words of the organisation's names spelt most like `word` (upper case), most similar first.

    PostgreSQL: pg_trgm's `%` over NameWord's trigram index (~1 ms over a few thousand words).
    SQLite: difflib over the same words (demo-sized data).
    """
    word = word.upper()
    words = NameWord.objects.filter(organisation_id=organisation_id)
    if _is_postgres():
        return list(
            words.alias(word_upper=_upper("word"))
            .filter(word_upper__trigram_similar=word)
            .annotate(similarity=TrigramSimilarity(_upper("word"), word))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)[:limit]
        )
    return get_close_matches(word, list(words.values_list("word", flat=True)), n=limit, cutoff=0.75)


def _corrections(organisation_id: int, query: str) -> list[str]:
    """Queries with each misspelt word replaced by the closest known name word ("ANA MÜLER" → "ANNA MÜLLER")."""
    words = query.upper().split()
    options = [
        [w] if len(w) < MIN_SUBSTRING else (similar_words(organisation_id, w, limit=2 if len(words) == 1 else 1) or [w])
        for w in words
    ]
    if len(words) == 1:
        return [w for w in options[0] if w != words[0]]
    corrected = " ".join(o[0] for o in options)
    return [corrected] if corrected != " ".join(words) else []


def _add_similar_names(access: Access, results: SearchResults, page_size: int) -> None:
    """Typo tolerance: when the substring search left room on the first page, fill it with the orders and
    accounts of the closest spelling(s) of the name found in the NameWord vocabulary.

    Kept out of the main query on purpose: pg_trgm's `%` over every order's name reads ~12,000 candidate
    rows per query at a million orders; over the vocabulary of distinct words it is ~1 ms.
    """
    if len(results.orders) >= page_size and len(results.guests) >= page_size:
        return
    fills: list[tuple[str, QuerySet, list[str], _Order]] = [
        ("orders", orders_visible(access).select_related("event"), ["contact_name"], NEWEST),
        ("guests", guests_visible(access), ["name"], NEWEST_ACCOUNTS),
    ]
    for corrected in _corrections(access.organisation.pk, results.query):
        for kind, visible, columns, order in fills:
            shown: list = getattr(results, kind)
            room = page_size - len(shown)
            if room <= 0:
                continue
            seen = {row.pk for row in shown}
            ids = [pk for pk in _first_matches(visible, columns, corrected, order, page_size) if pk not in seen]
            shown += _rows(visible, ids[:room])
