"""Reads of the notifications app used by more than one page: the suppression list."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from organiser_portal.models import Organisation

from .models import Suppression


def suppressions_active(organisation: Organisation | int) -> QuerySet[Suppression]:
    """The addresses on the organisation's suppression list now, newest first."""
    return Suppression.objects.filter(organisation=organisation, removed_at__isnull=True)


def suppressions_for(organisation: Organisation | int, addresses: Iterable[str]) -> dict[str, Suppression]:
    """The listed ones among `addresses`, by lower-case address (the suppression_unique_address index)."""
    wanted = sorted({a.strip().lower() for a in addresses if a and a.strip()})
    if not wanted:
        return {}
    rows = suppressions_active(organisation).alias(address_lower=Lower("address")).filter(address_lower__in=wanted)
    return {s.address.lower(): s for s in rows}


def suppression_list(
    organisation: Organisation, *, region_ids: Collection[int] | None = None, removed: bool = False, limit: int = 200
) -> list[Suppression]:
    """The list page: the listed addresses (or, with `removed`, the ones taken off), newest first, at most `limit`;
    with `region_ids` (a region-limited member's) only those whose email was about an order of those regions."""
    rows = Suppression.objects.filter(organisation=organisation, removed_at__isnull=not removed)
    if region_ids is not None:
        rows = rows.filter(source_message__order__event__region_id__in=region_ids)
    return list(rows.select_related("source_message__order", "removed_by").order_by("-created_at", "-id")[:limit])


def suppression_get(organisation: Organisation, suppression_id: int) -> Suppression:
    """One row of the organisation's list (listed or removed), with the order whose email put it there; 404 else."""
    row = (
        Suppression.objects.select_related("source_message__order")
        .filter(organisation=organisation, pk=suppression_id)
        .first()
    )
    if row is None:
        raise Http404("No such suppression.")
    return row
