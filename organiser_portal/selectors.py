"""Reads of the tenancy core used by more than one view."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from orders.models import OrderEmailStatus

from .models import Event, Region
from .permissions import Access


def events_visible(access: Access, *, region_id: int | None = None) -> QuerySet[Event]:
    """The events this access may see, each with its support counts (orders, tickets, bounced emails, held orders)."""
    from orders.models import Order
    from tickets.models import Ticket

    events = Event.objects.filter(access.event_filter()).select_related("region")
    if region_id is not None:
        events = events.filter(region_id=region_id)
    orders = Order.objects.filter(event=OuterRef("pk")).order_by().values("event")
    tickets = Ticket.objects.filter(event=OuterRef("pk")).order_by().values("event")

    def count_of(qs):
        return Coalesce(Subquery(qs.annotate(n=Count("pk")).values("n")[:1]), 0)

    return events.annotate(
        order_count=count_of(orders),
        ticket_count=count_of(tickets),
        bounced_count=count_of(orders.filter(email_status=OrderEmailStatus.BOUNCED)),
        held_count=count_of(orders.filter(tickets_held=True)),
    )


def regions_visible(access: Access) -> QuerySet[Region]:
    regions = Region.objects.filter(organisation=access.organisation)
    if access.region_ids is not None:
        regions = regions.filter(pk__in=access.region_ids)
    return regions
