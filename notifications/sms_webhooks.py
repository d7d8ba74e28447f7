"""The SMS provider's status callbacks → DeliveryEvents: POST /webhooks/sms/status/?message=<our id>.

Twilio (and the sandbox, which imitates it) posts a form for each status of an SMS, signed in X-Twilio-Signature:
an HMAC of the URL it posted to and the form's fields, keyed with the auth token (TWILIO_AUTH_TOKEN; the sandbox's
SMS_SANDBOX_SECRET). A callback without a valid signature is refused (403 JSON) and changes nothing; a signed one
that isn't a status report is a 400. Each report is kept once (delivery_event_record), moving the SMS forward:
sent, delivered, or bounced / failed with Twilio's error code and its meaning.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from .services import IncomingEvent, delivery_event_record
from .sms import WRONG_NUMBER_CODES, TwilioProvider, error_reason
from .sms_sandbox import NAME as SANDBOX_NAME

log = logging.getLogger(__name__)

_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_MESSAGE_ID = re.compile(r"[1-9][0-9]{0,17}")
_ERROR_CODE = re.compile(r"[0-9]{1,6}")
# Twilio's MessageStatus → the delivery event it is. Undelivered and failed are classed by the error code.
_EVENT_TYPES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "canceled": "failed",
}
_FAILED_WORDS = {"undelivered": "Undelivered", "failed": "Not sent", "canceled": "Cancelled"}


def _signing_secret() -> str:
    return settings.TWILIO_AUTH_TOKEN if settings.SMS_PROVIDER == "twilio" else settings.SMS_SANDBOX_SECRET


def _refused(status: int, reason: str) -> JsonResponse:
    log.warning("SMS status callback refused: %s", reason)
    return JsonResponse({"error": reason}, status=status)


def incoming_sms_event(fields: dict[str, str], message_id: str) -> IncomingEvent:
    """One status report as the event the outbox records. Raises ValueError for fields that aren't one."""
    sid, status, code = (
        fields.get("MessageSid", ""),
        fields.get("MessageStatus", "").lower(),
        fields.get("ErrorCode", ""),
    )
    if not _SID.fullmatch(sid) or not (status in _EVENT_TYPES or status in _FAILED_WORDS):
        raise ValueError("Not a status report: MessageSid or MessageStatus is missing or unknown.")
    if code and not _ERROR_CODE.fullmatch(code):
        raise ValueError("ErrorCode is not a number.")
    reason = ""
    event_type = _EVENT_TYPES.get(status, "failed")
    if status in _FAILED_WORDS:
        event_type = "bounced" if code in WRONG_NUMBER_CODES else "failed"
        reason = f"{_FAILED_WORDS[status]} · {error_reason(code)}" if code else _FAILED_WORDS[status]
    provider = TwilioProvider.name if settings.SMS_PROVIDER == "twilio" else SANDBOX_NAME
    return IncomingEvent(
        provider=provider,
        event_type=event_type,
        occurred_at=None,  # Twilio's callback carries no time: recorded when it arrived
        recipient=fields.get("To", "")[:254],
        reason=reason,
        event_id=f"{sid}:{status}",
        provider_message_id=sid,
        portal_message_id=message_id,
        raw=dict(fields),
    )


@csrf_exempt
@require_POST
def sms_status_webhook(request: HttpRequest) -> JsonResponse:
    """Verify the signature over PORTAL_URL + the path we gave the provider, then record the report."""
    signature = request.headers.get("X-Twilio-Signature", "")
    secret = _signing_secret()
    if not signature:
        return _refused(403, "The callback is not signed (no X-Twilio-Signature).")
    url = f"{settings.PORTAL_URL}{request.get_full_path()}"
    if not secret or not RequestValidator(secret).validate(url, request.POST, signature):
        return _refused(403, "The callback's X-Twilio-Signature is not valid.")
    message_id = request.GET.get("message", "")
    fields = {key: request.POST.get(key, "") for key in request.POST}
    try:
        event = incoming_sms_event(fields, message_id if _MESSAGE_ID.fullmatch(message_id) else "")
    except ValueError as error:
        return _refused(400, str(error))
    stored = delivery_event_record(event=event)
    return JsonResponse({"stored": stored is not None})
