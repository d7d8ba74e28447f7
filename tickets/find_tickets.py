""" "Find my tickets": a customer types their email address on the organisation's public form and receives one
email listing the links to the tickets pages of all their current orders there (tickets.pages.current_orders).

The page answers the same whether or not the address bought anything (no way to probe who bought); only the
email, sent through the outbox, differs: none at all without a current order. Requests are rate-limited per
client and per address (settings.RATE_LIMITS), and refused while the limits can't be counted (Redis down),
since each may send an email.
"""

from __future__ import annotations

from django.db import transaction

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from orders.models import TimelineEntry
from orders.timeline import timeline_record
from organiser_portal.models import Organisation
from organiser_portal.rate_limit import rate_limit, rate_limit_allows

from .pages import current_orders


class FindTicketsLimited(Exception):
    """Too many requests from this client or for this address: the text says so, for the page."""


LIMITED = "Too many requests. Please wait an hour before asking again, and look in your inbox and junk mail meanwhile."


def find_my_tickets_request(*, organisation: Organisation, email: str, client: str) -> OutgoingMessage | None:
    """Email `email` the links to its current orders' tickets pages of `organisation`, as one message of kind
    TICKETS_LINKS through the outbox, attached to the first of those orders; each listed order's timeline notes
    the request (actor: the customer). Returns the message, or None when the address has no current order
    (nothing is sent, nothing written).

    FindTicketsLimited (nothing sent) past the rate limit of the client (`client`: its address) or of the
    address in this organisation, or while the limits can't be counted.
    """
    address = email.strip()
    if not rate_limit_allows(rate_limit("find_tickets_client"), client, when_down=False):
        raise FindTicketsLimited(LIMITED)
    if not rate_limit_allows(
        rate_limit("find_tickets_address"), f"{organisation.pk}:{address.lower()}", when_down=False
    ):
        raise FindTicketsLimited(LIMITED)
    orders = current_orders(organisation.pk, address)
    if not orders:
        return None
    with transaction.atomic():
        for order in orders:
            timeline_record(
                order=order,
                action="tickets_page.links_requested",
                actor_kind=TimelineEntry.ActorKind.CUSTOMER,
                data={"recipient": address, "orders": len(orders)},
            )
        return message_queue(
            order=orders[0], kind=OutgoingMessage.Kind.TICKETS_LINKS, recipient=address, record_timeline=False
        )
