"""Door scans at the running festival: admissions, second entries refused, lounge areas, invalid tickets
turned away, codes from elsewhere. A ticket is "Valid · used" from its first admitted scan."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from orders.models import Order
from tickets.models import AccessArea, AccessPoint, Scan, Ticket

if TYPE_CHECKING:
    from .context import StoryContext

Result, Reason = Scan.Result, Scan.Reason
GATES = ("Gate 1", "Gate 2", "Gate 3")
ENTRANCE = "Main entrance"
# The running festival's door: area → (the ticket type it admits alone, or None for every one; its access points).
AREAS = {ENTRANCE: (None, GATES), "VIP lounge": ("VIP pass", ("Lounge door",))}


def _scan(ctx: StoryContext, ticket: Ticket | None, when: datetime, **fields) -> Scan:
    return Scan(
        organisation_id=ctx.event.organisation_id,
        event=ctx.event,
        ticket=ticket,
        scanned_at=when,
        device=f"Scanner {ctx.rng.randint(1, 8):02d}",
        **fields,
    )


def _into(rng: random.Random, window: int) -> int:
    """A second within the doors-open window. One draw whatever the window's length: randint's draws
    depend on its range, so seeds seconds apart would otherwise part ways here and give different data."""
    return int(rng.random() * window)


def scans_for_order(ctx: StoryContext, order: Order) -> list[Scan]:
    rng = ctx.rng
    opened, now = ctx.event.starts_at, ctx.b.now
    if now <= opened:
        return []
    window = int((now - opened).total_seconds())
    scans: list[Scan] = []
    used: list[Ticket] = []
    for ticket in order.tickets.select_related("ticket_type").order_by("id"):
        if not ticket.is_valid:
            if ticket.invalid_reason != Ticket.InvalidReason.TRANSFERRED and rng.random() < 0.25:
                when = opened + timedelta(seconds=_into(rng, window))
                scans.append(
                    _scan(
                        ctx,
                        ticket,
                        when,
                        access_area=ENTRANCE,
                        access_point=rng.choice(GATES),
                        result=Result.DENIED,
                        reason=Reason.INVALID,
                    )
                )
            continue
        if rng.random() > 0.45:
            continue
        entered = opened + timedelta(seconds=_into(rng, window))
        gate = rng.choice(GATES)
        scans.append(_scan(ctx, ticket, entered, access_area=ENTRANCE, access_point=gate, result=Result.ADMITTED))
        ticket.used_at = entered
        used.append(ticket)
        if ticket.ticket_type.name == "VIP pass" and rng.random() < 0.8:
            lounge = entered + timedelta(minutes=rng.randint(10, 120))
            if lounge < now:
                scans.append(
                    _scan(
                        ctx,
                        ticket,
                        lounge,
                        access_area="VIP lounge",
                        access_point="Lounge door",
                        result=Result.ADMITTED,
                    )
                )
        if rng.random() < 0.15:
            again = entered + timedelta(minutes=rng.randint(5, 180))
            if again < now:
                scans.append(
                    _scan(
                        ctx,
                        ticket,
                        again,
                        access_area=ENTRANCE,
                        access_point=rng.choice(GATES),
                        result=Result.DENIED,
                        reason=Reason.ALREADY_USED,
                    )
                )
    if used:
        Ticket.objects.bulk_update(used, ["used_at"])
    return scans


def stranger_scans(ctx: StoryContext) -> list[Scan]:
    """Codes that aren't this event's valid tickets: unknown ones, and tickets of another event."""
    rng = ctx.rng
    opened, now = ctx.event.starts_at, ctx.b.now
    if now <= opened:
        return []
    window = int((now - opened).total_seconds())
    scans = [
        _scan(
            ctx,
            None,
            opened + timedelta(seconds=_into(rng, window)),
            raw_code=raw,
            access_area=ENTRANCE,
            access_point=rng.choice(GATES),
            result=Result.DENIED,
            reason=Reason.UNKNOWN,
        )
        for raw in ("https://example.com/ticket/8812", "4006381333931", "XQ7-DEMO-99")
    ]
    others = (
        Ticket.objects.filter(organisation_id=ctx.event.organisation_id).exclude(event=ctx.event).order_by("id")[:3]
    )
    for ticket in others:
        scans.append(
            _scan(
                ctx,
                ticket,
                opened + timedelta(seconds=_into(rng, window)),
                access_area=ENTRANCE,
                access_point=rng.choice(GATES),
                result=Result.DENIED,
                reason=Reason.WRONG_EVENT,
            )
        )
    return scans


def door_setup(ctx: StoryContext, scans: list[Scan]) -> None:
    """The event's access areas and points (AREAS; the lounge only where VIP passes are sold), and the scans
    linked to the ones they name."""
    event, places = ctx.event, {}
    for name, (type_name, gates) in AREAS.items():
        admitted = list(event.ticket_types.filter(name=type_name)) if type_name else []
        if type_name and not admitted:
            continue
        area, _ = AccessArea.objects.get_or_create(
            organisation_id=event.organisation_id, event=event, name=name, defaults={"all_ticket_types": not type_name}
        )
        area.ticket_types.set(admitted)
        for gate in gates:
            point, _ = AccessPoint.objects.get_or_create(organisation_id=event.organisation_id, area=area, name=gate)
            places[name, gate] = (area, point)
    for scan in scans:
        scan.area, scan.point = places.get((scan.access_area, scan.access_point), (None, None))
