"""Every write to tickets."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from orders.models import Order
from organiser_portal.codes import ALPHABET, TICKET_ID_LENGTH, new_secret, new_ticket_id, with_fresh_codes
from organiser_portal.models import Event, Organisation, TicketType

from . import sql
from .models import AccessPoint, Scan, ScannerDevice, Ticket
from .rules import DoorArea, place_of, scan_time
from .selectors import db_time, door_plan, scanner_device_forget

TOKEN_PREFIX = "scn_"
_ID_CHARS = frozenset(ALPHABET)
_TYPED_ID_NOISE = re.compile(r"[\s-]+")  # "acd efg-hjk", as door staff type a ticket ID
RAW_CODE_LENGTH = Scan._meta.get_field("raw_code").max_length or 200


def tickets_issue(*, order: Order) -> list[Ticket]:
    """One valid ticket per admission in the order's lines. Issuing twice issues nothing new."""
    if order.tickets.exists():
        return list(order.tickets.all())
    tickets = [
        Ticket(
            organisation_id=order.organisation_id,
            event_id=order.event_id,
            order=order,
            line=line,
            ticket_type_id=line.ticket_type_id,
            attendee_name="" if line.ticket_type.requires_personal_data else order.contact_name,
            personal_data_missing=line.ticket_type.requires_personal_data,
        )
        for line in order.lines.select_related("ticket_type")
        for _ in range(line.quantity)
    ]

    def create() -> list[Ticket]:
        for ticket in tickets:  # fresh codes on every attempt (see with_fresh_codes)
            ticket.public_id, ticket.secret = new_ticket_id(), new_secret()
        return Ticket.objects.bulk_create(tickets)

    def collided() -> bool:
        ids, drawn_secrets = [t.public_id for t in tickets], [t.secret for t in tickets]
        return Ticket.objects.filter(Q(public_id__in=ids) | Q(secret__in=drawn_secrets)).exists()

    return with_fresh_codes(create, collided=collided)


def tickets_invalidate(*, tickets: Sequence[Ticket], reason: str) -> list[Ticket]:
    """Make `tickets` invalid for `reason` (a Ticket.InvalidReason: "refunded", "cancelled") in one UPDATE, so the
    scanner denies them from now on; returns them with their new status. The caller (an order action) holds the
    order's row lock and writes each ticket's timeline entry in the same transaction."""
    if reason not in Ticket.InvalidReason.values:
        raise ValueError(f"Unknown invalid reason {reason!r}")
    tickets = list(tickets)
    now = timezone.now()
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        status=Ticket.Status.INVALID, invalid_reason=reason, updated_at=now
    )
    for ticket in tickets:
        ticket.status, ticket.invalid_reason, ticket.updated_at = Ticket.Status.INVALID, reason, now
    return tickets


class CheckInError(Exception):
    """A check-in this scanner may not make (it is revoked, or bound to another event). The text says why."""


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: the one Scan written, or the scan reported before (`repeated`) when nothing changed."""

    scan: Scan
    repeated: bool = False


# A device's last_seen_at is written at most this often: not a write on every scan.
SEEN_EVERY = timedelta(minutes=1)


def scanner_device_create(
    *, organisation: Organisation, name: str, event: Event | None = None, access_point: AccessPoint | None = None
) -> tuple[ScannerDevice, str]:
    """A new scanner device and its bearer token. The token is returned this once: only its SHA-256 is stored.
    With an access point it is bound to that point's event. CheckInError when event or point is of another
    organisation, or the point of another event."""
    if access_point is not None:
        if event is None:
            event = access_point.area.event
        if access_point.area.event_id != event.pk:
            raise CheckInError(f"Access point {access_point.name} belongs to another event.")
    if event is not None and event.organisation_id != organisation.pk:
        raise CheckInError(f"Event {event.public_id} belongs to another organisation.")
    device = ScannerDevice(organisation=organisation, name=name, event=event, access_point=access_point)
    token = scanner_token_generate()
    device.set_token(token)
    device.save(force_insert=True)
    return device, token


def scanner_token_generate() -> str:
    """A new bearer token: 256 random bits, prefixed so a leaked one is recognisable."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def scanner_device_revoke(*, device: ScannerDevice) -> ScannerDevice:
    """Revoke the device's token from now on: at once in this process, within DEVICE_CACHE_SECONDS in the
    others (tickets.selectors). Revoking a revoked device changes nothing."""
    now = timezone.now()
    ScannerDevice.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=now)
    device.refresh_from_db(fields=["revoked_at"])
    scanner_device_forget(device)
    return device


def _ticket_for_code(cursor: Any, *, organisation_id: int, code: str) -> Ticket | None:
    """The organisation's ticket whose QR secret (or typed ticket ID) is `code`, its row locked, with its type's
    name and order's code; None when there is none. Another organisation's ticket is not found at all."""
    typed = _TYPED_ID_NOISE.sub("", code).upper()
    if len(typed) == TICKET_ID_LENGTH and set(typed) <= _ID_CHARS:
        row = sql.ticket_row_locked(cursor, field="public_id", value=typed, organisation_id=organisation_id)
    else:
        row = sql.ticket_row_locked(cursor, field="secret", value=code, organisation_id=organisation_id)
    if row is None:
        return None
    alias = connection.alias
    ticket = Ticket.from_db(alias, (*sql.TICKET_FIELDS, "attendee_name"), (*row[:7], db_time(row[7]), row[8]))
    ticket.ticket_type = TicketType.from_db(alias, ("id", "name"), (row[3], row[9]))
    ticket.order = Order.from_db(alias, ("id", "code"), (row[2], row[10]))
    return ticket


