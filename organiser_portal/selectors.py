"""Reads of the tenancy core used by more than one view."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from .models import Event, Region
from .permissions import Access


def regions_visible(access: Access) -> QuerySet[Region]:
    regions = Region.objects.filter(organisation=access.organisation)
    if access.region_ids is not None:
        regions = regions.filter(pk__in=access.region_ids)
    return regions


def event_get(access: Access, public_id: str) -> Event:
    """One event the membership allows, by its event ID, whatever region is chosen (the page says so); 404 otherwise."""
    event = (
        Event.objects.filter(access.without_region_choice().event_filter(), public_id=public_id)
        .select_related("region")
        .first()
    )
    if event is None:
        raise Http404("No such event.")
    return event
