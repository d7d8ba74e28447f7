"""What a refund gives back, computed from the order's lines: the one place refund amounts are worked out.

An order line holds totals for its tickets (`OrderLine`: price × quantity less the promo discount, tax included,
plus the booking fee). Each ticket's share of a line is that line split into `quantity` parts to the currency's
minor unit, the leftover minor units going one each to the line's first tickets, so the shares of a line's
tickets add up to the line exactly (EUR 10.00 over three tickets: 3.34, 3.33, 3.33; JPY 1000: 334, 333, 333).

Three kinds of refund (`refund_quote`):
- **tickets**: the chosen tickets' shares (price less discount, tax included), plus their booking fee only when
  `include_booking_fee` — by default the organiser keeps it and the quote says so (`booking_fee_kept`);
- **all**: every ticket that can still be refunded, the same way; with the booking fee, everything still
  refundable (booking fees kept by earlier refunds included);
- **custom amount**: any amount up to what is still refundable; no ticket changes.

What is still refundable is `total − refunded_total − refunding_total` (money back and money on its way back).
Every amount is a `Decimal` in the order's currency, with exactly its number of decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from organiser_portal.money import from_minor, minor_units, money_format, to_minor
from tickets.models import Ticket

from .errors import OrderActionError
from .models import Order, OrderLine

ZERO = Decimal("0")
# Tickets that can no longer be refunded: their money went back already, or they were passed on (a transfer
# issues a new ticket on the same line, which takes the old one's share).
_NOT_REFUNDABLE = frozenset({Ticket.InvalidReason.REFUNDED, Ticket.InvalidReason.CANCELLED})
# Tickets that hold no place in their line: replaced by a new ticket (transferred, reissued: tickets.transfers),
# or the new ticket of a transfer that was cancelled (the original holds the place again).
_REPLACED = (Ticket.InvalidReason.TRANSFERRED, Ticket.InvalidReason.REISSUED, Ticket.InvalidReason.TRANSFER_CANCELLED)


@dataclass(frozen=True)
class TicketShare:
    """One ticket's part of its order line, in the order's currency."""

    ticket: Ticket
    price: Decimal  # what the buyer paid for the ticket itself: its price less its share of the discount, tax included
    tax: Decimal  # the tax part of `price`
    booking_fee: Decimal  # its share of the line's booking fee

    @property
    def refundable(self) -> bool:
        return self.ticket.invalid_reason not in _NOT_REFUNDABLE


@dataclass(frozen=True)
class RefundQuote:
    """What one refund gives back. `amount` = `price` (+ `booking_fee` when `booking_fee_refunded`) for a ticket
    refund; for a custom amount it is that amount and the ticket figures are zero."""

    currency: str
    tickets: tuple[TicketShare, ...]  # the tickets that become "Invalid · refunded" (none for a custom amount)
    amount: Decimal  # what goes back to the buyer
    price: Decimal  # the tickets' prices less discount, tax included
    tax: Decimal  # the tax part of `price`
    booking_fee: Decimal  # the chosen tickets' booking fee
    booking_fee_refunded: bool  # whether `booking_fee` goes back; else the organiser keeps it
    refundable: Decimal  # what was still refundable before this refund
    custom: bool = False

    @property
    def booking_fee_kept(self) -> Decimal:
        return ZERO if self.booking_fee_refunded else self.booking_fee

    @property
    def remaining(self) -> Decimal:
        """What is still refundable after this refund."""
        return self.refundable - self.amount


def refundable_amount(order: Order) -> Decimal:
    """What may still go back: total − refunded_total − refunding_total, never below zero."""
    return max(order.total - order.refunded_total - order.refunding_total, ZERO)


def split_minor(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    """`total` in `parts` shares to the minor unit that add up to it exactly; the first shares take the leftover
    minor units: `split_minor(Decimal("10.00"), 3, "EUR")` is [3.34, 3.33, 3.33]. Raises ValueError for parts < 1."""
    if parts < 1:
        raise ValueError("A line has at least one ticket.")
    units = to_minor(total, currency)
    base, leftover = divmod(units, parts)
    return [from_minor(base + (1 if i < leftover else 0), currency) for i in range(parts)]


def ticket_shares(order: Order, *, lines: Iterable[OrderLine] | None = None) -> list[TicketShare]:
    """Every ticket of the order that holds a place in its line (replaced tickets don't: transferred, reissued), in ticket ID
    order within each line, with its share. Two queries (lines, tickets) unless `lines` is given."""
    currency = order.currency
    lines = list(order.lines.all() if lines is None else lines)
    tickets = (
        Ticket.objects.filter(order=order)
        .exclude(invalid_reason__in=_REPLACED)
        .select_related("ticket_type")
        .order_by("id")
    )
    by_line: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        by_line.setdefault(ticket.line_id, []).append(ticket)
    shares: list[TicketShare] = []
    for line in lines:
        q = line.quantity
        prices = split_minor(line.unit_price * q - line.discount, q, currency)
        taxes = split_minor(line.tax, q, currency)
        fees = split_minor(line.booking_fee, q, currency)
        for i, ticket in enumerate(by_line.get(line.pk, [])[:q]):
            shares.append(TicketShare(ticket, prices[i], taxes[i], fees[i]))
    return shares


def parse_amount(text: str | Decimal, currency: str) -> Decimal:
    """A custom amount as typed ("12.50", "12,50", "1200") in the currency's minor unit. Raises OrderActionError
    for anything else: not a number, more decimals than the currency has (12.5 yen), zero or less."""
    try:
        amount = text if isinstance(text, Decimal) else Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise OrderActionError(f"“{text}” is not an amount.") from None
    if not amount.is_finite():
        raise OrderActionError(f"“{text}” is not an amount.")
    decimals = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-decimals)):
        unit = "whole amounts" if decimals == 0 else f"at most {decimals} decimals"
        raise OrderActionError(f"{currency} amounts take {unit}.")
    if amount <= 0:
        raise OrderActionError("A refund must be more than zero.")
    return amount.quantize(Decimal(1).scaleb(-decimals))


def refund_quote(
    order: Order,
    *,
    tickets: Sequence[str] = (),
    all_tickets: bool = False,
    include_booking_fee: bool = False,
    amount: Decimal | None = None,
    shares: Sequence[TicketShare] | None = None,
) -> RefundQuote:
    """What a refund of `order` gives back: the chosen `tickets` (public ticket IDs), or `all_tickets`, or a
    custom `amount` (exactly one of the three).

    Raises OrderActionError, with the text the form shows, when nothing or two kinds are chosen, a ticket is not
    the order's or can't be refunded any more, or the amount is more than is still refundable (or nothing is).
    `shares` spares the queries when the caller has `ticket_shares(order)` already.
    """
    currency = order.currency
    refundable = refundable_amount(order)
    kinds = sum((bool(tickets), all_tickets, amount is not None))
    if kinds != 1:
        raise OrderActionError("Choose what to refund: every ticket, some tickets, or an amount.")
    if refundable <= 0:
        raise OrderActionError("Nothing is left to refund: everything paid is refunded or on its way back.")
    if amount is not None:
        amount = parse_amount(amount, currency)
        if amount > refundable:
            raise OrderActionError(
                f"At most {_shown(refundable, currency)} can still be refunded, not {_shown(amount, currency)}."
            )
        return RefundQuote(currency, (), amount, ZERO, ZERO, ZERO, False, refundable, custom=True)
    shares = list(ticket_shares(order) if shares is None else shares)
    if all_tickets:
        chosen = [s for s in shares if s.refundable]
    else:
        by_id = {s.ticket.public_id: s for s in shares}
        wanted = list(dict.fromkeys(t.strip().upper() for t in tickets))
        if unknown := [t for t in wanted if t not in by_id]:
            raise OrderActionError(f"Not a ticket of order {order.code}: {', '.join(unknown)}.")
        chosen = [by_id[t] for t in wanted]
        if gone := [s.ticket for s in chosen if not s.refundable]:
            raise OrderActionError(
                "Already " + "; ".join(f"{t.public_id} {t.display_status.lower()}" for t in gone) + "."
            )
    price = sum((s.price for s in chosen), ZERO)
    tax = sum((s.tax for s in chosen), ZERO)
    fee = sum((s.booking_fee for s in chosen), ZERO)
    if all_tickets and include_booking_fee:
        total = refundable  # everything: booking fees kept by earlier refunds go back too
    elif all_tickets:
        total = min(price, refundable)
    else:
        total = price + fee if include_booking_fee else price
    if total <= 0:
        raise OrderActionError("No ticket is left to refund: refund the booking fee or an amount instead.")
    if total > refundable:
        raise OrderActionError(
            f"These tickets come to {_shown(total, currency)}, more than the {_shown(refundable, currency)} "
            "still refundable: refund an amount instead."
        )
    return RefundQuote(currency, tuple(chosen), total, price, tax, fee, include_booking_fee, refundable)


def _shown(amount: Decimal, currency: str) -> str:
    return money_format(amount, currency, style="code")
