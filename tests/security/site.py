"""The portal's URLs and one organisation's objects to fill them: what the suites that ask every URL share
(test_every_url: who may; test_bad_input: what anyone may send)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from guests.models import Customer
from notifications.models import OutgoingMessage, Suppression
from orders.models import BulkSend, ImportRun, Order, Refund, TimelineEntry
from organiser_portal.models import Event, Membership, Region, TicketType
from setup.models import AuditEntry
from tests.factories import (
    CustomerFactory,
    EventFactory,
    MembershipFactory,
    OrganisationFactory,
    RegionFactory,
    TicketTypeFactory,
)
from tests.orders.refund_setup import paid_order
from tickets.models import AccessArea, AccessPoint, PersonalisationLink, ScannerDevice, Ticket, TicketReplacement
from tickets.services import scanner_device_create
from tickets.transfers import ticket_transfer

Role = Membership.Role


def patterns(
    entries, namespace: str = "", params: frozenset[str] = frozenset()
) -> Iterator[tuple[str, URLPattern, frozenset[str]]]:
    """(the name to reverse, with its namespace; the pattern; its arguments, the includes' too) of every named
    URL but the admin's."""
    for pattern in entries:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):  # Django's admin: staff only, its own tests
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from patterns(pattern.url_patterns, inner, params | set(pattern.pattern.regex.groupindex))
        elif pattern.name:
            yield namespace + pattern.name, pattern, params | set(pattern.pattern.regex.groupindex)


def url_names() -> list[str]:
    return sorted({pattern.name or "" for _, pattern, _ in patterns(get_resolver().url_patterns)})


def build_world(organisation):
    """One organisation's objects, every URL's arguments (`arguments`), the people who ask (`people`, by role or
    description) and the customer's personalisation link (`link`)."""
    north, south = (
        RegionFactory(organisation=organisation, name="North"),
        RegionFactory(organisation=organisation, name="South"),
    )
    event = EventFactory(organisation=organisation, region=north)
    EventFactory(organisation=organisation, region=south)
    ticket_type = TicketTypeFactory(event=event, price=Decimal("40.00"))
    order = paid_order(event=event, ticket_type=ticket_type, quantity=2)
    ticket = order.tickets.order_by("id").first()
    refund = Refund.objects.create(
        organisation=organisation,
        order=order,
        payment=order.payments.first(),
        amount=Decimal("1.00"),
        status=Refund.Status.FAILED,
        error="card expired",
        idempotency_key="every-url",
    )
    customer = CustomerFactory(organisation=organisation)
    area = AccessArea.objects.create(organisation=organisation, event=event, name="Main entrance")
    point = AccessPoint.objects.create(organisation=organisation, area=area, name="Gate 1")
    device, _token = scanner_device_create(organisation=organisation, name="Gate A", event=event, access_point=point)
    link = PersonalisationLink.objects.create(
        organisation=organisation, order=order, recipient="anna@example.com", expires_at=event.ends_at
    )
    people = {role: MembershipFactory(organisation=organisation, role=role).user for role in Role.values}
    second = order.tickets.order_by("id").last()
    transfer = ticket_transfer(actor=people[Role.OWNER], ticket=second, name="Ben Roth", email="ben@example.com")
    people["manager in the South"] = MembershipFactory(
        organisation=organisation, role=Role.MANAGER, regions=[south]
    ).user
    other = OrganisationFactory(name="Other Org", slug="other-org")
    people["another organisation's owner"] = MembershipFactory(organisation=other, role=Role.OWNER).user
    viewer_membership = Membership.objects.get(user=people[Role.VIEWER])
    import_run = ImportRun.objects.create(
        organisation=organisation, event=event, file_name="orders.csv", content=b"reference,name,email,ticket_type\n"
    )
    arguments = {
        "org": organisation.slug,
        "event_id": event.public_id,
        "code": order.code,
        "ticket_id": ticket.public_id,
        "customer_id": customer.pk,
        "refund_id": refund.pk,
        "membership_id": viewer_membership.pk,
        "region_id": north.pk,
        "ticket_type_id": ticket_type.pk,
        "area_id": area.pk,
        "device_id": device.pk,
        "link_id": link.pk,
        "run_id": import_run.pk,
        "transferred_ticket_id": transfer.new_ticket.public_id,  # what ticket_transfer_cancel names
        "bulk_id": BulkSend.objects.create(
            organisation=organisation, event=event, action="resend", per_minute=60, idempotency_key="every-url"
        ).pk,
        "suppression_id": Suppression.objects.create(
            organisation=organisation, address="gone@example.com", reason="bounced"
        ).pk,
        "uidb64": "MQ",
        "token": "not-a-token",
    }
    return {"people": people, "arguments": arguments, "link": link}


def url_for(name: str, arguments: dict) -> str:
    full, wanted = next((full, params) for full, p, params in patterns(get_resolver().url_patterns) if p.name == name)
    if name == "ticket_transfer_cancel":  # names the ticket a transfer issued
        arguments = {**arguments, "ticket_id": arguments["transferred_ticket_id"]}
    return reverse(full, kwargs={key: arguments[key] for key in wanted})


# What the actions write: a refused request must leave every one of these as it was.
_WATCHED: list[tuple[type[models.Model], tuple[str, ...]]] = [
    (
        Order,
        (
            "status",
            "email_status",
            "contact_email",
            "contact_name",
            "refunded_total",
            "refunding_total",
            "tickets_page_version",
            "customer",
        ),
    ),
    (Customer, ("email", "verified", "created_at")),
    (Ticket, ("status", "invalid_reason", "attendee_name")),
    (Refund, ("status", "attempt")),
    (OutgoingMessage, ("status",)),
    (TimelineEntry, ("action",)),
    (ImportRun, ("status",)),
    (Membership, ("role", "region_limited")),
    (Region, ("name",)),
    (Event, ("name", "send_tickets_automatically", "currency")),
    (TicketType, ("name", "price")),
    (AccessArea, ("name",)),
    (AccessPoint, ("name",)),
    (ScannerDevice, ("name", "revoked_at")),
    (PersonalisationLink, ("revoked_at",)),
    (TicketReplacement, ("status",)),
    (AuditEntry, ("pk",)),
    (BulkSend, ("status", "position")),
    (Suppression, ("removed_at",)),
]


def fingerprint() -> list:
    return [sorted(model._default_manager.values_list("pk", *fields)) for model, fields in _WATCHED]
