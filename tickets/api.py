"""The check-in API for door scanners: `POST /api/v1/check-ins/`, JSON in and out, a device's bearer token.

Machines, not people: no session, no CSRF token, no login redirect. Every answer is JSON; an error
is `{"error": <code>, "detail": <text>}` with 400 (bad input), 401 (no or unknown or revoked token),
403 (an event the device may not check in for), 404 (an event not of the device's organisation),
405 (not a POST), 413 (a body over MAX_BODY bytes). Bad input records nothing. The OpenAPI description
(`openapi.json` beside this module, served at /api/v1/openapi.json) lists every answer; a test holds it to this code.
The path stays lean (device, then lock + read ticket, insert scan, update ticket): it serves the
door rush, several hundred scans a second on one process.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from organiser_portal.models import Event
from organiser_portal.times import in_zone, zone_abbreviation

from .models import PLAUSIBLE_SINCE, Scan, ScannerDevice
from .rules import ScanRejected
from .selectors import scanner_device_for_token, scanner_event
from .services import CheckInError, ticket_check_in

# A QR code's content or a typed ticket ID: a secret or an ID is far shorter.
_CODE_LIMIT = 200
# A scan's JSON is a few hundred bytes; anything much larger is refused unread.
MAX_BODY = 4096
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
# What ticket_check_in takes from the body as it is (after _payload checked it).
_SCAN_FIELDS = ("code", "scanned_at", "access_area", "access_point", "client_scan_id")
_TEXT_LIMITS = {"event": 12, "access_area": 120, "access_point": 120, "client_scan_id": 64}
_REASON_TEXT: dict[str, str] = {
    Scan.Reason.UNKNOWN: "Unknown code: no ticket of this organiser has it.",
    Scan.Reason.WRONG_EVENT: "This ticket is for another event.",
    Scan.Reason.REISSUED: "Reissued: this code was replaced by a new ticket. Only the new ticket is admitted.",
}


class Refusal(Exception):
    """An answer other than a verdict: the HTTP status, the error code and the text that says why."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.error, "detail": self.detail}, status=self.status)
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="scanner"'
        return response


class BadRequest(Refusal):
    def __init__(self, detail: str) -> None:
        super().__init__(400, "bad_request", detail)


