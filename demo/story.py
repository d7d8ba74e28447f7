"""One order's story, walked through the services under the demo clock (demo/seed.py runs them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from orders.models import Order
from orders.services import (
    LineRequest,
    order_cancel,
    order_create,
    order_expire,
    order_mark_confirming_payment,
    order_mark_paid,
    order_send_held_tickets,
    order_start_payment,
)
from orders.timeline import timeline_record
from organiser_portal.codes import ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.models import Event, TicketType
from tickets.models import Scan, Ticket

from .clock import Clock
from .context import Builder
from .mail import MailStory, send_story
from .money import demo_payment, processing_fee, refund_story
from .scans import door_setup, scans_for_order, stranger_scans
from .specs import (
    ANNA_CODE,
    ANNA_EMAIL,
    ANNA_NAME,
    DEMO_ORG_SLUG,
    NEED_TWO_TICKETS,
    RECENT_MAIL,
    RECENT_STORIES,
    SEED,
)


class OrderStory:
    """Walks one order at a time through the services, the demo clock set to when each step happened."""

    def __init__(
        self, builder: Builder, event: Event, ticket_types: list[TicketType], clock: Clock, *, scans: bool
    ) -> None:
        self.b = builder
        self.rng = builder.rng
        self.clock = clock
        self.event = event
        self.ticket_types = ticket_types
        self.scans = scans
        users = builder.users
        if event.organisation.slug == DEMO_ORG_SLUG:
            self.staff = [users["manager@demo.example"], users["owner@demo.example"]]
            self.agents = [users["support@demo.example"], users["manager@demo.example"]]
        else:
            self.staff = self.agents = [users["other@demo.example"]]
        self.scan_rows: list[Scan] = []

    def sale_time(self, story: str, mail: str) -> datetime:
        now = self.b.now
        if story == "anna":
            return now - timedelta(days=3, hours=4, minutes=17)
        if story in RECENT_STORIES or (story == "paid" and mail in RECENT_MAIL):
            return now - timedelta(minutes=self.rng.randint(3, 40))
        latest = min(now, self.event.starts_at) - timedelta(days=4)
        return latest - timedelta(minutes=self.rng.randint(0, 60 * 24 * 55))

    def lines(self, story: str) -> list[LineRequest]:
        types = self.ticket_types
        if story == "anna":
            return [LineRequest(next(t for t in types if t.name == "Festival pass"), 2)]
        minimum = 2 if story in NEED_TWO_TICKETS else 1
        quantity = max(minimum, self.rng.choices([1, 2, 3, 4], weights=[45, 35, 12, 8])[0])
        first = self.rng.choices(types, weights=[6, 3, 1][: len(types)])[0]
        if len(types) > 1 and quantity >= 3 and self.rng.random() < 0.3:
            other = self.rng.choice([t for t in types if t != first])
            return [LineRequest(first, quantity - 1), LineRequest(other, 1)]
        return [LineRequest(first, quantity)]

    def run(self, story: str, mail: str, *, contact: dict | None = None, code: str | None = None) -> Order:
        rng, clock = self.rng, self.clock
        if contact is None:
            typo = mail in (MailStory.BOUNCED, MailStory.FIXED_AND_RESENT)
            contact = self.b.people.contact(self.event.organisation, typo=typo)
        created = self.sale_time(story, mail)
        discount = Decimal("10") if rng.random() < 0.08 else Decimal("0")
        clock.at = created
        order = order_create(
            event=self.event,
            lines=self.lines(story),
            promo_code="EARLYBIRD" if discount else "",
            discount_percent=discount,
            created_at=created,
            **contact,
        )
        order.code = code or self.b.code(ORDER_CODE_LENGTH)
        Order.objects.filter(pk=order.pk).update(code=order.code)
        self._after_create(order, story, mail, created)
        return order

    def _after_create(self, order: Order, story: str, mail: str, created: datetime) -> None:
        rng, clock = self.rng, self.clock
        if story == "reserved":
            return
        if story == "expired_timeout":
            clock.at = created + timedelta(minutes=15)
            order_expire(order=order, reason="reservation timed out after 15 minutes")
            return
        if story == "cancelled_unpaid":
            clock.at = created + timedelta(minutes=rng.randint(5, 14))
            order_cancel(
                actor=rng.choice(self.staff),
                order=order,
                reason="duplicate order",
                notify_customer=False,
                idempotency_key=f"demo-{order.pk}-cancel",
            )
            return
        clock.at = created + timedelta(seconds=rng.randint(40, 300))
        provider, method, prefix = demo_payment(rng.choice(["stripe", "stripe", "paypal"]), story)
        reference = f"{prefix}_{self.b.code(14)}"
        order_start_payment(order=order, provider=provider, reference=reference, method=method)
        if story == "processing":
            return
        if story == "expired_payment":
            clock.at += timedelta(minutes=rng.randint(3, 20))
            order_expire(order=order, reason=rng.choice(["payment failed: card declined", "payment abandoned"]))
            return
        clock.at += timedelta(seconds=rng.randint(5, 40))
        order_mark_confirming_payment(order=order)
        if story == "confirming":
            return
        clock.at += timedelta(seconds=rng.randint(45, 120))
        paid_at = clock.at
        order = order_mark_paid(order=order, processing_fee=processing_fee(order.total, order.currency))
        tickets = self._name_tickets(order)
        self._personal_data(order, tickets, paid_at)
        if order.tickets_held:
            if rng.random() < 0.55:
                return  # still waiting for someone to look at it
            clock.at = paid_at + timedelta(hours=rng.randint(2, 72))
            order = order_send_held_tickets(actor=rng.choice(self.agents), order=order)
        # Anna's bounce waits for the visitor to fix it: no SMS for her.
        last = send_story(self, order, mail, clock.at, sms_allowed=story != "anna")
        after = min(last + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 12)), self.b.now - timedelta(hours=1))
        refund_story(self, order, story, tickets, after)
        if self.scans and story != "anna":  # Anna hasn't got her tickets, so she hasn't come in yet
            self.scan_rows += scans_for_order(self, order)

    def _name_tickets(self, order: Order) -> list[Ticket]:
        """Ticket IDs from the seeded generator, so a fresh seed prints the same IDs."""
        tickets = list(order.tickets.select_related("ticket_type", "line").order_by("id"))
        for ticket in tickets:
            ticket.public_id = self.b.code(TICKET_ID_LENGTH)
        Ticket.objects.bulk_update(tickets, ["public_id"])
        return tickets

    def _personal_data(self, order: Order, tickets: list[Ticket], paid_at: datetime) -> None:
        """Tickets that need personal data: most filled in at checkout, some later by support, some still missing."""
        needing = [t for t in tickets if t.ticket_type.requires_personal_data]
        for ticket in needing:
            roll = self.rng.random()
            if roll < 0.25:
                continue
            person = self.b.people.attendee(first=ticket is needing[0], order=order)
            ticket.attendee_name, ticket.attendee_email = person["name"], person["email"]
            ticket.attendee_data = {"company": person["company"], "job_title": person["job_title"]}
            ticket.personal_data_missing = False
            if roll > 0.9:
                self.clock.at = paid_at + timedelta(days=self.rng.randint(1, 3))
                timeline_record(
                    order=order,
                    action="ticket.personalised",
                    actor=self.rng.choice(self.agents),
                    data={"ticket": ticket.public_id, "changes": f"name — → {ticket.attendee_name}"},
                )
        if needing:
            Ticket.objects.bulk_update(
                needing, ["attendee_name", "attendee_email", "attendee_data", "personal_data_missing"]
            )
        self.clock.at = paid_at

    def scan_strangers(self) -> None:
        scans = self.scan_rows + stranger_scans(self)
        door_setup(self, scans)
        Scan.objects.bulk_create(scans)
        self.scan_rows = []

    def run_anna(self) -> Order:
        """Anna Müller bought two festival passes as a guest; her tickets email bounced on a typo in the domain."""
        state = self.rng.getstate()
        self.rng.seed(SEED + 1)  # her order doesn't shift anyone else's data
        try:
            contact = {"contact_name": ANNA_NAME, "contact_email": ANNA_EMAIL, "contact_phone": "+49 151 23456789"}
            return self.run("anna", MailStory.BOUNCED, contact=contact, code=ANNA_CODE)
        finally:
            self.rng.setstate(state)
