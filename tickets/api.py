"""The check-in API for door scanners: `POST /api/v1/check-ins/`, JSON in and out, a device's bearer token.

Machines, not people: no session, no CSRF token, no login redirect. Every answer is JSON; an error
is `{"error": <code>, "detail": <text>}` with 400 (bad input), 401 (no or unknown or revoked token),
403 (an event the device may not check in for), 404 (an event not of the device's organisation).
The path stays lean (device, then lock + read ticket, insert scan, update ticket): it serves the
door rush, several hundred scans a second on one process.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from organiser_portal.models import Event

from .models import Scan, ScannerDevice
from .selectors import scanner_device_for_token, scanner_event
from .services import CheckInError, ticket_check_in

_TEXT_LIMITS = {"event": 12, "access_area": 120, "access_point": 120, "client_scan_id": 64}
_REASON_TEXT: dict[str, str] = {
    Scan.Reason.UNKNOWN: "Unknown code: no ticket of this organiser has it.",
    Scan.Reason.WRONG_EVENT: "This ticket is for another event.",
}


class BadRequest(Exception):
    pass


def _error(status: int, error: str, detail: str) -> JsonResponse:
    response = JsonResponse({"error": error, "detail": detail}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="scanner"'
    return response


def _device(request: HttpRequest) -> ScannerDevice | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return scanner_device_for_token(token.strip())


def _payload(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The body must be a JSON object.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise BadRequest("`code` is required: the QR code's content or the ticket ID as typed.")
    for field, limit in _TEXT_LIMITS.items():
        value = body.setdefault(field, "")
        if not isinstance(value, str) or len(value) > limit:
            raise BadRequest(f"`{field}` must be a string of at most {limit} characters.")
    body["scanned_at"] = _timestamp(body.get("scanned_at"))
    return body


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest("`scanned_at` must be an ISO 8601 time with its UTC offset, e.g. 2026-06-12T19:02:11+02:00.")
    return parsed


def _message(scan: Scan) -> str:
    """What the door shows: admitted, or why not (with when an already-used ticket was first admitted)."""
    ticket = scan.ticket
    if scan.result == Scan.Result.ADMITTED:
        return "Admitted."
    if scan.reason == Scan.Reason.ALREADY_USED and ticket is not None and ticket.used_at is not None:
        first = ticket.used_at.astimezone(scan.event.tzinfo)
        return f"Already used: first admitted {first:%d %b %Y, %H:%M:%S}."
    if scan.reason == Scan.Reason.INVALID and ticket is not None:
        return f"Ticket {ticket.display_status.lower()}."
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


class _Refused(Exception):
    """An answer other than a verdict: the status, the error code and what the scanner's operator reads."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.response = _error(status, error, detail)


def _authenticated_device(request: HttpRequest) -> ScannerDevice:
    device = _device(request)
    if device is None:
        raise _Refused(401, "unauthorized", "Send a scanner device's token: Authorization: Bearer <token>.")
    if device.is_revoked:
        raise _Refused(401, "revoked", "This scanner device's token has been revoked.")
    return device


def _scan_event(device: ScannerDevice, event_id: str) -> Event:
    """The event the scan names (one this scanner may scan for), else the scanner's own."""
    event = scanner_event(device, event_id) if event_id else device.event
    if event is not None:
        return event
    if event_id:
        raise _Refused(404, "event_not_found", f"No event {event_id} for this scanner.")
    raise _Refused(400, "bad_request", "`event` is required: this scanner is not bound to one event.")


@csrf_exempt
def check_in(request: HttpRequest) -> JsonResponse:
    """One scan: {"code": …, "event"?: event ID, "scanned_at"?: ISO time, "access_area"?, "access_point"?,
    "client_scan_id"?} → the verdict, with the ticket's ID, type, attendee, order code and first use."""
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "POST a scan as JSON.")
        response["Allow"] = "POST"
        return response
    try:
        device = _authenticated_device(request)
        body = _payload(request)
        event = _scan_event(device, body["event"])
        fields = {k: body[k] for k in ("scanned_at", "access_area", "access_point", "client_scan_id")}
        result = ticket_check_in(device=device, code=body["code"], event=event, **fields)
    except _Refused as refused:
        return refused.response
    except BadRequest as exc:
        return _error(400, "bad_request", str(exc))
    except CheckInError as exc:
        return _error(403, "forbidden", str(exc))
    return JsonResponse(_answer(result.scan, repeated=result.repeated))
