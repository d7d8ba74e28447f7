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
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from orders.models import Order, Refund
from organiser_portal.codes import ALPHABET, EVENT_ID_LENGTH
from organiser_portal.models import Event, Membership, Organisation, Region, TicketType
from tickets.models import PersonalDataField

from .box_office import demo_box_office
from .clock import Clock, demo_clock
from .crowd import crowd_orders
from .mail import MailStory
from .money import demo_reissue
from .people import People
from .scans import scans_for_order
from .specs import (
    ANNA_CODE,
    DEMO_ORG_SLUG,
    DEMO_ORG_SLUGS,
    LOGINS,
    MAIL_STORIES,
    ORGS,
    SEED,
    SMALL_EVENT_STORIES,
    STORIES,
    EventSpec,
    OrgSpec,
)
from .story import OrderStory

# The organiser's own attendee fields on every ticket type that names its attendees (key, label, kind, options):
# optional, so the tickets the story fills in are complete and the others are missing their name and email.
ATTENDEE_FIELDS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("company", "Company", PersonalDataField.Kind.TEXT, []),
    ("job_title", "Job title", PersonalDataField.Kind.TEXT, []),
    ("diet", "Dietary needs", PersonalDataField.Kind.CHOICE, ["No preference", "Vegetarian", "Vegan"]),
)


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
                    self.people.date_accounts(organisation, now=self.now)
                for story in self.scanning:
                    story.scan_strangers()  # after every event exists: some codes belong to another event
                demo_reissue(self, clock)  # after every order and scan: it draws from a generator of its own
                demo_box_office(self, clock)  # the same: a generator of its own
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
                    user=self.users[login.email],
                    organisation=organisation,
                    role=login.role,
                    region_limited=bool(login.regions),
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
            # Events whose tickets name their attendees freeze the names two days before the doors open.
            personal_data_frozen_days=2 if any(tt.personal for tt in spec.ticket_types) else None,
        )
        TicketType.objects.bulk_create(
            TicketType(
                organisation=organisation,
                event=event,
                name=tt.name,
                price=Decimal(tt.price),
                booking_fee=Decimal(tt.fee),
                tax_rate=Decimal(tt.tax),
                requires_personal_data=tt.personal,
                capacity=tt.capacity,
            )
            for tt in spec.ticket_types
        )
        PersonalDataField.objects.bulk_create(
            PersonalDataField(
                organisation=organisation, ticket_type=tt, key=key, label=label, kind=kind, choices=choices, position=i
            )
            for tt in event.ticket_types.filter(requires_personal_data=True)
            for i, (key, label, kind, choices) in enumerate(ATTENDEE_FIELDS)
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
