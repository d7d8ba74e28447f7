"""Helpers for the SMS tests: Twilio's HTTP API (mocked with `responses`, the outside world only), its answers,
and status callbacks signed as Twilio signs them."""

from __future__ import annotations

import json
import uuid

import responses
from django.conf import settings
from django.test import Client
from django.urls import reverse
from twilio.request_validator import RequestValidator

from notifications.models import OutgoingMessage

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests"
FROM = "+15005550006"
API_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def new_sid() -> str:
    return f"SM{uuid.uuid4().hex}"


def created(sid: str = "", to: str = "+4915123456789") -> responses.Response:
    """Twilio's 201 for a new message."""
    body = {"sid": sid or new_sid(), "status": "queued", "to": to, "from": FROM, "account_sid": ACCOUNT_SID}
    return responses.Response(
        responses.POST, API_URL, body=json.dumps(body), status=201, content_type="application/json"
    )


def refused(status: int, code: int, text: str) -> responses.Response:
    """Twilio's error answer."""
    body = {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return responses.Response(
        responses.POST, API_URL, body=json.dumps(body), status=status, content_type="application/json"
    )


def callback_url(message: OutgoingMessage) -> str:
    return f"{reverse('sms_status_webhook')}?message={message.pk}"


def post_status(
    client: Client,
    message: OutgoingMessage,
    status: str,
    *,
    sid: str = "",
    error_code: str = "",
    token: str | None = AUTH_TOKEN,
    tamper: dict[str, str] | None = None,
) -> tuple[int, dict]:
    """Post Twilio's status callback for the message, signed with `token` (None: unsigned); `tamper` changes fields
    after signing. (HTTP status, JSON answer)."""
    path = callback_url(message)
    fields = {
        "MessageSid": sid or message.provider_message_id,
        "AccountSid": ACCOUNT_SID,
        "From": FROM,
        "To": message.recipient,
        "MessageStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        fields["ErrorCode"] = error_code
    headers = {}
    if token is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(
            f"{settings.PORTAL_URL}{path}", fields
        )
    response = client.post(path, {**fields, **(tamper or {})}, **headers)
    return response.status_code, response.json()
