"""Reads of tickets used by more than one caller: the scanner API's device, event and door plan; the scan log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404

from organiser_portal.keyset import KeysetPage, keyset_page
from organiser_portal.models import Event, TicketType

from . import sql
from .models import AccessArea, AccessPoint, Scan, ScannerDevice, token_hash
from .rules import DoorArea, DoorPlan, DoorPoint

# A scanner sends several scans a second at the door: its device is kept in the process for a few seconds
# (a fifth of a scan's CPU). Revoking evicts it here at once; other processes notice within these seconds.
DEVICE_CACHE_SECONDS = 5.0
_devices: dict[str, tuple[float, ScannerDevice]] = {}


def scanner_device_for_token(token: str) -> ScannerDevice | None:
    """The device whose bearer token this is, revoked or not, with its bound event (one indexed query, or none
    when this process read it less than DEVICE_CACHE_SECONDS ago). Fields not read here (the token hash, the
    event's dates …) load on first use, as with `only()`."""
    if not token:
        return None
    key = token_hash(token)
    cached = _devices.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    row = sql.device_row(key)  # plain SQL: a fifth of the ORM's CPU
    if row is None:
        return None
    n = len(sql.DEVICE_FIELDS)
    device = ScannerDevice.from_db(connection.alias, sql.DEVICE_FIELDS, (*row[: n - 2], *map(db_time, row[n - 2 : n])))
    event_row = (*row[n : n + 4], db_time(row[n + 4]), db_time(row[n + 5]), row[n + 6])  # starts_at, ends_at
    device.event = Event.from_db(connection.alias, sql.EVENT_FIELDS, event_row) if row[n] is not None else None
    if not device.is_revoked:
        _devices[key] = (time.monotonic() + DEVICE_CACHE_SECONDS, device)
    return device


def db_time(value: datetime | None) -> datetime | None:
    """A time read with plain SQL: SQLite (the embedded default) hands back naive UTC, PostgreSQL aware times."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def scanner_device_forget(device: ScannerDevice) -> None:
    """Drop the device from this process's cache (after it was revoked or changed)."""
    _devices.pop(device.token_hash, None)


def scanner_event(device: ScannerDevice, public_id: str) -> Event | None:
    """The event a scan names, if it is one of the device's organisation: another organisation's is None."""
    if device.event is not None and device.event.public_id == public_id:
        return device.event
    return Event.objects.filter(organisation_id=device.organisation_id, public_id=public_id).first()


# Like the devices: an event's door plan is kept in the process for a few seconds (the scanner path reads it
# on every scan). Changing it in the portal evicts it here at once; other processes follow within these seconds.
_plans: dict[int, tuple[float, DoorPlan]] = {}


def door_plan(event_id: int) -> DoorPlan:
    """The event's access areas, the ticket types each admits and their points (three indexed queries, one when
    the event has no areas, none when this process read it less than DEVICE_CACHE_SECONDS ago)."""
    cached = _plans.get(event_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    rows = list(AccessArea.objects.filter(event_id=event_id).values_list("id", "name", "all_ticket_types"))
    plan = DoorPlan()
    if rows:
        admitted: dict[int, set[int]] = {}
        through = AccessArea.ticket_types.through.objects.filter(accessarea__event_id=event_id)
        for area_id, type_id in through.values_list("accessarea_id", "tickettype_id"):
            admitted.setdefault(area_id, set()).add(type_id)
        areas = {pk: DoorArea(pk, name, every, frozenset(admitted.get(pk, ()))) for pk, name, every in rows}
        points = AccessPoint.objects.filter(area__event_id=event_id).values_list("id", "name", "area_id")
        plan = DoorPlan(tuple(areas.values()), tuple(DoorPoint(pk, name, areas[area]) for pk, name, area in points))
    _plans[event_id] = (time.monotonic() + DEVICE_CACHE_SECONDS, plan)
    return plan


def door_plan_forget(event_id: int) -> None:
    """Drop the event's door plan from this process's cache (after the portal changed it)."""
    _plans.pop(event_id, None)


# --- The portal's door pages (the event comes from organiser_portal.selectors.event_get: scoped already) ---


@dataclass(frozen=True)
class DoorSetup:
    """An event's door page: its areas (each with `points` and `admitted` ticket types), its scanner devices
    (each with its access point and area) and its ticket types. Five queries whatever their number."""

    areas: list[AccessArea]
    devices: list[ScannerDevice]
    ticket_types: list[TicketType]

    @property
    def points(self) -> list[AccessPoint]:
        return [point for area in self.areas for point in area.points.all()]


def door_setup(event: Event) -> DoorSetup:
    areas = list(AccessArea.objects.filter(event=event).prefetch_related("points", "ticket_types").order_by("name"))
    devices = list(
        ScannerDevice.objects.filter(event=event)
        .select_related("access_point__area")
        .order_by(F("revoked_at").desc(nulls_first=True), "name")
    )
    return DoorSetup(areas, devices, list(event.ticket_types.order_by("name")))


_MAX_ID = 2**63 - 1  # a bigger id in a URL or form would overflow the query: no such row


def door_area_get(event: Event, area_id: int) -> AccessArea:
    """One access area of the event; 404 otherwise."""
    if not 0 < area_id <= _MAX_ID:
        raise Http404("No such access area.")
    return get_object_or_404(AccessArea.objects.select_related("event"), event=event, pk=area_id)


def door_device_get(event: Event, device_id: int) -> ScannerDevice:
    """One scanner device of the event; 404 otherwise."""
    if not 0 < device_id <= _MAX_ID:
        raise Http404("No such scanner device.")
    return get_object_or_404(ScannerDevice.objects.select_related("event__organisation"), event=event, pk=device_id)


@dataclass(frozen=True)
class ScanFilters:
    area: AccessArea | None = None
    point: AccessPoint | None = None
    result: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def active(self) -> bool:
        return any((self.area, self.point, self.result, self.since, self.until))


def scan_log(
    event: Event, filters: ScanFilters, *, after: str | None = None, before: str | None = None, page_size: int = 50
) -> KeysetPage:
    """One page of the event's scans, newest first, under `filters`, by keyset on (scanned_at, id): page 1,000
    costs what page 1 does. The (event | area | point, scanned_at, id) indexes serve it; each scan comes with
    its ticket, the ticket's type and order (for the link to the order page)."""
    scans = Scan.objects.select_related("ticket__ticket_type", "ticket__order")
    # An area's or point's scans are all of its event: filtered by it alone, they walk its own index.
    if filters.point is not None:
        if filters.point.area.event_id != event.pk:
            raise ValueError("The access point belongs to another event.")
        scans = scans.filter(point=filters.point)
    elif filters.area is not None:
        if filters.area.event_id != event.pk:
            raise ValueError("The access area belongs to another event.")
        scans = scans.filter(area=filters.area)
    else:
        scans = scans.filter(event=event)
    if filters.result:
        scans = scans.filter(result=filters.result)
    if filters.since is not None:
        scans = scans.filter(scanned_at__gte=filters.since)
    if filters.until is not None:
        scans = scans.filter(scanned_at__lt=filters.until)
    return keyset_page(scans, field="scanned_at", after=after, before=before, page_size=page_size)
