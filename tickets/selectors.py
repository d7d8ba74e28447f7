"""Reads of tickets used by more than one caller: the scanner API's device and event."""

from __future__ import annotations

from organiser_portal.models import Event

from .models import ScannerDevice, token_hash


def scanner_device_for_token(token: str) -> ScannerDevice | None:
    """The device whose bearer token this is, revoked or not, with its bound event (one indexed query)."""
    if not token:
        return None
    return ScannerDevice.objects.select_related("event").filter(token_hash=token_hash(token)).first()


def scanner_event(device: ScannerDevice, public_id: str) -> Event | None:
    """The event a scan names, if it is one of the device's organisation: another organisation's is None."""
    if device.event is not None and device.event.public_id == public_id:
        return device.event
    return Event.objects.filter(organisation_id=device.organisation_id, public_id=public_id).first()
