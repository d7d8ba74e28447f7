"""The one search box: orders and customer accounts by name, email, phone, order code or ticket ID.

Everything is scoped through the user's Access (organisation and regions). The queries are written
to stay fast at a million orders: lookups that hit an index (exact code / ticket ID / email / phone,
trigram indexes on UPPER(name) and UPPER(email)), no COUNT over large sets (fetch one row more than
a page to know whether there is a next one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Upper

from orders.models import Order
from orders.selectors import orders_visible
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.permissions import Access
from tickets.models import Ticket

from .models import Guest
from .selectors import _code_like, guests_visible

MIN_SUBSTRING = 3  # a trigram index needs three characters to narrow anything down
_PHONE = re.compile(r"^\+?[\d\s\-()/.]{6,}$")


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


def _page(qs: QuerySet, page: int, page_size: int) -> tuple[list, bool]:
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size + 1])
    return rows[:page_size], len(rows) > page_size


def _rank_text(column: str, query: str) -> Case:
    """0 exact, 1 starts with, 2 contains (case-insensitive): the best match first."""
    return Case(
        When(Q(**{f"{column}__iexact": query}), then=Value(0)),
        When(Q(**{f"{column}__istartswith": query}), then=Value(1)),
        When(Q(**{f"{column}__icontains": query}), then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def _upper(column: str) -> Upper:
    """UPPER(column::text): the expression the trigram indexes are built on (migration_ops.trigram_index)."""
    return Upper(Cast(F(column), TextField()))


def _similarity(column: str, query: str) -> TrigramSimilarity:
    return TrigramSimilarity(_upper(column), query.upper())


def search(access: Access, query: str, *, page: int = 1, page_size: int = 20) -> SearchResults:
    """Orders and customer accounts matching `query`, best match first.

    Email (contains "@"): exact, then prefix, then substring. Phone: the number as typed or as
    digits. Otherwise a name or email fragment; on PostgreSQL also names that are similar
    (typos), ranked by trigram similarity. Order codes and ticket IDs are exact: see search_jump.
    """
    query = " ".join(query.split())
    results = SearchResults(query=query, kind="", page=page)
    if not query:
        return results
    results.jump_to = search_jump(access, query)
    orders = orders_visible(access).select_related("event")
    guests = guests_visible(access)
    if results.jump_to is not None:
        results.kind = "code"
        results.orders = [results.jump_to] if page == 1 else []
        return results
    if "@" in query:
        results.kind = "email"
        orders = orders.filter(contact_email__icontains=query).annotate(rank=_rank_text("contact_email", query))
        guests = guests.filter(email__icontains=query).annotate(rank=_rank_text("email", query))
        order_by: tuple[Any, ...] = ("rank", "-created_at", "-id")
        guest_order: tuple[Any, ...] = ("rank", "name", "id")
    elif _PHONE.match(query) and sum(c.isdigit() for c in query) >= 6:
        results.kind = "phone"
        variants = _phone_variants(query)
        orders = orders.filter(contact_phone__in=variants)
        guests = guests.filter(phone__in=variants)
        order_by, guest_order = ("-created_at", "-id"), ("name", "id")
    elif len(query) >= MIN_SUBSTRING:
        results.kind = "name"
        order_match = Q(contact_name__icontains=query)
        guest_match = Q(name__icontains=query)
        if " " not in query:  # could be a fragment of an email address too
            order_match |= Q(contact_email__icontains=query)
            guest_match |= Q(email__icontains=query)
        orders = orders.filter(order_match).annotate(rank=_rank_text("contact_name", query))
        guests = guests.filter(guest_match).annotate(rank=_rank_text("name", query))
        order_by, guest_order = ("rank", "-created_at", "-id"), ("rank", "name", "id")
    else:
        return results
    results.orders, more_orders = _page(orders.order_by(*order_by), page, page_size)
    results.guests, more_guests = _page(guests.order_by(*guest_order), page, page_size)
    results.has_next = more_orders or more_guests
    if results.kind == "name" and page == 1 and _is_postgres():
        _add_similar_names(access, results, page_size)
    return results


def _add_similar_names(access: Access, results: SearchResults, page_size: int) -> None:
    """Typo tolerance: when the substring search left room on the first page, fill it with the most similar
    names (pg_trgm's `%` on UPPER(name::text), served by the trigram index), most similar first.

    Kept out of the main query on purpose: OR-ing `%` into it makes PostgreSQL score every row.
    """
    query = results.query.upper()
    if len(results.orders) < page_size:
        similar_orders = (
            orders_visible(access)
            .select_related("event")
            .alias(name_upper=_upper("contact_name"))
            .filter(name_upper__trigram_similar=query)
            .exclude(pk__in=[o.pk for o in results.orders])
            .annotate(similarity=_similarity("contact_name", query))
            .order_by("-similarity", "-created_at", "-id")
        )
        results.orders += list(similar_orders[: page_size - len(results.orders)])
    if len(results.guests) < page_size:
        similar_guests = (
            guests_visible(access)
            .alias(name_upper=_upper("name"))
            .filter(name_upper__trigram_similar=query)
            .exclude(pk__in=[g.pk for g in results.guests])
            .annotate(similarity=_similarity("name", query))
            .order_by("-similarity", "name", "id")
        )
        results.guests += list(similar_guests[: page_size - len(results.guests)])
