"""The data migrations that respell "canceled" as "cancelled" update the stored rows, and undo it when reversed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orders.models import TimelineEntry
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("tickets", "0002_scanner_device"), ("orders", "0005_order_customer")]
AFTER = [("tickets", "0003_invalid_reason_cancelled"), ("orders", "0006_timeline_cancelled")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def spellings(order) -> tuple[list[str], list[str]]:
    reasons = list(Ticket.objects.filter(order=order).order_by("pk").values_list("invalid_reason", flat=True))
    actions = list(
        TimelineEntry.objects.filter(order=order, action__contains="cancel").values_list("action", flat=True)
    )
    return reasons, sorted(actions)


def test_cancelled_is_respelt_in_stored_rows_both_ways(make_order):
    order = make_order(quantity=3)
    cancelled, transferred, valid = order.tickets.order_by("pk")
    try:
        migrate(BEFORE)
        Ticket.objects.filter(pk=cancelled.pk).update(status="invalid", invalid_reason="canceled")
        Ticket.objects.filter(pk=transferred.pk).update(status="invalid", invalid_reason="transferred")
        for action in ("ticket.canceled", "ticket.transfer_canceled", "order.cancelled"):
            TimelineEntry.objects.create(organisation_id=order.organisation_id, order=order, action=action)

        migrate(AFTER)
        assert spellings(order) == (
            ["cancelled", "transferred", ""],
            ["order.cancelled", "ticket.cancelled", "ticket.transfer_cancelled"],
        )

        migrate(BEFORE)
        assert spellings(order) == (
            ["canceled", "transferred", ""],
            ["order.cancelled", "ticket.canceled", "ticket.transfer_canceled"],
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_free_text_door_names_become_access_areas_and_points(make_order):
    """tickets 0004–0006: the names scans and bound devices used become areas (admitting every ticket type, so
    the door admits as before) and points; scans and devices link to them; a year-1 time is repaired."""
    order = make_order(quantity=2)
    first, second = order.tickets.order_by("pk")
    event = order.event
    try:
        migrate([("tickets", "0003_invalid_reason_cancelled")])
        with connection.cursor() as cur:
            for ticket, area, point, at in (
                (first, "Main entrance", "Gate 1", "2026-06-12 17:00:00+00"),
                (second, "Main entrance", "Gate 2", "0001-01-01 00:00:00+00"),
                (second, "VIP", "", "2026-06-12 18:00:00+00"),
            ):
                cur.execute(
                    "INSERT INTO tickets_scan (organisation_id, event_id, ticket_id, raw_code, scanned_at, access_area,"
                    " access_point, result, reason, device, client_scan_id) VALUES (%s, %s, %s, '', %s, %s, %s,"
                    " 'admitted', '', 'Scanner', '')",
                    [event.organisation_id, event.pk, ticket.pk, at, area, point],
                )
            cur.execute(
                "INSERT INTO tickets_scannerdevice (organisation_id, name, event_id, access_area, access_point,"
                " token_hash, token_hint, created_at) VALUES (%s, 'Lounge', %s, 'VIP', '', 'h', 'hint', now())",
                [event.organisation_id, event.pk],
            )
        migrate([("tickets", "0006_scan_log_indexes")])

        from tickets.models import AccessArea, Scan, ScannerDevice

        areas = {a.name: a for a in AccessArea.objects.filter(event=event)}
        assert set(areas) == {"Main entrance", "VIP"} and all(a.all_ticket_types for a in areas.values())
        assert sorted(areas["Main entrance"].points.values_list("name", flat=True)) == ["Gate 1", "Gate 2"]
        assert list(areas["VIP"].points.values_list("name", flat=True)) == ["Lounge"]
        linked = {(s.access_area, s.access_point): (s.area.name, s.point and s.point.name) for s in Scan.objects.all()}
        assert linked == {
            ("Main entrance", "Gate 1"): ("Main entrance", "Gate 1"),
            ("Main entrance", "Gate 2"): ("Main entrance", "Gate 2"),
            ("VIP", ""): ("VIP", None),
        }
        assert ScannerDevice.objects.get(name="Lounge").access_point.name == "Lounge"
        repaired = Scan.objects.get(access_point="Gate 2")
        assert repaired.scanned_at == event.starts_at
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