def _device(request: HttpRequest) -> ScannerDevice:
    """The device whose bearer token the request carries; refused (401) without one, or when it is revoked."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    device = scanner_device_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if device is None:
        raise Refusal(401, "unauthorized", "Send a scanner device's token: Authorization: Bearer <token>.")
    if device.is_revoked:
        raise Refusal(401, "revoked", "This scanner device's token has been revoked.")
    return device


def _event(device: ScannerDevice, public_id: str) -> Event:
    """The event the scan names, or else the one the device is bound to."""
    if not public_id:
        if device.event is None:
            raise BadRequest("`event` is required: this scanner is not bound to one event.")
        return device.event
    event = scanner_event(device, public_id)
    if event is None:
        raise Refusal(404, "event_not_found", f"No event {public_id} for this scanner.")
    return event


def _payload(request: HttpRequest) -> dict[str, Any]:
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY or len(request.body) > MAX_BODY:
        raise Refusal(413, "too_large", f"A scan is a JSON object of at most {MAX_BODY} bytes.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("The body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise BadRequest("`code` is required: the QR code's content or the ticket ID as typed.")
    for field, limit in {"code": _CODE_LIMIT, **_TEXT_LIMITS}.items():
        value = body.setdefault(field, "")
        if not isinstance(value, str) or len(value) > limit:
            raise BadRequest(f"`{field}` must be a string of at most {limit} characters.")
        if not _storable(value):
            raise BadRequest(f"`{field}` holds a character no text can carry (a NUL byte or half a UTF-16 pair).")
    body["scanned_at"] = _timestamp(body.get("scanned_at"))
    return body


def _storable(value: str) -> bool:
    """PostgreSQL text holds neither NUL nor a lone surrogate (which JSON's \\ud800 escapes can carry)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _timestamp(value: Any) -> datetime | None:
    """`scanned_at`: an aware ISO 8601 time in ASCII digits, not before PLAUSIBLE_SINCE; else 400. Whether it
    fits the event's door window is the service's check (tickets.rules.door_window)."""
    if value is None:
        return None
    try:
        # ASCII only: Python's \d also matches other scripts' digits ("２０２６"), which no scanner sends.
        parsed = parse_datetime(value) if isinstance(value, str) and value.isascii() else None
    except ValueError:  # shaped like ISO 8601 but not a real time: month 13, 29 February 2025, +24:00
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest("`scanned_at` must be an ISO 8601 time with its UTC offset, e.g. 2026-06-12T19:02:11+02:00.")
    try:
        plausible = parsed >= PLAUSIBLE_SINCE
    except OverflowError:  # year 1 with a positive offset lies before the first representable UTC time
        plausible = False
    if not plausible:
        raise BadRequest(f"`scanned_at` {value} is not plausible. Check the scanner's clock.")
    return parsed


def _message(scan: Scan) -> str:
    """What the door shows: admitted, or why not (with when an already-used ticket was first admitted)."""
    ticket = scan.ticket
    if scan.result == Scan.Result.ADMITTED:
        return "Admitted."
    if scan.reason == Scan.Reason.ALREADY_USED and ticket is not None and ticket.used_at is not None:
        first = in_zone(ticket.used_at, scan.event.tzinfo)
        return f"Already used: first admitted {first:%d %b %Y, %H:%M:%S} {zone_abbreviation(first)}."
    if scan.reason == Scan.Reason.INVALID and ticket is not None:
        return f"Ticket {ticket.display_status.lower()}."
    if scan.reason == Scan.Reason.AREA_NOT_ALLOWED and ticket is not None:
        return f"Area not allowed: {ticket.ticket_type.name} tickets are not admitted to {scan.access_area}."
    return _REASON_TEXT.get(scan.reason, scan.get_reason_display())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _answer(scan: Scan, *, repeated: bool) -> dict[str, Any]:
    ticket = scan.ticket
    return {
        "result": scan.result,
        "reason": scan.reason,
        "message": _message(scan),
        "repeated": repeated,
        "scan_id": scan.pk,
        "scanned_at": _iso(scan.scanned_at),
        "ticket": None
        if ticket is None
        else {
            "id": ticket.public_id,
            "type": ticket.ticket_type.name,
            "attendee_name": ticket.attendee_name,
            "order_code": ticket.order.code,
            "first_used_at": _iso(ticket.used_at) if ticket.used_at else None,
        },
    }


@csrf_exempt
def check_in(request: HttpRequest) -> JsonResponse:
    """One scan: {"code": …, "event"?: event ID, "scanned_at"?: ISO time, "access_area"?, "access_point"?,
    "client_scan_id"?} → the verdict, with the ticket's ID, type, attendee, order code and first use."""
    if request.method != "POST":
        response = Refusal(405, "method_not_allowed", "POST a scan as JSON.").response()
        response["Allow"] = "POST"
        return response
    try:
        device = _device(request)
        body = _payload(request)
        event = _event(device, body["event"])
        check_in = ticket_check_in(device=device, event=event, **{field: body[field] for field in _SCAN_FIELDS})
    except Refusal as refusal:
        return refusal.response()
    except ScanRejected as exc:
        return BadRequest(str(exc)).response()
    except CheckInError as exc:
        return Refusal(403, "forbidden", str(exc)).response()
    return JsonResponse(_answer(check_in.scan, repeated=check_in.repeated))


def openapi(request: HttpRequest) -> HttpResponse:
    """The scanner API's OpenAPI 3.1 description (tickets/openapi.json), as JSON."""
    return HttpResponse(OPENAPI_PATH.read_bytes(), content_type="application/json")
