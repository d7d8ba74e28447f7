"""The demo's box office (orders.box_office) at the first event, whose doors are open: a walk-in paid by card at the
door, and two festival passes given to the press. Run after every other order and scan, so what it draws from the
seeded generator (codes, ticket IDs: a fresh seed prints the same ones) leaves the rest of the data as it was."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from orders.box_office import Complimentary, PaidAtBoxOffice, box_office_order_create
from orders.models import Order
from orders.services import LineRequest
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.models import Event
from tickets.models import Ticket

from .mail import MailStory, deliver
from .specs import DEMO_ORG_SLUG, ORGS

if TYPE_CHECKING:
    from .clock import Clock
    from .context import Builder, StoryContext

# (minutes ago, ticket type, quantity, contact, payment, who sold it)
SALES = (
    (95, "Festival pass", 2, ("Jonas Petersen", "j.petersen@abendblatt.example"),
     Complimentary("Press: Hamburger Abendblatt review"), "manager@demo.example"),
    (22, "Day ticket", 2, ("Lea Schröder", "lea.schroeder@example.com"),
     PaidAtBoxOffice("Card", reference="Terminal 2 · 004711"), "support@demo.example"),
)  # fmt: skip


class _Aside:
    """What `deliver` reads of a story, with a generator of its own for the emails' delivery times."""

    def __init__(self, b: Builder, clock: Clock) -> None:
        self.b, self.clock = b, clock
        self.rng = random.Random("box office")


def demo_box_office(b: Builder, clock: Clock) -> list[Order]:
    """The box office's orders, made through `box_office_order_create` under the demo clock."""
    event = Event.objects.get(organisation__slug=DEMO_ORG_SLUG, name=ORGS[0].events[0].name)
    aside = _Aside(b, clock)
    made = []
    for minutes, type_name, quantity, (name, email), payment, seller in SALES:
        clock.at = b.now - timedelta(minutes=minutes)
        order = box_office_order_create(
            actor=b.users[seller],
            event=event,
            lines=[LineRequest(event.ticket_types.get(name=type_name), quantity)],
            contact_name=name,
            contact_email=email,
            payment=payment,
            idempotency_key=f"demo-box-office-{minutes}",
        )
        Order.objects.filter(pk=order.pk).update(code=b.code(ORDER_CODE_LENGTH))
        for ticket in order.tickets.order_by("id"):
            Ticket.objects.filter(pk=ticket.pk).update(public_id=b.code(TICKET_ID_LENGTH))
        deliver(cast("StoryContext", aside), order.messages.first(), MailStory.DELIVERED, clock.at)
        made.append(order)
    clock.at = None
    return made
