"""Reads for finding people and their orders: an event's guest list, the customer page (the search box: guests/search.py).

Everything is scoped through the user's Access. The queries are written to stay fast at a million
orders: lookups that hit an index, no COUNT over large sets (a capped count at most), keyset
pagination in the guest list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import Http404

from notifications.models import OutgoingMessage
from orders.models import Order, OrderEmailStatus, OrderLine, TimelineEntry
from orders.selectors import orders_visible, refunds_stuck
from organiser_portal.codes import ALPHABET, ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.keyset import keyset_page
from organiser_portal.matching import fold
from organiser_portal.models import Event, Organisation
from organiser_portal.permissions import Access
from organiser_portal.phones import as_typed_variants, looks_like_phone, phone_candidates
from tickets.models import Ticket

from .models import Customer

_CODE_CHARS = frozenset(ALPHABET)
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as guests.search splits a query into words


def customers_visible(access: Access) -> QuerySet[Customer]:
    """Customer accounts of the organisation; a region-limited member, or one who chose a region, sees those with
    an order in those regions (Access.listed_region_ids)."""
    customers = Customer.objects.filter(organisation=access.organisation)
    if (region_ids := access.listed_region_ids) is not None:
        customers = customers.filter(
            Exists(Order.objects.filter(customer=OuterRef("pk"), event__region_id__in=region_ids))
        )
    return customers


def _code_like(text: str, length: int) -> str | None:
    code = re.sub(r"[\s\-]", "", text).upper()
    return code if len(code) == length and set(code) <= _CODE_CHARS else None


def phone_regions(organisation: Organisation) -> list[str]:
    """The countries the organisation's phone numbers may be written in: its own and its events'."""
    events = Event.objects.filter(organisation=organisation).exclude(country="").order_by()
    return sorted({organisation.country, *events.values_list("country", flat=True).distinct()})


def guest_search_match(q: str, *, organisation: Organisation, event: Event | None = None) -> Q:
    """The orders (of `event`, or of any event) `q` finds: every word of its folded text inside the name, in
    any order and punctuation ("Muller, Anna" finds Anna Müller, "Eva Maria" Eva-Maria; words as
    organiser_portal.matching folds them, split into letters and digits like the search box's), the whole text
    inside the email address, the order code, a ticket ID of the order, or the phone number in any spelling
    (its E.164 forms in the event's and organisation's country, or as typed).

    Each word of three or more characters is a range of the trigram index on name_key; PostgreSQL ANDs them.
    """
    words = _WORD.findall(fold(q))
    names = Q(*(Q(name_key__contains=word) for word in words)) if words else Q(pk__in=[])
    match = names | Q(contact_email__icontains=q)
    if code := _code_like(q, ORDER_CODE_LENGTH):
        match |= Q(code__iexact=code)
    if ticket_id := _code_like(q, TICKET_ID_LENGTH):
        tickets = Ticket.objects.filter(event=event) if event else Ticket.objects.filter(organisation=organisation)
        match |= Q(pk__in=tickets.filter(public_id=ticket_id).values("order_id"))
    if looks_like_phone(q):
        match |= Q(contact_phone__in=as_typed_variants(q))
        regions = {event.phone_region, organisation.country} if event else set(phone_regions(organisation))
        if candidates := phone_candidates(q, regions):
            match |= Q(contact_phone_e164__in=candidates)
    return match


# --- An event's guest list ---------------------------------------------------------------------


SORTS = {"newest": "Newest first", "oldest": "Oldest first"}


@dataclass(frozen=True)
class GuestFilters:
    q: str = ""
    status: str = ""
    email_status: str = ""
    ticket_type: int | None = None
    held: bool = False
    refund_stuck: bool = False
    data_missing: bool = False  # a valid ticket still lacks attendee details its type requires
    sort: str = "newest"

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.status
            or self.email_status
            or self.ticket_type
            or self.held
            or self.refund_stuck
            or self.data_missing
        )


@dataclass
class GuestPage:
    orders: list[Order]
    next_cursor: str | None
    prev_cursor: str | None
    shown_count: int  # rows matching the filters, counted up to COUNT_CAP (a text search: see event_guest_orders)
    count_capped: bool  # "more than shown_count"


COUNT_CAP = 1000


def event_guest_orders(
    access: Access,
    event: Event,
    filters: GuestFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = 50,
    count_cap: int = COUNT_CAP,
) -> GuestPage:
    """One page of an event's orders under `filters`, by keyset on (created_at, id): page 1,000 costs what page 1 does.

    The matches are counted up to `count_cap`, except under a text search: a substring filter makes
    PostgreSQL read tens of thousands of the event's rows to count a thousand, so the page tells
    "more than <page size>" from the extra row it fetches anyway (the exact number when it is all).
    """
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    # The event is visible, so are its orders (an order belongs to its event's organisation): filtering by
    # the event alone lets the count run on the (event, status / email_status, created_at) indexes alone.
    orders = _filtered(Order.objects.filter(event=event), filters, organisation=event.organisation, event=event)
    return _keyset_page(orders, filters, after=after, before=before, page_size=page_size, count_cap=count_cap)


def event_guest_order_ids(
    access: Access, event: Event, filters: GuestFilters, *, limit: int | None = None
) -> list[int]:
    """Every order of the event under `filters` ("every order matching the filters" of a bulk send), newest first,
    at most `limit` (default BULK_SEND_MAX_ORDERS + 1, so that one too many is noticed). 404 as the guest list."""
    if event.organisation_id != access.organisation.pk or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    limit = settings.BULK_SEND_MAX_ORDERS + 1 if limit is None else limit
    orders = _filtered(Order.objects.filter(event=event), filters, organisation=event.organisation, event=event)
    return list(orders.order_by("-created_at", "-id").values_list("pk", flat=True)[:limit])


def orders_list(
    access: Access,
    filters: GuestFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = 50,
    count_cap: int = COUNT_CAP,
) -> GuestPage:
    """One page of every order this access lists, across its events ("Ticketing → Orders"), under the guest
    list's filters and with its keyset paging (`event_guest_orders`), each with its event.

    Fast at a million orders: the (organisation, created_at, id) index and its status, email status and
    held twins walk the newest rows; the count stops at `count_cap`.
    """
    orders = _filtered(orders_visible(access).select_related("event"), filters, organisation=access.organisation)
    return _keyset_page(orders, filters, after=after, before=before, page_size=page_size, count_cap=count_cap)


def _filtered(
    orders: QuerySet[Order], filters: GuestFilters, *, organisation: Organisation, event: Event | None = None
) -> QuerySet[Order]:
    """`orders` under the guest list's filters; the text as `guest_search_match` reads it."""
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.email_status:
        orders = orders.filter(email_status=filters.email_status)
    if filters.held:
        orders = orders.filter(tickets_held=True)
    if filters.refund_stuck:
        # The few stuck refunds first (their index), then their orders by key: never a walk over the orders.
        orders = orders.filter(pk__in=refunds_stuck(organisation).values("order_id"))
    if filters.data_missing:
        # Few tickets miss details: the partial index ticket_data_missing answers the EXISTS per order.
        missing = Ticket.objects.filter(order=OuterRef("pk"), personal_data_missing=True, status=Ticket.Status.VALID)
        orders = orders.filter(Exists(missing))
    if filters.ticket_type:
        orders = orders.filter(
            Exists(OrderLine.objects.filter(order=OuterRef("pk"), ticket_type_id=filters.ticket_type))
        )
    if filters.q:
        orders = orders.filter(guest_search_match(filters.q, organisation=organisation, event=event))
    return orders


def _keyset_page(
    orders: QuerySet[Order],
    filters: GuestFilters,
    *,
    after: str | None,
    before: str | None,
    page_size: int,
    count_cap: int,
) -> GuestPage:
    """One page of `orders` in the filters' sort, by keyset on (created_at, id), counted as `event_guest_orders` says."""
    shown_count = None if filters.q else orders.order_by().values("pk")[: count_cap + 1].count()

    page = keyset_page(
        orders, field="created_at", after=after, before=before, page_size=page_size, descending=filters.sort != "oldest"
    )
    rows, next_cursor, prev_cursor = page.rows, page.next_cursor, page.prev_cursor
    _attach_ticket_counts(rows)
    if shown_count is None:  # not counted: all on one page is exact, else more than a page
        if next_cursor or prev_cursor:
            return GuestPage(rows, next_cursor, prev_cursor, page_size, True)
        return GuestPage(rows, next_cursor, prev_cursor, len(rows), False)
    return GuestPage(rows, next_cursor, prev_cursor, min(shown_count, count_cap), shown_count > count_cap)


def _attach_ticket_counts(orders: Sequence[Order]) -> None:
    """Tickets per order for one page, in one query."""
    counts = dict(
        OrderLine.objects.filter(order__in=[o.pk for o in orders])
        .values("order")
        .annotate(n=Sum("quantity"))
        .values_list("order", "n")
    )
    for order in orders:
        order.ticket_count = counts.get(order.pk, 0)  # type: ignore[attr-defined]


# --- The customer page -------------------------------------------------------------------------


@dataclass
class CustomerDetail:
    customer: Customer
    orders: Sequence[Order]  # linked to the account
    unlinked_orders: Sequence[Order]  # guest checkouts with the same email
    first_order_at: datetime | None = None  # the earliest linked order's time (an account may be older)
    verification: OutgoingMessage | None = None  # the latest verification email


def customer_get(access: Access, customer_id: int) -> Customer:
    """An account the access sees, whatever region is chosen (the membership's view), else 404: the lookup of
    every page and action about one account, so another organisation's account or one whose orders are all
    outside the member's regions is never shown or touched."""
    customer = customers_visible(access.without_region_choice()).filter(pk=customer_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def customer_was_merged_into(keep: Customer, merged_id: int) -> bool:
    """Whether account `merged_id` was merged into `keep` (a timeline entry on an order it moved): a merge
    confirmed twice finds the other account gone and says so rather than 404."""
    return TimelineEntry.objects.filter(
        order__customer=keep, action="order.customer_merged", data__merged_id=merged_id
    ).exists()


def customer_with_email(organisation: Organisation, email: str) -> Customer | None:
    """The organisation's account with this address, in any case (the constraint customer_unique_email_per_org)."""
    return (
        Customer.objects.alias(email_lower=Lower("email"))
        .filter(organisation=organisation, email_lower=email.strip().lower())
        .first()
    )


def customer_detail(access: Access, customer_id: int) -> CustomerDetail:
    """One customer account and its orders, whatever region is chosen: the membership's view of them."""
    access = access.without_region_choice()
    customer = customer_get(access, customer_id)
    visible = orders_visible(access).select_related("event").order_by("-created_at", "-id")
    linked = list(visible.filter(customer=customer))
    # LOWER(contact_email) = lower(%s) is the order_email_lower index.
    unlinked = list(
        visible.alias(email_lower=Lower("contact_email")).filter(
            customer__isnull=True, email_lower=customer.email.lower()
        )
    )
    _attach_ticket_counts([*linked, *unlinked])
    first = min((order.created_at for order in linked), default=None)
    verification = customer.messages.filter(kind=OutgoingMessage.Kind.CUSTOMER_VERIFICATION).order_by("-pk").first()
    return CustomerDetail(customer, linked, unlinked, first, verification)


def events_visible(access: Access) -> QuerySet[Event]:
    """The events this access lists (its regions, or the one chosen), each with its support counts (orders,
    tickets, bounced emails, held orders)."""
    events = Event.objects.filter(access.event_filter()).select_related("region")
    orders = Order.objects.filter(event=OuterRef("pk")).order_by().values("event")
    tickets = Ticket.objects.filter(event=OuterRef("pk")).order_by().values("event")

    def count_of(qs):
        return Coalesce(Subquery(qs.annotate(n=Count("pk")).values("n")[:1]), 0)

    return events.annotate(
        order_count=count_of(orders),
        ticket_count=count_of(tickets),
        bounced_count=count_of(orders.filter(email_status=OrderEmailStatus.BOUNCED)),
        held_count=count_of(orders.filter(tickets_held=True)),
    )


# --- The Customers list --------------------------------------------------------------------------


@dataclass
class CustomerPage:
    customers: list[Customer]
    next_cursor: str | None  # the last account shown: the next page starts after it
    prev_cursor: str | None  # the first account shown: the previous page ends before it


def _parse_id(value: str | None) -> int | None:
    """A cursor of the Customers list: an account id this page wrote; anything else is a first page."""
    try:
        key = int(value or "")
    except ValueError:
        return None
    return key if 0 < key < 2**63 else None


def customers_list(
    access: Access, *, after: str | None = None, before: str | None = None, page_size: int = 50
) -> CustomerPage:
    """One page of the customer accounts this access lists, newest account first, by keyset on the id
    (the (organisation, id) index): no COUNT, page 1,000 costs what page 1 does. The search box's
    matches come from guests.search instead."""
    customers = customers_visible(access)
    if (key := _parse_id(before)) is not None:
        rows = list(customers.filter(pk__gt=key).order_by("pk")[: page_size + 1])
        more_before = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        next_cursor = str(rows[-1].pk) if rows else None
        return CustomerPage(rows, next_cursor, str(rows[0].pk) if rows and more_before else None)
    if (key := _parse_id(after)) is not None:
        customers = customers.filter(pk__lt=key)
    rows = list(customers.order_by("-pk")[: page_size + 1])
    more_after = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = str(rows[-1].pk) if rows and more_after else None
    return CustomerPage(rows, next_cursor, str(rows[0].pk) if rows and key is not None else None)
