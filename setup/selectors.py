"""Reads of organisation setup used by its pages and services; each takes the Access (or what it scopes)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import Http404

from orders.models import Order, OrderLine
from organiser_portal.models import Event, Membership, Region, TicketType
from organiser_portal.permissions import Access
from tickets.models import Ticket

from .audit import audit_sentence
from .models import AuditEntry

AUDIT_LIST_LENGTH = 30
_ROLE_RANK = {"owner": 0, "manager": 1, "support": 2, "viewer": 3}


def team_members(access: Access) -> list[Membership]:
    """The organisation's members, owners first, then by name; each with `regions_list` (its ticked regions)
    and `pending` (invited, no password set yet)."""
    memberships = list(
        Membership.objects.filter(organisation=access.organisation)
        .select_related("user")
        .prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("name"), to_attr="regions_list"))
    )
    for membership in memberships:
        membership.pending = not membership.user.has_usable_password()  # type: ignore[attr-defined]
    return sorted(memberships, key=lambda m: (_ROLE_RANK[m.role], (m.user.get_full_name() or m.user.email).lower()))


def member_get(access: Access, membership_id: int) -> Membership:
    """One member of the organisation, with their regions; another organisation's is a 404."""
    membership = (
        Membership.objects.filter(organisation=access.organisation, pk=membership_id)
        .select_related("user")
        .prefetch_related("regions")
        .first()
    )
    if membership is None:
        raise Http404("No such team member.")
    return membership


def audit_entries(access: Access, *, event: Event | None = None) -> list[AuditEntry]:
    """The latest setup changes (of one event, or of the team and regions), newest first, each with `text`."""
    entries = AuditEntry.objects.filter(organisation=access.organisation).select_related("actor")
    entries = entries.filter(event=event) if event is not None else entries.filter(event__isnull=True)
    listed = list(entries[:AUDIT_LIST_LENGTH])
    for entry in listed:
        entry.text = audit_sentence(entry)  # type: ignore[attr-defined]
    return listed


def regions_with_use(access: Access) -> QuerySet[Region]:
    """The organisation's regions, each with `event_count` and `member_count` (members limited to it)."""
    return Region.objects.filter(organisation=access.organisation).annotate(
        event_count=Count("events", distinct=True), member_count=Count("memberships", distinct=True)
    )


def region_get(access: Access, region_id: int) -> Region:
    region = regions_with_use(access).filter(pk=region_id).first()
    if region is None:
        raise Http404("No such region.")
    return region


def settings_events(access: Access) -> QuerySet[Event]:
    """The events the settings list shows: those the access lists (its regions, the region chosen), newest
    start first."""
    return Event.objects.filter(access.event_filter()).select_related("region").order_by("-starts_at", "-pk")


def settings_event_get(access: Access, public_id: str) -> Event:
    """One event of the organisation for its settings page; outside the member's regions, or another
    organisation's, a 404."""
    event = Event.objects.filter(organisation=access.organisation, public_id=public_id).select_related("region").first()
    if event is None or not access.allows_region(event.region_id):
        raise Http404("No such event.")
    return event


def event_order_count(event: Event) -> int:
    return Order.objects.filter(event=event).count()


def tickets_sold(ticket_type: TicketType) -> int:
    """The tickets of this type that count against its capacity: valid tickets, plus those of orders still
    being paid for (reserved, payment processing or confirming: their tickets aren't issued yet)."""
    valid = Ticket.objects.filter(ticket_type=ticket_type, status=Ticket.Status.VALID).count()
    in_payment = OrderLine.objects.filter(
        ticket_type=ticket_type,
        order__status__in=[Order.Status.RESERVED, Order.Status.PROCESSING_PAYMENT, Order.Status.CONFIRMING_PAYMENT],
    ).aggregate(n=Sum("quantity"))["n"]
    return valid + (in_payment or 0)


def event_ticket_types(event: Event) -> list[TicketType]:
    """The event's ticket types, each with `sold` (`tickets_sold`) and `has_orders`."""
    ticket_types = list(TicketType.objects.filter(event=event).order_by("price", "pk"))
    ordered = set(OrderLine.objects.filter(ticket_type__event=event).values_list("ticket_type_id", flat=True))
    for ticket_type in ticket_types:
        ticket_type.sold = tickets_sold(ticket_type)  # type: ignore[attr-defined]
        ticket_type.has_orders = ticket_type.pk in ordered  # type: ignore[attr-defined]
    return ticket_types


def ticket_type_get(event: Event, ticket_type_id: int) -> TicketType:
    ticket_type = TicketType.objects.filter(event=event, pk=ticket_type_id).first()
    if ticket_type is None:
        raise Http404("No such ticket type.")
    return ticket_type