def _verdict(ticket: Ticket | None, event: Event, area: DoorArea | None) -> tuple[str, str]:
    if ticket is None:
        return Scan.Result.DENIED, Scan.Reason.UNKNOWN
    if ticket.event_id != event.pk:
        return Scan.Result.DENIED, Scan.Reason.WRONG_EVENT
    if not ticket.is_valid:
        # A reissued ticket's old code is still its row (tickets.transfers): known without another query.
        reissued = ticket.invalid_reason == Ticket.InvalidReason.REISSUED
        return Scan.Result.DENIED, Scan.Reason.REISSUED if reissued else Scan.Reason.INVALID
    if area is not None and not area.admits(ticket.ticket_type_id):
        return Scan.Result.DENIED, Scan.Reason.AREA_NOT_ALLOWED
    if ticket.used_at is not None:
        return Scan.Result.DENIED, Scan.Reason.ALREADY_USED
    return Scan.Result.ADMITTED, Scan.Reason.NONE


def ticket_check_in(
    *,
    device: ScannerDevice,
    code: str,
    event: Event,
    scanned_at: datetime | None = None,
    access_area: str = "",
    access_point: str = "",
    client_scan_id: str = "",
) -> CheckIn:
    """Admit or deny the ticket whose QR secret or ticket ID is `code` at `event`, and record exactly one Scan.

    Admitted: a valid ticket of this event, never used before; its `used_at` becomes the scan's time. Denied
    otherwise, with the reason: unknown (no ticket of the device's organisation has that code; the raw code is
    kept), wrong_event, invalid, reissued (the code of a ticket replaced by a new one), area_not_allowed (the scan's access area doesn't admit the ticket's type),
    already_used. The ticket row is locked, so of two scans at once exactly one admits.
    A scan the device sent before (same `client_scan_id`) returns that scan, `repeated`, and changes nothing.
    `scanned_at` is when the scanner read the code (offline scanners upload later): within the event's door
    window (tickets.rules.door_window) and not ahead of now by more than its CLOCK_SKEW, else ScanRejected and nothing is
    recorded. `access_area` / `access_point` name where (tickets.rules.place_of); ScanRejected for a name the event's
    door plan doesn't have.
    """
    if device.is_revoked:
        raise CheckInError("This scanner has been revoked.")
    if event.organisation_id != device.organisation_id:
        raise CheckInError("This scanner belongs to another organisation.")
    bound = device.event if device.event_id is not None else None  # loaded with the device, no query
    if bound is not None and bound.pk != event.pk:
        raise CheckInError(f"This scanner checks in for {bound.name} ({bound.public_id}) only.")
    now = timezone.now()
    scanned_at = scan_time(event, scanned_at, now)
    place = place_of(door_plan(event.pk), device, access_area.strip(), access_point.strip(), event)
    code = code.strip()
    scan = Scan(
        organisation_id=device.organisation_id,
        event=event,
        scanned_at=scanned_at,
        access_area=place.area_name,
        access_point=place.point_name,
        area_id=place.area.id if place.area else None,
        point_id=place.point.id if place.point else None,
        device=device.name,
        scanner=device,
        client_scan_id=client_scan_id,
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            ticket = _ticket_for_code(cursor, organisation_id=device.organisation_id, code=code)
            scan.ticket = ticket
            scan.result, scan.reason = _verdict(ticket, event, place.area)
            scan.raw_code = "" if ticket else code[:RAW_CODE_LENGTH]
            admitted = ticket if scan.result == Scan.Result.ADMITTED else None
            _insert_scan(cursor, scan, admits=admitted, now=now)
            if admitted is not None:
                admitted.used_at = scanned_at
    except IntegrityError:
        # The unique (scanner, client_scan_id) refused a re-sent upload: answer with what was recorded then.
        earlier = _earlier_scan(device=device, client_scan_id=client_scan_id)
        if earlier is None:
            raise
        return CheckIn(scan=earlier, repeated=True)
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_EVERY:
        ScannerDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return CheckIn(scan=scan)


def _insert_scan(cursor: Any, scan: Scan, *, admits: Ticket | None, now: datetime) -> None:
    """Insert the scan, and when it admits a ticket set that ticket's first use (one statement on PostgreSQL)."""
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        *(scan.organisation_id, scan.event_id, scan.ticket_id, scan.raw_code, adapt(scan.scanned_at)),
        *(scan.access_area, scan.access_point, scan.result, scan.reason, scan.device, scan.scanner_id),
        *(scan.client_scan_id, scan.area_id, scan.point_id),
    ]
    use = [adapt(scan.scanned_at), adapt(now), admits.pk] if admits is not None else None
    scan.pk = sql.scan_insert(cursor, values, use=use)
    scan._state.adding, scan._state.db = False, connection.alias


def _earlier_scan(*, device: ScannerDevice, client_scan_id: str) -> Scan | None:
    if not client_scan_id:
        return None
    return (
        Scan.objects.select_related("event", "ticket__ticket_type", "ticket__order")
        .filter(scanner=device, client_scan_id=client_scan_id)
        .first()
    )
