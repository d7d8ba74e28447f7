"""When the door may judge a scan: the times a scan may state (the event's door window, the clock skew) and where
it happened (an event's access areas and points, as the scanner path reads them). Pure functions over what the
caller loaded; tickets.services.ticket_check_in applies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from organiser_portal.models import Event

from .models import PLAUSIBLE_SINCE, ScannerDevice


class ScanRejected(ValueError):
    """A scan that can't be judged as sent (a time outside the event's door window, an access area or point the
    event doesn't have): nothing is recorded. The text says what to fix."""


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


# A scanner's clock may run this far ahead of the server's; a scan time further ahead is refused.
CLOCK_SKEW = timedelta(minutes=5)
# Scans are accepted from this long before an event starts (doors, staff testing) to this long after it ends
# (offline scanners uploading late).
DOOR_WINDOW_MARGIN = timedelta(days=1)


def door_window(event: Event) -> tuple[datetime, datetime]:
    """The times a scan of `event` may state: from a day before it starts to a day after it ends."""
    return event.starts_at - DOOR_WINDOW_MARGIN, event.ends_at + DOOR_WINDOW_MARGIN


def scan_time(event: Event, scanned_at: datetime | None, now: datetime) -> datetime:
    """The scan's time: now when the scanner states none; else the stated time, which must lie in the event's
    door window and not ahead of now by more than CLOCK_SKEW (within it, taken as now)."""
    if scanned_at is None:
        return now
    start, end = door_window(event)
    try:
        ahead = scanned_at > now + CLOCK_SKEW
        inside = scanned_at >= PLAUSIBLE_SINCE and start <= scanned_at <= end
    except OverflowError:  # year 1 with a positive offset lies before the first representable UTC time
        ahead, inside = False, False
    if ahead:
        raise ScanRejected(
            f"`scanned_at` {scanned_at.isoformat()} is more than {CLOCK_SKEW.seconds // 60} minutes ahead of the "
            "server's clock. Check the scanner's clock."
        )
    if not inside:
        zone = event.tzinfo
        raise ScanRejected(
            f"`scanned_at` {scanned_at.isoformat()} is outside the door window of {event.name}: from "
            f"{start.astimezone(zone):%d %b %Y %H:%M} to {end.astimezone(zone):%d %b %Y %H:%M} ({event.time_zone}), "
            "a day before it starts to a day after it ends. Check the scanner's clock."
        )
    return min(scanned_at, now)


@dataclass(frozen=True)
class Place:
    area: DoorArea | None = None
    point: DoorPoint | None = None
    area_name: str = ""
    point_name: str = ""


def place_of(plan: DoorPlan, device: ScannerDevice, area_name: str, point_name: str, event: Event) -> Place:
    """Where the scan happened. An event without areas keeps the names as sent. Otherwise the area and point
    the scan names (by name, case-insensitive), else the device's access point; none named and no point: no
    area (admitted as at an event without areas). A name the event doesn't have: ScanRejected."""
    if not plan.areas:
        return Place(area_name=area_name, point_name=point_name)
    area = None
    if area_name:
        area = plan.area_named(area_name)
        if area is None:
            names = ", ".join(a.name for a in plan.areas)
            raise ScanRejected(f"`access_area` {area_name!r} is not an access area of {event.name} ({names}).")
    point = plan.point(device.access_point_id)
    if point_name:
        found = plan.points_named(point_name, area)
        if len(found) != 1:
            where = area.name if area else event.name
            why = "is not an access point of" if not found else "names several access points of"
            raise ScanRejected(f"`access_point` {point_name!r} {why} {where}: name the `access_area` too.")
        point = found[0]
    elif area is not None and (point is None or point.area.id != area.id):
        point = None  # the device stands elsewhere: the scan names its area only
    area = area or (point.area if point else None)
    return Place(area, point, area.name if area else "", point.name if point else "")
