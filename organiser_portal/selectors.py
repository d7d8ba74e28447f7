"""Reads of the tenancy core used by more than one view."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Region
from .permissions import Access


def regions_visible(access: Access) -> QuerySet[Region]:
    regions = Region.objects.filter(organisation=access.organisation)
    if access.region_ids is not None:
        regions = regions.filter(pk__in=access.region_ids)
    return regions
