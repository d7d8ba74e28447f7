"""The one search box: orders and customer accounts by name, email, phone, order code or ticket ID.

Everything is scoped through the user's Access (organisation and regions). The queries are written
to stay fast at a million orders: lookups that hit an index (exact code / ticket ID / email / phone /
full name; the text-search index of the words of names and addresses; trigram indexes on the folded name
and UPPER(email) for text inside a word), no COUNT over large sets (fetch one row more than a page to
know whether there is a next one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, reduce
from operator import and_, or_

from django.db.models import Expression, Q, QuerySet, Value
from django.db.models.functions import Lower, StrIndex, Upper
from django.db.models.lookups import GreaterThan

from orders.email_typos import suggest_email
from orders.models import Order
from orders.selectors import orders_visible
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.db import is_postgres
from organiser_portal.matching import MIN_QUERY, clipped_notice, clipped_query, fold, long_enough, name_key
from organiser_portal.permissions import Access
from organiser_portal.phones import as_typed_variants, looks_like_phone, phone_candidates
from tickets.models import Ticket

from .models import Customer
from .search_sql import Sort, collected_ids, estimated_matches, has_words, walked
from .selectors import _code_like, customers_visible, phone_regions
from .sql import similar_words

NAME_KEY = "name_key"  # the folded name's column, orders' and customer accounts' alike
_ORDER_PHONES = ("contact_phone", "contact_phone_e164")
_WHOLE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what PostgreSQL's text search parser keeps of a word


# What a result row shows (templates/guests/search.html): building 20 whole orders with their events
# was a fifth of a name search's CPU.
ORDER_ROW = (
    *("code", "customer_id", "contact_name", "contact_email", "status", "refunded_total", "tickets_held"),
    *("email_status", "created_at", "event__name", "event__time_zone"),
)
CUSTOMER_ROW = ("name", "email", "phone", "verified")


@dataclass
class SearchResults:
    query: str
    kind: str  # "email", "phone", "name", "code" or "" when the query is too short (matching.long_enough)
    orders: list[Order] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    clipped: bool = False  # the query was longer than is searched (matching.clipped_query)
    jump_to: Order | None = None  # an exact order code or ticket ID: go straight to the order

    @property
    def too_short(self) -> bool:
        return self.kind == ""

    @property
    def clipped_notice(self) -> str:
        return clipped_notice(clipped=self.clipped)

    @property
    def empty(self) -> bool:
        return not self.orders and not self.customers


def search_jump(access: Access, query: str) -> Order | None:
    """The order an exact order code or ticket ID names, if this access may see it (whatever region is chosen:
    the order page opens it anyway)."""
    access = access.without_region_choice()
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


Step = Callable[[int], list[int]]  # the ids of up to `limit` matching rows, in the search's sort


def _matching(visible: QuerySet, match: Q | Expression, sort: Sort) -> Step:
    """A step whose matches PostgreSQL finds through whichever index the planner prefers."""
    return lambda limit: list(visible.filter(match).order_by(*sort.orm).values_list("pk", flat=True)[:limit])


Terms = Sequence[Sequence[str]]  # words that must all match, each given as one or more alternative spellings


def _tsquery(terms: Terms, *, prefix: bool) -> str:
    """[anna], [müller, möller] → (anna) & (müller | möller), from letters and digits only, so nothing
    typed is read as tsquery syntax. With `prefix` the last term is a word's beginning, as it may
    still be being typed: (anna) & (mül:*). Earlier terms stay whole words: a prefix on a common first
    name ("anna:*") makes the index gather every word it starts, twice the time of "anna"."""

    def spelling(text: str, last: bool) -> str:
        return " & ".join(f"{part}:*" if prefix and last else part for part in _WORD.findall(text.lower()))

    groups = [
        " | ".join(f"({s})" for alternative in alternatives if (s := spelling(alternative, i == len(terms) - 1)))
        for i, alternatives in enumerate(terms)
    ]
    return " & ".join(f"({group})" for group in groups if group)


# Up to this many matches (the planner's estimate, from the words' statistics) collecting them all from the
# words index and sorting them costs less than walking the newest rows until the page is full; left to
# itself the planner walks too early. Always walking first was twice as slow for a misspelt or rare name,
# which then walks WALK_AT_MOST rows for nothing.
COLLECT_BELOW = 2500
# The most rows a walk reads before it collects instead: the estimate is for the whole table, and a name
# common among last year's buyers may be rare among the newest orders.
WALK_AT_MOST = 20_000


def _words(visible: QuerySet, columns: Sequence[str], terms: Terms, sort: Sort, *, prefix: bool) -> Step | None:
    """Rows with each of the terms as a word (with `prefix`, the last one as a word's beginning) in the
    name or in the email before the @.

    PostgreSQL: through `search_words`, whose statistics tell how many rows match (see COLLECT_BELOW).
    SQLite (demo-sized data): each term anywhere in the columns.
    """
    tsquery = _tsquery(terms, prefix=prefix)
    if not tsquery:
        return None
    if not is_postgres():
        return _matching(visible, reduce(and_, (_contains_any(columns, group) for group in terms)), sort)
    collected = _collected(visible.filter(has_words(visible.model, tsquery)), sort)

    def step(limit: int) -> list[int]:
        if estimated_matches(visible.model, tsquery) >= COLLECT_BELOW:
            newest = walked(visible, tsquery, sort, limit, at_most=WALK_AT_MOST)
            if len(newest) >= limit:
                return newest
        return collected(limit)

    return step


def _collected(matches: QuerySet, sort: Sort) -> Step:
    """A step that, on PostgreSQL, collects every match first and only then sorts them: for a name's few
    matches (see COLLECT_BELOW), and for matches the planner can't count (a LIKE '%…%', a STRPOS), where
    it would walk the sort's index through a whole organisation hoping to meet `limit` of them early."""
    if not is_postgres():
        return _matching(matches, Q(), sort)
    return lambda limit: collected_ids(matches, sort, limit)


def _contains(visible: QuerySet, columns: Sequence[str], query: str, sort: Sort) -> Step:
    """Rows with `query` anywhere in one of `columns` (a name_key compared with the query folded the same
    way, an email address case-insensitively): on PostgreSQL through their trigram indexes."""
    return _collected(visible.filter(_contains_any(columns, [query])), sort)


def _contains_any(columns: Sequence[str], texts: Sequence[str]) -> Q:
    """Any of `columns` containing any of `texts`. A name_key holds the name folded (matching.fold): it
    contains the text folded, by LIKE, which its trigram index on the bare column reads. Any other column
    (an email address) contains the text case-insensitively: UPPER(column) LIKE UPPER(text), which the
    trigram index on UPPER(column) reads."""
    return reduce(
        or_,
        (
            Q(**{f"{column}__contains": fold(text)}) if column == NAME_KEY else Q(**{f"{column}__icontains": text})
            for column in columns
            for text in texts
        ),
    )


def _rows(qs: QuerySet, ids: Sequence[int]) -> list:
    by_pk = qs.in_bulk(list(ids))
    return [by_pk[pk] for pk in ids if pk in by_pk]


def _page(steps: Sequence[tuple[Step | None, bool]], page: int, page_size: int) -> tuple[list[int], bool]:
    """One page of ids from the steps in turn: each adds the rows the earlier ones lack until the page, and
    one row more to know there is a next, is full. A step marked as a fallback runs only when nothing
    before it matched (a substring search after a word search that found no one)."""
    start, end = (page - 1) * page_size, page * page_size + 1
    ids: list[int] = []
    for step, fallback in steps:
        if step is None or len(ids) >= end or (fallback and ids):
            continue
        seen = set(ids)
        ids += [pk for pk in step(end + len(ids)) if pk not in seen]
    return ids[start : end - 1], len(ids) >= end


def search(
    access: Access, query: str, *, page: int = 1, page_size: int = 20, customers_only: bool = False
) -> SearchResults:
    """Orders and customer accounts matching `query`, best match first.

    Email (contains "@"): a whole address that exists answers exactly; otherwise (a fragment, or a
    whole address nobody has) the addresses containing it, newest first.
    Phone: the numbers the query may mean in E.164 (read in the organisation's and its events' countries),
    or the number as typed or as digits. Otherwise a name, folded as stored (organiser_portal.matching):
    exactly that name first, then words starting with the words typed, then similar spellings, then text
    inside a word (see _name_steps); at least 3 letters, 2 in Han, Hangul or Kana.
    Orders newest first, accounts newest first. Order codes and ticket IDs are exact: see search_jump.
    `customers_only` (the Customers list): accounts alone, no order and no jump.
    """
    query, clipped = clipped_query(query)
    query = _pasted_address(query)
    results = SearchResults(query=query, kind="", page=page, clipped=clipped)
    if not query:
        return results
    results.jump_to = None if customers_only else search_jump(access, query)
    if results.jump_to is not None:
        results.kind = "code"
        results.orders = [results.jump_to] if page == 1 else []
        return results
    if "@" in query:
        results.kind, steps = "email", _email_steps(query)
    elif looks_like_phone(query):
        results.kind, steps = "phone", _phone_steps(query, phone_regions(access.organisation))
    elif long_enough(query):
        results.kind, steps = "name", _name_steps(access.organisation.pk, query)
    else:
        return results
    order_target, customer_target = _targets(access)
    order_ids, more_orders = ([], False) if customers_only else _page(steps(order_target), page, page_size)
    customer_ids, more_customers = _page(steps(customer_target), page, page_size)
    results.orders = _rows(order_target.visible.select_related("event").only(*ORDER_ROW), order_ids)
    results.customers = _rows(customer_target.visible.only(*CUSTOMER_ROW), customer_ids)
    results.has_next = more_orders or more_customers
    return results


@dataclass(frozen=True)
class _Target:
    """What the search looks through (orders or customer accounts): the rows this access sees, their columns, their sort."""

    visible: QuerySet
    name_key: str  # the folded name (organiser_portal.matching.name_key)
    email: str
    phone: str  # as typed
    phone_e164: str
    sort: Sort


def _targets(access: Access) -> tuple[_Target, _Target]:
    # Accounts by the primary key, whose index walks newest first, where a sort by name would read a
    # whole alphabet's worth of accounts before the first "Schröder".
    return (
        _Target(orders_visible(access), NAME_KEY, "contact_email", *_ORDER_PHONES, Sort(("created_at", "pk"))),
        _Target(customers_visible(access), NAME_KEY, "email", "phone", "phone_e164", Sort(("pk",))),
    )


Steps = Callable[[_Target], list[tuple[Step | None, bool]]]  # a kind of query's steps for one target (see _page)


def _email_steps(query: str) -> Steps:
    """A whole address that exists answers exactly, from the LOWER(email) index; otherwise, or for a
    fragment, the addresses containing it.

    A fragment's whole words before the @ ("weber37" in "nna.weber37@": bounded on both sides, unlike
    "nna") are words of the address's `search_words`. One with a digit in it is nearly unique, so on
    PostgreSQL it narrows the rows through the words index before the address is compared, instead of
    a trigram scan that reads every trigram of the fragment. A plain word ("mueller") is too common to
    narrow much: the trigram scan stays cheaper."""
    whole = query.lower() if _WHOLE_EMAIL.match(query) else None
    local_words = _WORD.findall(query.lower().split("@")[0])[1:] if "@" in query and is_postgres() else []
    rare_words = [word for word in local_words if any(c.isdigit() for c in word)]

    def steps(t: _Target) -> list[tuple[Step | None, bool]]:
        exact = _matching(t.visible.alias(email_lower=Lower(t.email)), Q(email_lower=whole), t.sort) if whole else None
        misspelt = (_misspelt_domain(t, whole), True) if whole else (None, True)
        if not rare_words:
            return [(exact, False), misspelt, (_contains(t.visible, [t.email], query, t.sort), True)]
        # STRPOS rather than LIKE: the planner must not add the trigram index back through a LIKE.
        inside: GreaterThan = GreaterThan(StrIndex(Upper(t.email), Upper(Value(query))), 0)
        narrowed = t.visible.filter(
            has_words(t.visible.model, _tsquery([[w] for w in rare_words], prefix=False)), inside
        )
        return [(exact, False), misspelt, (_collected(narrowed, t.sort), True)]

    return steps


# The most addresses with the same part before the @ that _misspelt_domain reads (a handful in practice).
SAME_LOCAL_PART_AT_MOST = 200


def _misspelt_domain(t: _Target, address: str) -> Step:
    """The rows stored with the same part before the @ at a domain that is a typo of the one typed (the
    customer reads out "anna.mueller@gmail.com", checkout stored "anna.mueller@gmial.com"): the addresses
    containing "anna.mueller@" (the email trigram index), kept when orders.email_typos corrects them to it."""
    local = address.rpartition("@")[0] + "@"
    same_local = t.visible.filter(**{f"{t.email}__icontains": local}).order_by(*t.sort.orm)

    def step(limit: int) -> list[int]:
        rows = same_local.values_list("pk", t.email)[:SAME_LOCAL_PART_AT_MOST]
        return [pk for pk, email in rows if (suggest_email(email) or "").lower() == address][:limit]

    return step


_PASTED = re.compile(r"^(?:mailto:)?<?\s*([^<>\s]+@[^<>\s]+?)\s*>?[.,;]?$", re.IGNORECASE)


def _pasted_address(query: str) -> str:
    """An address as pasted from an email program, bare: "<anna@example.com>", "mailto:anna@example.com",
    "anna@example.com." (the end of a sentence) → "anna@example.com". Anything else unchanged."""
    match = _PASTED.match(query) if "@" in query else None
    return match.group(1) if match else query


def _phone_steps(query: str, regions: Sequence[str]) -> Steps:
    """The numbers the query may mean in E.164 (the (organisation, E.164) indexes), or the number as typed,
    as its digits, or as its digits after a + (the phone indexes: numbers that don't parse)."""
    candidates, variants = phone_candidates(query, regions), as_typed_variants(query)

    def steps(t: _Target) -> list[tuple[Step | None, bool]]:
        match = Q(**{f"{t.phone}__in": variants})
        if candidates:
            match |= Q(**{f"{t.phone_e164}__in": candidates})
        return [(_matching(t.visible, match, t.sort), False)]

    return steps


def _name_steps(organisation_id: int, query: str) -> Steps:
    """Everything compared folded (organiser_portal.matching.name_key: "Jose Ramirez" is José Ramírez).
    Exactly that full name first, for more than one word (the order_org_name_key / customer_org_name_key
    indexes hand them over newest first); then names and email addresses with words starting with the
    words typed (for Han, Hangul and Kana, two characters of a name written without spaces are a word). Only when these find no one: names with the known words spelt most like the words
    typed (typos); and when those find no one either, the name (or, for a single word, the email
    address) containing the text anywhere: "gmial.com", or "ottmüller" for "müller" with no Müller.
    """
    spellings = cache(lambda: _spellings(organisation_id, query))
    key = name_key(query)

    def steps(t: _Target) -> list[tuple[Step | None, bool]]:
        def similar(limit: int) -> list[int]:
            step = _words(t.visible, [t.name_key], terms, t.sort, prefix=False) if (terms := spellings()) else None
            return step(limit) if step else []

        one_word = " " not in query
        # A single word's exact matches ("Madonna") come among the words starting with it anyway.
        exact = None if one_word else _matching(t.visible, Q(**{t.name_key: key}), t.sort)
        return [
            (exact, False),
            (_words(t.visible, [t.name_key, t.email], [[w] for w in _WORD.findall(key)], t.sort, prefix=True), False),
            (similar, True),
            (_contains(t.visible, [t.name_key, t.email] if one_word else [t.name_key], query, t.sort), True),
        ]

    return steps


def _spellings(organisation_id: int, query: str) -> list[list[str]]:
    """For each word typed, folded, the known name words spelt most like it, or the word itself when it is
    one ("Ana Müler" → [anna, hanna], [muller, moller]); empty when every word is known."""
    words = _WORD.findall(fold(query))
    options = [[w] if len(w) < MIN_QUERY else similar_words(organisation_id, w) or [w] for w in words]
    known = [option[:1] if option[0] == word else option for word, option in zip(words, options, strict=True)]
    return known if any(option != [word] for word, option in zip(words, known, strict=True)) else []
