"""Every write of an event's door setup in the portal: access areas, their access points, scanner devices.

Each action checks the actor's permission (Perm.MANAGE_DOOR) on the event's organisation and region
(another organisation or region: 404), locks the row it changes, does nothing twice (an area or point that
exists already is returned; revoking a revoked device changes nothing), and refuses what can't be done with a
DoorError whose text the page shows. A change reaches this process's scanner path at once and the other
processes within DEVICE_CACHE_SECONDS (tickets.selectors).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from organiser_portal.models import Event, TicketType
from organiser_portal.permissions import Perm, require_perm

from .models import AccessArea, AccessPoint, ScannerDevice
from .selectors import door_plan_forget, scanner_device_forget
from .services import CheckInError, scanner_device_create, scanner_device_revoke


class DoorError(Exception):
    """A door setup change that can't be made; the text says why."""


def _require(actor, event: Event) -> None:
    require_perm(actor, event.organisation, Perm.MANAGE_DOOR, region_id=event.region_id)


def _forget_plan(event: Event) -> None:
    """This process's scanner path reads the changed plan from its next scan (now, and again after commit, so
    a scan in between can't keep the old one)."""
    door_plan_forget(event.pk)
    transaction.on_commit(lambda: door_plan_forget(event.pk))


def _ticket_types(event: Event, ticket_types: Iterable[TicketType]) -> list[TicketType]:
    chosen = list(ticket_types)
    if any(t.event_id != event.pk for t in chosen):
        raise DoorError("A ticket type of another event can't be admitted here.")
    return chosen


def door_area_save(
    *,
    actor,
    event: Event,
    name: str,
    all_ticket_types: bool = True,
    ticket_types: Iterable[TicketType] = (),
    area: AccessArea | None = None,
) -> AccessArea:
    """Add an access area to `event` (or, with `area`, change it): its name and the ticket types it admits
    (every one, also those added later, or the ones given; none given and not all: it admits nobody, which
    is refused). Adding a name the event has already returns that area unchanged."""
    _require(actor, event)
    name = " ".join(name.split())
    chosen = _ticket_types(event, ticket_types)
    if not name:
        raise DoorError("Give the access area a name.")
    if not all_ticket_types and not chosen:
        raise DoorError("Choose the ticket types this area admits, or admit every ticket type.")
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()  # one door setup change at a time
        same_name = AccessArea.objects.filter(event=event, name__iexact=name)
        if area is not None:
            same_name = same_name.exclude(pk=area.pk)
        if area is None:
            existing = same_name.first()
            if existing is not None:
                return existing
            area = AccessArea(organisation_id=event.organisation_id, event=event)
        elif area.event_id != event.pk:
            raise DoorError("This access area belongs to another event.")
        elif same_name.exists():
            raise DoorError(f"{event.name} has an access area named {name} already.")
        area.name, area.all_ticket_types = name, all_ticket_types
        area.save()
        area.ticket_types.set([] if all_ticket_types else chosen)
        _forget_plan(event)
    return area


def door_point_add(*, actor, area: AccessArea, name: str) -> AccessPoint:
    """Add an access point (a gate, a door) to `area`. A name the area has already returns that point."""
    event = area.event
    _require(actor, event)
    name = " ".join(name.split())
    if not name:
        raise DoorError("Give the access point a name.")
    with transaction.atomic():
        AccessArea.objects.select_for_update().filter(pk=area.pk).first()
        point = AccessPoint.objects.filter(area=area, name__iexact=name).first()
        if point is None:
            point = AccessPoint.objects.create(organisation_id=area.organisation_id, area=area, name=name)
        _forget_plan(event)
    return point


def _point_of(event: Event, access_point: AccessPoint | None) -> AccessPoint | None:
    if access_point is not None and access_point.area.event_id != event.pk:
        raise DoorError("This access point belongs to another event.")
    return access_point


def door_device_add(
    *, actor, event: Event, name: str, access_point: AccessPoint | None = None
) -> tuple[ScannerDevice, str]:
    """A new scanner device bound to `event` (standing at `access_point`, if given) and its bearer token, which
    is returned this once (only its SHA-256 is stored). A device of that name at the event that isn't revoked
    yet is refused: a second click makes no second token."""
    _require(actor, event)
    name = " ".join(name.split())
    if not name:
        raise DoorError("Give the scanner device a name, e.g. Gate A.")
    point = _point_of(event, access_point)
    with transaction.atomic():
        Event.objects.select_for_update().filter(pk=event.pk).first()
        if ScannerDevice.objects.filter(event=event, name__iexact=name, revoked_at__isnull=True).exists():
            raise DoorError(
                f"{event.name} has a scanner device named {name} already: revoke it first, or choose another name."
            )
        try:
            return scanner_device_create(organisation=event.organisation, name=name, event=event, access_point=point)
        except CheckInError as exc:
            raise DoorError(str(exc)) from exc


def door_device_place(*, actor, device: ScannerDevice, access_point: AccessPoint | None) -> ScannerDevice:
    """Stand the event's device at `access_point` (None: at no point). The same place again changes nothing."""
    event = device.event
    if event is None:
        raise DoorError("This scanner device is bound to no event: it can't stand at an access point.")
    _require(actor, event)
    point = _point_of(event, access_point)
    with transaction.atomic():
        locked = ScannerDevice.objects.select_for_update().get(pk=device.pk)
        if locked.is_revoked:
            raise DoorError("This scanner device is revoked.")
        if locked.access_point_id != (point.pk if point else None):
            locked.access_point = point
            locked.save(update_fields=["access_point"])
        transaction.on_commit(lambda: scanner_device_forget(locked))
    return locked


def door_device_revoke(*, actor, device: ScannerDevice) -> ScannerDevice:
    """Revoke the device's token: its scans are refused from now on (every process within a few seconds).
    Revoking a revoked device changes nothing."""
    if device.event is None:
        require_perm(actor, device.organisation, Perm.MANAGE_DOOR)
    else:
        _require(actor, device.event)
    with transaction.atomic():
        ScannerDevice.objects.select_for_update().filter(pk=device.pk).first()
        return scanner_device_revoke(device=device)
