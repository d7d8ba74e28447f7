"""Capacity: how many tickets of a ticket type are taken, and the check every new order passes.

A ticket type's `capacity` (None: no limit) counts its valid tickets and the admissions of orders still waiting
for their payment (their tickets are issued when paid). Expired, cancelled and refunded admissions are free again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import Count, Sum

from organiser_portal.models import TicketType
from tickets.models import Ticket

from .errors import OrderActionError
from .models import Order, OrderLine

# Orders whose admissions are taken but whose tickets are not issued yet (issued when paid).
HOLDING_SEATS = (Order.Status.RESERVED, Order.Status.PROCESSING_PAYMENT, Order.Status.CONFIRMING_PAYMENT)


def capacity_taken(ticket_type_ids: Iterable[int]) -> dict[int, int]:
    """{ticket type id: admissions taken}, every id given present (0 when none)."""
    ids = list(ticket_type_ids)
    taken = dict.fromkeys(ids, 0)
    valid = (
        Ticket.objects.filter(ticket_type_id__in=ids, status=Ticket.Status.VALID)
        .values_list("ticket_type_id")
        .annotate(n=Count("id"))
    )
    waiting = (
        OrderLine.objects.filter(ticket_type_id__in=ids, order__status__in=HOLDING_SEATS)
        .values_list("ticket_type_id")
        .annotate(n=Sum("quantity"))
    )
    for type_id, n in [*valid, *waiting]:
        taken[type_id] += n or 0
    return taken


def _totals(wanted: Iterable[tuple[TicketType, int]]) -> tuple[Counter[int], dict[int, TicketType]]:
    totals: Counter[int] = Counter()
    by_id: dict[int, TicketType] = {}
    for ticket_type, quantity in wanted:
        totals[ticket_type.pk] += quantity
        by_id[ticket_type.pk] = ticket_type
    return totals, by_id


def _shortfall(totals: Counter[int], by_id: dict[int, TicketType], limits: list[tuple[int, int | None]]) -> str | None:
    """Why the admissions don't fit (the first type that is short), or None."""
    limited = [(pk, capacity) for pk, capacity in limits if capacity is not None]
    if not limited:
        return None
    taken = capacity_taken(pk for pk, _ in limited)
    for pk, capacity in limited:
        left = max(capacity - taken[pk], 0)
        if totals[pk] > left:
            name = by_id[pk].name
            if left == 0:
                return f"'{name}' is sold out (capacity {capacity})."
            tickets = "1 ticket is" if left == 1 else f"{left} tickets are"
            return f"Only {tickets} left of '{name}' (capacity {capacity})."
    return None


def capacity_reserve(wanted: Iterable[tuple[TicketType, int]]) -> None:
    """Checks that `wanted` ((ticket type, admissions) pairs; a type may come twice) fits every limited type's capacity, locking those types'
    rows until the surrounding transaction ends, so two orders can't both take the last seats.

    Call inside the transaction that creates the order. Raises OrderActionError naming the first type that is
    short ("Only 3 tickets of 'Standing' are left.").
    """
    totals, by_id = _totals(wanted)
    limits = list(
        TicketType.objects.select_for_update()
        .filter(pk__in=totals, capacity__isnull=False)
        .order_by("pk")
        .values_list("pk", "capacity")
    )
    if reason := _shortfall(totals, by_id, limits):
        raise OrderActionError(reason)


def capacity_shortfall(wanted: Iterable[tuple[TicketType, int]]) -> str | None:
    """`capacity_reserve`'s refusal, or None, without taking locks: for a summary shown before an order is
    confirmed (the order itself checks again under the lock)."""
    totals, by_id = _totals(wanted)
    return _shortfall(totals, by_id, sorted((pk, tt.capacity) for pk, tt in by_id.items()))


def capacity_left(ticket_types: Iterable[TicketType]) -> dict[int, int | None]:
    """{ticket type id: admissions still free (never below 0), None when the type has no limit}."""
    types = list(ticket_types)
    taken = capacity_taken(tt.pk for tt in types if tt.capacity is not None)
    return {tt.pk: None if tt.capacity is None else max(tt.capacity - taken[tt.pk], 0) for tt in types}
