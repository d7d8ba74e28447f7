"""Reads of tickets used by more than one caller: the scanner API's device and event."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import connection

from organiser_portal.models import Event

from . import sql
from .models import ScannerDevice, token_hash

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
    device.event = Event.from_db(connection.alias, sql.EVENT_FIELDS, row[n:]) if row[n] is not None else None
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
