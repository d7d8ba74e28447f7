"""What an empty result says: what was searched, which filters may hide orders, what to try next and, only
when it is true, that no order means the purchase did not go through (DESIGN.md §1, workflow 9).

The purchase sentence is true only when the query names one buyer completely, a whole email address or a
complete phone number (see `is_complete`), and no order in any event the user may see has it. After a name,
a fragment, an order code or ticket ID, or under filters, an empty list proves nothing about a purchase, and
saying otherwise makes support agents ask paying customers to buy again.

The kind of query and the existence check are the search's own (`guests.search.search`), so every way the
search learns to match (phone numbers in any spelling, accents) makes these answers better too.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.models import Order
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.models import Event
from organiser_portal.permissions import Access
from organiser_portal.phones import is_complete_number

from .search import _WHOLE_EMAIL, SearchResults, search
from .selectors import _code_like


def is_complete(kind: str, query: str) -> bool:
    """Whether `query`, of the search's `kind` ("email", "phone", …), names one buyer completely: a whole
    email address (as guests.search reads one: something@domain.tld) or a complete phone number
    (organiser_portal.phones.is_complete_number)."""
    if kind == "email":
        return bool(_WHOLE_EMAIL.match(query))
    return kind == "phone" and is_complete_number(query)


@dataclass(frozen=True)
class EmptyResult:
    """Why a search or a guest list shows nothing, for templates/guests/_empty_result.html."""

    query: str  # what was searched, spaces collapsed ("" for a guest list under filters alone)
    kind: str  # the search's kind: "email", "phone", "name", "code", or "" (nothing searched, or too short)
    complete: bool  # a whole email address or complete phone number (is_complete)
    no_purchase: bool  # say "No order means the purchase did not go through"
    event: Event | None  # the guest list searched; None for the search of all events
    filters: tuple[str, ...]  # active filters that may hide orders, as the page names them
    found: Order | None  # an order the search of all events finds for the query (an event's list only)
    code_like: bool  # shaped like an order code or ticket ID, yet no order has it
    some_regions: bool  # the member sees only some regions' events: an order elsewhere would not show
    tries: tuple[str, ...]  # what to try next: ("the email address", "the order code", "a ticket ID")

    @property
    def try_next(self) -> str:
        """ "Try the email address, the order code or a ticket ID"."""
        return f"Try {', '.join(self.tries[:-1])} or {self.tries[-1]}"


def empty_result(
    access: Access,
    query: str,
    *,
    event: Event | None = None,
    filters: tuple[str, ...] = (),
    everywhere: SearchResults | None = None,
) -> EmptyResult:
    """What to say when nothing matched `query` in the search of all events (`everywhere`: that search's own
    empty first page, when the caller has it) or in `event`'s guest list under `filters` (then the search of all
    events runs here: one search of at most one row a kind, only for an empty list)."""
    query = " ".join(query.split())
    # A region chosen for the session narrows what is listed, not what was bought: the purchase sentence is
    # decided over every event the membership allows.
    if everywhere is None or everywhere.page != 1 or access.chosen_region_id is not None:
        whole = access.without_region_choice()
        everywhere = search(whole, query, page_size=1) if query else SearchResults(query="", kind="")
    kind = everywhere.kind
    complete = is_complete(kind, everywhere.query)  # as the search read it: a pasted "<address>" is an address
    # The search of all events ignores the guest list's filters: no order there means none anywhere. A member
    # of some regions can't know that no order exists in the others: never told the purchase failed.
    no_purchase = complete and not everywhere.orders and access.region_ids is None
    found = everywhere.orders[0] if everywhere.orders and event is not None else None
    code_like = kind != "code" and any(_code_like(query, n) for n in (ORDER_CODE_LENGTH, TICKET_ID_LENGTH))
    return EmptyResult(
        query=query,
        kind=kind,
        complete=complete,
        no_purchase=no_purchase,
        event=event,
        filters=() if no_purchase else filters,
        found=found,
        code_like=code_like,
        some_regions=access.region_ids is not None,
        tries=_tries(kind, complete),
    )


def _tries(kind: str, complete: bool) -> tuple[str, ...]:
    if kind == "email":
        return ("the buyer's name", *_CODES) if complete else ("the whole email address", *_CODES)
    if kind == "phone" and not complete:
        return ("the number with its country code (such as +49)", "the email address", *_CODES)
    return ("the email address", *_CODES)


_CODES = ("the order code", "a ticket ID")
