"""Demo data for `manage.py seed_demo`: two organisations, their teams and events, and about 500 orders
whose stories show every status a support agent meets.

Deterministic: one seeded random generator drives every choice, and the identifiers people read
(order codes, ticket IDs, event IDs) come from it too, so a fresh seed always gives the same data.
About a hundred orders are walked through the order and notification services under a demo clock
(so the timeline reads as it happened); what has no service yet (refunds, cancellations, scans) is
written with the models, keeping sums and timeline true to DESIGN.md. The plain crowd around them
is written in bulk (crowd.py), row for row what the services would write.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from orders.models import Order, Refund
from orders.services import (
    LineRequest,
    _set_status,
    order_create,
    order_expire,
    order_mark_confirming_payment,
    order_mark_paid,
    order_send_held_tickets,
    order_start_payment,
)
from orders.timeline import timeline_record
from organiser_portal.codes import ALPHABET, EVENT_ID_LENGTH, ORDER_CODE_LENGTH, TICKET_ID_LENGTH
from organiser_portal.models import Event, Membership, Organisation, Region, TicketType
from tickets.models import Scan, Ticket

from .clock import Clock, demo_clock
from .crowd import crowd_orders
from .mail import MailStory, send_story
from .money import processing_fee, refund_story
from .people import People
from .scans import scans_for_order, stranger_scans

SEED = 20250611
DEMO_ORG_SLUG = "nordlicht"
OTHER_ORG_SLUG = "alpenklang"
DEMO_ORG_SLUGS = (DEMO_ORG_SLUG, OTHER_ORG_SLUG)
Role = Membership.Role
Status = Order.Status


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    org_slug: str | None
    role: str | None
    description: str
    first_name: str
    last_name: str
    regions: tuple[str, ...] = ()


LOGINS = (
    Login(
        "owner@demo.example", "demo-owner", DEMO_ORG_SLUG, Role.OWNER, "owner of Nordlicht Events", "Katrin", "Vogel"
    ),
    Login("manager@demo.example", "demo-manager", DEMO_ORG_SLUG, Role.MANAGER, "manager", "Mehmet", "Aydın"),
    Login("support@demo.example", "demo-support", DEMO_ORG_SLUG, Role.SUPPORT, "support agent", "Sofia", "Rossi"),
    Login("viewer@demo.example", "demo-viewer", DEMO_ORG_SLUG, Role.VIEWER, "viewer", "Lukas", "Brandt"),
    Login(
        "region@demo.example",
        "demo-region",
        DEMO_ORG_SLUG,
        Role.SUPPORT,
        "support agent limited to the Hamburg region",
        "Jana",
        "Petersen",
        ("Hamburg",),
    ),
    Login(
        "other@demo.example",
        "demo-other",
        OTHER_ORG_SLUG,
        Role.OWNER,
        "owner of Alpenklang (the second organisation)",
        "Florian",
        "Huber",
    ),
    Login("admin@demo.example", "demo-admin", None, None, "superuser (Django admin at /admin/)", "Ada", "Admin"),
)

# The guest browser tests and people look for: her ticket email bounced on a typo in the domain.
ANNA_CODE = "ANNA7MU"
ANNA_NAME = "Anna Müller"
ANNA_EMAIL = "anna.mueller@gmial.com"


# ---------------------------------------------------------------------------------------------
# What each event looks like and how many orders of which story it gets.


@dataclass(frozen=True)
class TicketTypeSpec:
    name: str
    price: str
    fee: str
    tax: str = "19.00"
    personal: bool = False
    capacity: int | None = None


@dataclass(frozen=True)
class EventSpec:
    name: str
    region: str
    venue: str
    starts_in: timedelta
    duration: timedelta
    ticket_types: tuple[TicketTypeSpec, ...]
    stories: int  # orders walked through the services, one story each
    crowd: int  # plain orders written in bulk (see crowd.py)
    send_automatically: bool = True
    time_zone: str = "Europe/Berlin"
    scans: bool = False  # the doors are open: tickets have been scanned


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    regions: tuple[str, ...]
    events: tuple[EventSpec, ...]


ORGS = (
    OrgSpec(
        DEMO_ORG_SLUG,
        "Nordlicht Events GmbH",
        ("Berlin", "Hamburg", "München"),
        (
            EventSpec(
                "Harbour Lights Festival",
                "Hamburg",
                "Elbufer Open-Air, Hamburg",
                timedelta(days=-1, hours=14),
                timedelta(days=3),
                (
                    TicketTypeSpec("Day ticket", "49.00", "2.50"),
                    TicketTypeSpec("Festival pass", "119.00", "4.00", capacity=4000),
                    TicketTypeSpec("VIP pass", "229.00", "6.00", capacity=300),
                ),
                stories=36,
                crowd=174,
                scans=True,
            ),
            EventSpec(
                "Berlin Product Summit",
                "Berlin",
                "Station Berlin, Luckenwalder Str. 4–6",
                timedelta(days=21, hours=9),
                timedelta(days=1, hours=9),
                (
                    TicketTypeSpec("Conference pass", "399.00", "0.00", personal=True, capacity=800),
                    TicketTypeSpec("Student pass", "99.00", "0.00", personal=True, capacity=100),
                ),
                stories=12,
                crowd=78,
            ),
            EventSpec(
                "Winter Gala",
                "München",
                "Künstlerhaus am Lenbachplatz, München",
                timedelta(days=60, hours=19),
                timedelta(hours=6),
                (
                    TicketTypeSpec("Gala seat", "149.00", "3.50", capacity=400),
                    TicketTypeSpec("Gala seat with dinner", "249.00", "3.50", capacity=200),
                ),
                stories=14,
                crowd=46,
                send_automatically=False,
            ),
            EventSpec(
                "Jazz im Hof",
                "Berlin",
                "Hofgarten Kreuzberg, Berlin",
                timedelta(days=10, hours=20),
                timedelta(hours=4),
                (TicketTypeSpec("Standing", "25.00", "1.50"), TicketTypeSpec("Seated", "39.00", "1.50")),
                stories=10,
                crowd=90,
            ),
        ),
    ),
    OrgSpec(
        OTHER_ORG_SLUG,
        "Alpenklang Konzerte",
        ("Salzburg", "Wien"),
        (
            EventSpec(
                "Sommerkonzert am See",
                "Salzburg",
                "Seebühne Mondsee",
                timedelta(days=40, hours=19),
                timedelta(hours=3),
                (
                    TicketTypeSpec("Wiese", "35.00", "2.00", tax="13.00"),
                    TicketTypeSpec("Tribüne", "69.00", "2.00", tax="13.00"),
                ),
                stories=6,
                crowd=24,
                time_zone="Europe/Vienna",
            ),
            EventSpec(
                "Wiener Kammerabend",
                "Wien",
                "Palais Pálffy, Wien",
                timedelta(days=15, hours=19, minutes=30),
                timedelta(hours=2),
                (TicketTypeSpec("Saal", "55.00", "2.00", tax="13.00"),),
                stories=3,
                crowd=9,
                time_zone="Europe/Vienna",
            ),
        ),
    ),
)

# Story of an order walked through the services → weight. `_spread` gives each story at least one
# order in an event with enough of them.
STORIES: dict[str, int] = {
    "paid": 60,
    "reserved": 3,
    "processing": 2,
    "confirming": 2,
    "expired_timeout": 3,
    "expired_payment": 3,
    "cancelled_unpaid": 2,
    "cancelled_paid": 3,
    "refunded_full": 5,
    "refunded_partial": 4,
    "refund_failed": 1,
    "refund_requested": 1,
    "refund_processing": 1,
    "refund_confirming": 1,
    "transferred": 3,
    "invalidated": 1,
}
SMALL_EVENT_STORIES = {"paid": 12, "reserved": 1, "expired_payment": 1, "refunded_full": 1, "refunded_partial": 1}
NEED_TWO_TICKETS = {"refunded_partial", "transferred", "invalidated", "anna"}

# What happened to the tickets email of a "paid" story → weight.
MAIL_STORIES: dict[str, int] = {
    MailStory.DELIVERED: 30,
    MailStory.OPENED: 15,
    MailStory.CLICKED: 6,
    MailStory.SENT: 3,
    MailStory.QUEUED: 1,
    MailStory.SENDING: 1,
    MailStory.DEFERRED: 3,
    MailStory.BOUNCED: 8,
    MailStory.REJECTED: 1,
    MailStory.FAILED: 1,
    MailStory.COMPLAINED: 1,
    MailStory.FIXED_AND_RESENT: 4,
    MailStory.RESENT_SAME: 3,
}
RECENT_MAIL = {MailStory.SENT, MailStory.QUEUED, MailStory.SENDING, MailStory.DEFERRED}
RECENT_STORIES = {"reserved", "processing", "confirming"}


def _spread(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    """n items in the given proportions, each key at least once when n allows, shuffled."""
    keys = list(weights)
    if n < len(keys):
        return rng.choices(keys, weights=[weights[k] for k in keys], k=n)
    total = sum(weights.values())
    counts = {k: max(1, round(weights[k] * n / total)) for k in keys}
    while sum(counts.values()) > n:
        counts[max(keys, key=lambda k: counts[k])] -= 1
    top = max(keys, key=lambda k: weights[k])
    counts[top] += n - sum(counts.values())
    items = [k for k in keys for _ in range(counts[k])]
    rng.shuffle(items)
    return items


# ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    organisations: list[Organisation] = field(default_factory=list)
    orders: int = 0


def is_seeded() -> bool:
    return Organisation.objects.filter(slug=DEMO_ORG_SLUG).exists()


def demo_reset() -> None:
    """Remove the demo organisations and users (and nothing else)."""
    with transaction.atomic():
        organisations = Organisation.objects.filter(slug__in=DEMO_ORG_SLUGS)
        Refund.objects.filter(organisation__in=organisations).delete()  # a refund protects its payment
        Order.objects.filter(organisation__in=organisations).delete()
        Event.objects.filter(organisation__in=organisations).delete()
        organisations.delete()
        get_user_model().objects.filter(username__in=[login.email for login in LOGINS]).delete()


def demo_seed() -> Result:
    """Create the demo data in one transaction. The caller checks `is_seeded()` first."""
    return DemoBuilder().build()


class DemoBuilder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.now = timezone.now().replace(microsecond=0)
        self.people = People(self.rng, SEED)
        self.codes: set[str] = {ANNA_CODE}
        self.users: dict[str, Any] = {}
        self.scanning: list[OrderStory] = []

    def code(self, length: int) -> str:
        """A fresh identifier from the seeded generator (order codes, ticket and event IDs)."""
        while True:
            value = "".join(self.rng.choice(ALPHABET) for _ in range(length))
            if value not in self.codes:
                self.codes.add(value)
                return value

    def build(self) -> Result:
        result = Result()
        with ThreadPoolExecutor(max_workers=2) as pool, demo_clock() as clock:
            # PBKDF2 releases the GIL: the passwords hash on the other core while the orders are built.
            hashes = {login.email: pool.submit(make_password, login.password) for login in LOGINS}
            with transaction.atomic():
                self._users()
                for spec in ORGS:
                    organisation = self._organisation(spec)
                    result.organisations.append(organisation)
                    for event_spec in spec.events:
                        event = self._event(organisation, event_spec)
                        result.orders += self._orders(event, event_spec, clock)
                for story in self.scanning:
                    story.scan_strangers()  # after every event exists: some codes belong to another event
                users = list(self.users.values())
                for user in users:
                    user.password = hashes[user.username].result()
                get_user_model().objects.bulk_update(users, ["password"])
                # Every demo message already has its final status: nothing may go to a worker or a mailbox.
                transaction.get_connection().run_on_commit.clear()
        return result

    def _users(self) -> None:
        User = get_user_model()
        for login in LOGINS:
            user = User(
                username=login.email,
                email=login.email,
                first_name=login.first_name,
                last_name=login.last_name,
                is_staff=login.role is None,
                is_superuser=login.role is None,
            )
            user.set_unusable_password()
            user.save()
            self.users[login.email] = user

    def _organisation(self, spec: OrgSpec) -> Organisation:
        organisation = Organisation.objects.create(name=spec.name, slug=spec.slug)
        regions = {name: Region.objects.create(organisation=organisation, name=name) for name in spec.regions}
        for login in LOGINS:
            if login.org_slug == spec.slug and login.role is not None:
                membership = Membership.objects.create(
                    user=self.users[login.email], organisation=organisation, role=login.role
                )
                if login.regions:
                    membership.regions.set([regions[name] for name in login.regions])
        self.people.make_customers(organisation, count=120 if spec.slug == DEMO_ORG_SLUG else 15)
        return organisation

    def _event(self, organisation: Organisation, spec: EventSpec) -> Event:
        # Days counted from today's midnight where the event takes place, so doors open at sensible hours.
        midnight = timezone.localtime(self.now, ZoneInfo(spec.time_zone)).replace(hour=0, minute=0, second=0)
        starts = midnight + spec.starts_in
        event = Event.objects.create(
            organisation=organisation,
            region=Region.objects.get(organisation=organisation, name=spec.region),
            name=spec.name,
            public_id=self.code(EVENT_ID_LENGTH),
            starts_at=starts,
            ends_at=starts + spec.duration,
            venue=spec.venue,
            time_zone=spec.time_zone,
            send_tickets_automatically=spec.send_automatically,
        )
        TicketType.objects.bulk_create(
            TicketType(
                organisation=organisation,
                event=event,
                name=tt.name,
                price=Decimal(tt.price),
                processing_fee=Decimal(tt.fee),
                tax_rate=Decimal(tt.tax),
                requires_personal_data=tt.personal,
                capacity=tt.capacity,
            )
            for tt in spec.ticket_types
        )
        return event

    def _orders(self, event: Event, spec: EventSpec, clock: Clock) -> int:
        ctx = OrderStory(self, event, list(event.ticket_types.order_by("price")), clock, scans=spec.scans)
        stories = _spread(self.rng, STORIES if spec.stories >= 20 else SMALL_EVENT_STORIES, spec.stories)
        mail = iter(_spread(self.rng, MAIL_STORIES, stories.count("paid")))
        for story in stories:
            if story == "paid":
                ctx.run(story, next(mail))
            else:  # only the plain "paid" stories have email trouble; the others' tickets arrived
                ctx.run(story, self.rng.choice([MailStory.DELIVERED, MailStory.OPENED]))
        if event.organisation.slug == DEMO_ORG_SLUG and spec is ORGS[0].events[0]:
            ctx.run_anna()
        clock.at = None
        crowd = crowd_orders(ctx, spec.crowd)
        if spec.scans:
            for order in crowd:
                ctx.scan_rows += scans_for_order(ctx, order)
            self.scanning.append(ctx)
        return Order.objects.filter(event=event).count()


class OrderStory:
    """Walks one order at a time through the services, the demo clock set to when each step happened."""

    def __init__(
        self, builder: DemoBuilder, event: Event, ticket_types: list[TicketType], clock: Clock, *, scans: bool
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
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                _set_status(locked, Status.CANCELLED, actor=rng.choice(self.staff), data={"reason": "duplicate order"})
            return
        clock.at = created + timedelta(seconds=rng.randint(40, 300))
        provider = rng.choice(["stripe", "stripe", "paypal"])
        prefix = "pi" if provider == "stripe" else "PAY"
        order_start_payment(order=order, provider=provider, reference=f"{prefix}_{self.b.code(14)}")
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
        last = send_story(self, order, mail, clock.at)
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
            if roll > 0.9:
                self.clock.at = paid_at + timedelta(days=self.rng.randint(1, 3))
                timeline_record(
                    order=order,
                    action="ticket.personalised",
                    actor=self.rng.choice(self.agents),
                    data={"ticket": ticket.public_id, "changes": f"name — → {ticket.attendee_name}"},
                )
        if needing:
            Ticket.objects.bulk_update(needing, ["attendee_name", "attendee_email", "attendee_data"])
        self.clock.at = paid_at

    def scan_strangers(self) -> None:
        Scan.objects.bulk_create(self.scan_rows + stranger_scans(self))
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
