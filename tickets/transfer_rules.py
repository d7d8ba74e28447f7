"""When a ticket may be transferred, reissued, or its transfer cancelled, and why not. One source for the order
page's ticket rows and for the services (tickets.transfers), like orders/rules.py for the ⋯ menu.

Each `refusal_*` returns None when the action may run now, or the reason in the words the page shows. The role
is checked separately (organiser_portal.permissions: Perm.TRANSFER).
"""

from __future__ import annotations

from orders.models import Order
from orders.rules import refusal_not_paid

from .models import Ticket, TicketReplacement


def _unusable(ticket: Ticket, verb: str) -> str | None:
    if not ticket.is_valid:
        return f"Ticket {ticket.public_id} is {ticket.display_status.lower()}: it can't be {verb}"
    if ticket.used_at is not None:
        return f"Ticket {ticket.public_id} has been used at the door: it can't be {verb}"
    return None


def refusal_transfer(order: Order, ticket: Ticket) -> str | None:
    """A valid, unused ticket of a paid order may go to another person."""
    return refusal_not_paid(order) or _unusable(ticket, "transferred")


def refusal_reissue(order: Order, ticket: Ticket) -> str | None:
    """A valid, unused ticket of a paid order may get a new ID and code. A used one is refused: its new code
    would let a second person in, and its old one admits no one again anyway."""
    return refusal_not_paid(order) or _unusable(ticket, "reissued")


def refusal_transfer_cancel(order: Order, replacement: TicketReplacement, new_ticket: Ticket) -> str | None:
    """An active transfer may be undone while its new ticket is valid and unused."""
    if replacement.kind != TicketReplacement.Kind.TRANSFER:
        return "Only a transfer can be cancelled"
    if replacement.status == TicketReplacement.Status.CANCELLED:
        return "The transfer is cancelled already"
    if reason := refusal_not_paid(order):
        return reason
    if not new_ticket.is_valid:
        return f"The new ticket {new_ticket.public_id} is {new_ticket.display_status.lower()}: the transfer can't be cancelled"
    if new_ticket.used_at is not None:
        return f"The new ticket {new_ticket.public_id} has been used at the door: the transfer can't be cancelled"
    return None


def reissue_recipient(order: Order, ticket: Ticket) -> str:
    """Who a reissue's "email the new ticket" goes to: the ticket's attendee when it names one, else the order's
    contact."""
    return ticket.attendee_email or order.contact_email
