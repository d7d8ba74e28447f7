"""The tickets' hand-written SQL: the door rush path (the device, the ticket, the scan), with its portable form.

A check-in runs two statements of plain SQL after the device: the ORM's query building cost more CPU than
the database work, and one process must serve several hundred scans a second (bench/machines.py:
bench_scanner). PostgreSQL locks the ticket row and admits in one statement; the portable form (SQLite,
the embedded default, which lets one writer in at a time anyway) takes no lock and two statements.
`organiser_portal.db.is_postgres` decides which runs; tests/tickets/test_sql_forms.py runs both on the
same data. Columns are read in the models' field order, as `Model.from_db` takes them.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from orders.models import Order
from organiser_portal.db import Table, is_postgres
from organiser_portal.models import Event, TicketType

from .models import Scan, ScannerDevice, Ticket

TICKET, TICKET_TYPE, ORDER = Table(Ticket), Table(TicketType), Table(Order)
SCAN, DEVICE, EVENT = Table(Scan), Table(ScannerDevice), Table(Event)

DEVICE_FIELDS = (
    "id",
    "organisation_id",
    "name",
    "event_id",
    "access_point_id",
    "revoked_at",
    "last_seen_at",
)
EVENT_FIELDS = ("id", "organisation_id", "name", "public_id", "starts_at", "ends_at", "time_zone")
_DEVICE_SQL = f"""
    SELECT {DEVICE.columns("d", DEVICE_FIELDS)}, {EVENT.columns("e", EVENT_FIELDS)}
    FROM {DEVICE} d LEFT JOIN {EVENT} e ON e.{EVENT.id} = d.{DEVICE.event}
    WHERE d.{DEVICE.token_hash} = %s
"""

TICKET_FIELDS = ("id", "event_id", "order_id", "ticket_type_id", "public_id", "status", "invalid_reason", "used_at")
_LOCK_TICKET_SQL = f"""
    SELECT {TICKET.columns("t", TICKET_FIELDS)}, t.{TICKET.attendee_name}, tt.{TICKET_TYPE.name}, o.{ORDER.code}
    FROM {TICKET} t
    JOIN {TICKET_TYPE} tt ON tt.{TICKET_TYPE.id} = t.{TICKET.ticket_type}
    JOIN {ORDER} o ON o.{ORDER.id} = t.{TICKET.order}
    WHERE t.{{column}} = %s AND t.{TICKET.organisation} = %s {{lock}}
"""
_LOCK_TICKET = {
    (field, postgres): _LOCK_TICKET_SQL.format(
        column=getattr(TICKET, field), lock="FOR UPDATE OF t" if postgres else ""
    )
    for field in ("public_id", "secret")
    for postgres in (True, False)
}

SCAN_FIELDS = (
    *("organisation", "event", "ticket", "raw_code", "scanned_at", "access_area", "access_point", "result"),
    *("reason", "device", "scanner", "client_scan_id", "area", "point"),
)
_INSERT_SCAN_SQL = f"""
    INSERT INTO {SCAN} ({", ".join(getattr(SCAN, field) for field in SCAN_FIELDS)})
    VALUES ({", ".join(["%s"] * len(SCAN_FIELDS))})
    RETURNING {SCAN.id}
"""
_USE_TICKET_SQL = f"UPDATE {TICKET} SET {TICKET.used_at} = %s, {TICKET.updated_at} = %s WHERE {TICKET.id} = %s"
# Admitted, on PostgreSQL: the scan and the ticket's first use in one statement.
_ADMIT_SQL = f"WITH scan AS ({_INSERT_SCAN_SQL}), used AS ({_USE_TICKET_SQL}) SELECT {SCAN.id} FROM scan"


def device_row(token_hash: str) -> tuple | None:
    """DEVICE_FIELDS of the device with this token hash, then EVENT_FIELDS of its bound event (all None when
    it has none); None when no device has it. One form: a plain join both databases run alike."""
    with connection.cursor() as cursor:
        cursor.execute(_DEVICE_SQL, [token_hash])
        return cursor.fetchone()


def ticket_row_locked(cursor: Any, *, field: str, value: str, organisation_id: int) -> tuple | None:
    """TICKET_FIELDS, the attendee's name, the ticket type's name and the order's code of the organisation's
    ticket whose `field` ("public_id" or "secret") is `value`, its row locked on PostgreSQL; None when there
    is none."""
    cursor.execute(_LOCK_TICKET[field, is_postgres()], [value, organisation_id])
    return cursor.fetchone()


def scan_insert(cursor: Any, values: list[Any], *, use: list[Any] | None) -> int:
    """Insert a scan (`values` in SCAN_FIELDS' order) and, when `use` = [used_at, updated_at, ticket id] is
    given, set that ticket's first use. Returns the scan's id."""
    if use is not None and is_postgres():
        cursor.execute(_ADMIT_SQL, [*values, *use])
        (scan_id,) = cursor.fetchone()
        return scan_id
    cursor.execute(_INSERT_SCAN_SQL, values)  # SQLite has no data-modifying WITH
    (scan_id,) = cursor.fetchone()
    if use is not None:
        cursor.execute(_USE_TICKET_SQL, use)
    return scan_id
