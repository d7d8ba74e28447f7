"""Every write to tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import Ticket

if TYPE_CHECKING:
    from orders.models import Order


def tickets_issue(*, order: Order) -> list[Ticket]:
    """One valid ticket per admission in the order's lines. Issuing twice issues nothing new."""
    if order.tickets.exists():
        return list(order.tickets.all())
    tickets = [
        Ticket(
            organisation_id=order.organisation_id,
            event_id=order.event_id,
            order=order,
            line=line,
            ticket_type_id=line.ticket_type_id,
            attendee_name="" if line.ticket_type.requires_personal_data else order.contact_name,
        )
        for line in order.lines.select_related("ticket_type")
        for _ in range(line.quantity)
    ]
    return Ticket.objects.bulk_create(tickets)
