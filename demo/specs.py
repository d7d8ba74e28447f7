"""What the demo holds: its organisations, logins, events and ticket types, and how many orders of which
story each event gets. Data only; demo/seed.py builds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orders.models import Order
from organiser_portal.models import Membership

from .mail import MailStory

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
