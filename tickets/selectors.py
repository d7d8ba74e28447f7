"""Reads of tickets used by more than one caller: the scanner API's device, event and door plan; the scan log."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from organiser_portal.models import Event

from . import sql
from .models import AccessArea, AccessPoint, ScannerDevice, token_hash

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


@dataclass(frozen=True)
class DoorArea:
    """An access area as the scanner path reads it."""

    id: int
    name: str
    all_ticket_types: bool
    ticket_type_ids: frozenset[int]

    def admits(self, ticket_type_id: int) -> bool:
        return self.all_ticket_types or ticket_type_id in self.ticket_type_ids


@dataclass(frozen=True)
class DoorPoint:
    id: int
    name: str
    area: DoorArea


@dataclass(frozen=True)
class DoorPlan:
    """An event's access areas and their points; empty when the event has none (every valid ticket is admitted
    wherever it is scanned)."""

    areas: tuple[DoorArea, ...] = ()
    points: tuple[DoorPoint, ...] = ()

    def area_named(self, name: str) -> DoorArea | None:
        key = name.casefold()
        return next((a for a in self.areas if a.name.casefold() == key), None)

    def points_named(self, name: str, area: DoorArea | None) -> list[DoorPoint]:
        key = name.casefold()
        return [p for p in self.points if p.name.casefold() == key and (area is None or p.area.id == area.id)]

    def point(self, point_id: int | None) -> DoorPoint | None:
        return next((p for p in self.points if p.id == point_id), None)


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
