"""Play an email service's delivery event for a message, through the real webhook code path.

For the embedded default, where no email service reports anything: the event is shaped as
Postmark sends it and posted to anymail's Postmark tracking view with the configured webhook
secret, so anymail parses it, sends its tracking signal and notifications.webhooks records it
exactly as in production.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from anymail.utils import get_anymail_setting
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.test import RequestFactory
from django.utils import timezone

from notifications.emails import METADATA_KEY
from notifications.models import OutgoingMessage

OUTCOMES = ("delivered", "bounced", "deferred", "opened", "complained")


def postmark_payload(message: OutgoingMessage, outcome: str) -> dict:
    now = timezone.now().isoformat().replace("+00:00", "Z")
    common = {
        "MessageStream": "outbound",
        "MessageID": message.provider_message_id or str(uuid.uuid4()),
        "Metadata": {METADATA_KEY: str(message.pk), "order": message.order.code},
        "Tag": message.kind,
        "ServerID": 0,
    }
    if outcome == "delivered":
        return {
            **common,
            "RecordType": "Delivery",
            "Recipient": message.recipient,
            "DeliveredAt": now,
            "Details": "250 2.0.0 OK (simulated)",
        }
    if outcome == "opened":
        return {**common, "RecordType": "Open", "Recipient": message.recipient, "ReceivedAt": now, "FirstOpen": True}
    bounce_types = {
        "bounced": (
            "HardBounce",
            1,
            "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            "550 5.1.1 mailbox does not exist (simulated)",
        ),
        "deferred": (
            "Transient",
            2,
            "Message delayed / Transient",
            "451 4.7.1 greylisted, try again later (simulated)",
        ),
        "complained": ("SpamComplaint", 512, "The subscriber explicitly marked this message as spam.", "simulated"),
    }
    kind, code, description, details = bounce_types[outcome]
    return {
        **common,
        "RecordType": "SpamComplaint" if outcome == "complained" else "Bounce",
        "ID": uuid.uuid4().int % 10**15,
        "Type": kind,
        "TypeCode": code,
        "Description": description,
        "Details": details,
        "Email": message.recipient,
        "BouncedAt": now,
    }


def simulate_delivery_event(message: OutgoingMessage, outcome: str) -> int:
    """Post the event to anymail's Postmark tracking view; returns the HTTP status it answered."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    body = json.dumps(postmark_payload(message, outcome))
    headers: dict[str, Any] = {}
    secret = get_anymail_setting("webhook_secret", default=None)
    if secret:
        secret = secret[0] if isinstance(secret, list) else secret
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(secret.encode()).decode()
    request = RequestFactory().post("/anymail/postmark/tracking/", body, content_type="application/json", **headers)
    return PostmarkTrackingWebhookView.as_view()(request).status_code
