""" "Find my tickets": a customer types their email address on the organisation's public form and receives one
email listing the links to the tickets pages of all their current orders there (tickets.pages.current_orders).

The page answers the same whether or not the address bought anything (no way to probe who bought), and takes the
same time: the request only counts its rate limits and hands the address to a task (`find_my_tickets_request`);
the task looks the orders up and writes the email through the outbox (`find_my_tickets_send`), none at all
without a current order. Requests are rate-limited per client and per address (settings.RATE_LIMITS), and
refused while the limits can't be counted (Redis down), since each may send an email.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from notifications.models import OutgoingMessage
from notifications.pacing import queue_task
from notifications.services import message_queue
from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record
from organiser_portal.models import Organisation
from organiser_portal.rate_limit import rate_limit, rate_limit_allows

from .pages import current_orders

log = logging.getLogger(__name__)

# The task is named, not imported: tasks call this module, so it must not import them (TicketsConfig.ready
# registers it).
FIND_TICKETS_TASK = "tickets.tasks.find_my_tickets_send"


class FindTicketsLimited(Exception):
    """Too many requests from this client or for this address: the text says so, for the page."""


LIMITED = "Too many requests. Please wait an hour before asking again, and look in your inbox and junk mail meanwhile."


def find_my_tickets_request(*, organisation: Organisation, email: str, client: str) -> str:
    """Count the request against the rate limits, then hand `email` (stripped) to the task that sends the links
    (`find_my_tickets_send`), with a new key naming this request. Returns the key. Reads no order and writes
    nothing, so the request costs the same whether or not the address bought.

    FindTicketsLimited (nothing handed over) past the rate limit of the client (`client`: its address) or of
    the address in this organisation, or while the limits can't be counted.
    """
    address = email.strip()
    if not rate_limit_allows(rate_limit("find_tickets_client"), client, when_down=False):
        raise FindTicketsLimited(LIMITED)
    if not rate_limit_allows(
        rate_limit("find_tickets_address"), f"{organisation.pk}:{address.lower()}", when_down=False
    ):
        raise FindTicketsLimited(LIMITED)
    request_key = f"find-tickets:{uuid.uuid4().hex}"
    find_my_tickets_hand_over(organisation_id=organisation.pk, email=address, request_key=request_key)
    return request_key


def find_my_tickets_hand_over(*, organisation_id: int, email: str, request_key: str) -> None:
    """Queue the task (with tasks in process: on the pacing thread, so the page never waits for the lookup).
    A broker that refuses is logged: the customer may ask again; the page can't tell them without telling
    who bought."""
    try:
        queue_task(FIND_TICKETS_TASK, organisation_id, email, request_key)
    except Exception:
        log.warning("Could not queue a find-my-tickets request of organisation %s", organisation_id, exc_info=True)


def find_my_tickets_send(*, organisation_id: int, email: str, request_key: str) -> OutgoingMessage | None:
    """Email `email` the links to its current orders' tickets pages of the organisation, as one message of kind
    TICKETS_LINKS through the outbox, attached to the first of those orders; each listed order's timeline notes
    the request (actor: the customer). Returns the message, or None when the address has no current order
    (nothing is sent, nothing written).

    Safe to run twice: the message carries `request_key`, and a run that finds it already written returns it.
    """
    address = email.strip()
    orders = current_orders(organisation_id, address)
    if not orders:
        return None
    with transaction.atomic():
        # Every listed order's row locked, by id as a webhook batch locks them: two runs of a request wait for each
        # other, and the timeline entries below wait for no lock held elsewhere (the soonest event's order first and
        # then the others' would deadlock with a batch holding a lower id). The rows only: their events locked too
        # would be taken in another order by a request for another address with orders at the same events.
        list(
            Order.objects.select_for_update(of=("self",))
            .filter(pk__in=[o.pk for o in orders])
            .order_by("pk")
            .only("pk")
        )
        done = OutgoingMessage.objects.filter(
            organisation_id=organisation_id, kind=OutgoingMessage.Kind.TICKETS_LINKS, idempotency_key=request_key
        ).first()
        if done is not None:
            return done
        for order in orders:
            timeline_record(
                order=order,
                action="tickets_page.links_requested",
                actor_kind=TimelineEntry.ActorKind.CUSTOMER,
                data={"recipient": address, "orders": len(orders)},
            )
        return message_queue(
            order=orders[0],
            kind=OutgoingMessage.Kind.TICKETS_LINKS,
            recipient=address,
            idempotency_key=request_key,
            record_timeline=False,
        )
