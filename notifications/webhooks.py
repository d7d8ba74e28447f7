"""Anymail's tracking webhooks → DeliveryEvents.

Anymail checks the webhook secret (basic auth) and the service's own signature (Mailgun),
parses each service's JSON into a normalised event and sends its `tracking` signal; this
receiver classifies the event (`delivery_class`) and hands it to the one service that records it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from anymail.signals import AnymailTrackingEvent
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .emails import METADATA_KEY
from .services import IncomingEvent, delivery_event_record, delivery_events_record

log = logging.getLogger(__name__)


def _reason(event: AnymailTrackingEvent) -> str:
    parts = [p for p in (event.description, event.mta_response) if p]
    if not parts and event.reject_reason:
        parts = [str(event.reject_reason)]
    return " — ".join(dict.fromkeys(str(p).strip() for p in parts))


def _ses_delivery_delay(event: AnymailTrackingEvent) -> str | None:
    """Amazon SES reports deferrals as "DeliveryDelay", which anymail 15 passes on as unknown."""
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    if esp_event.get("eventType") != "DeliveryDelay":
        return None
    delay = esp_event.get("deliveryDelay", {})
    codes = [r.get("diagnosticCode", "") for r in delay.get("delayedRecipients", []) if r.get("diagnosticCode")]
    return " — ".join([delay.get("delayType", "Delivery delayed"), *codes[:1]])


# The classes of a failed delivery (MessageStatus's docstring says what each means to the order page).
PERMANENT, TRANSIENT, AUTO_REPLY, COMPLAINT = "permanent", "transient", "auto_reply", "complaint"
CLASS_EVENT_TYPE = {PERMANENT: "bounced", TRANSIENT: "deferred", AUTO_REPLY: "autoresponded", COMPLAINT: "complained"}

# Each service's own word for the kind of bounce: Postmark's `Type`, Brevo's and SendGrid's `event`,
# Amazon SES's `bounce.bounceType`, Mailgun's `severity`, SendGrid's bounce `type` ("blocked": refused
# for the sender's reputation or content, not for the address).
_PROVIDER_CLASS = {
    "HardBounce": PERMANENT,
    "Transient": TRANSIENT,
    "SoftBounce": TRANSIENT,
    "DnsError": TRANSIENT,
    "AutoResponder": AUTO_REPLY,
    "AddressChange": AUTO_REPLY,
    "ChallengeVerification": AUTO_REPLY,
    "hard_bounce": PERMANENT,
    "soft_bounce": TRANSIENT,
    "deferred": TRANSIENT,
    "Permanent": PERMANENT,
    "permanent": PERMANENT,
    "temporary": TRANSIENT,
    "blocked": TRANSIENT,
}
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY_CODE = re.compile(r"(?:^|[;:]\s*)([245])\d\d(?![\d.])")
_FULL_MAILBOX = re.compile(
    r"mailbox (?:is )?full|over (?:the )?quota|quota exceeded|insufficient (?:system )?storage", re.I
)
_TRY_LATER = re.compile(r"greylist|graylist|try again later|temporar(?:il)?y|deferred|throttl", re.I)
_AUTO_REPLY_WORDS = re.compile(
    r"out of (?:the )?office|auto[- ]?repl|automatic reply|auto[- ]?respon|on vacation", re.I
)


def _provider_class(esp_event: Any) -> str | None:
    if not isinstance(esp_event, dict):
        return None
    if isinstance(bounce := esp_event.get("bounce"), dict):  # Amazon SES ("Undetermined" says nothing)
        return _PROVIDER_CLASS.get(str(bounce.get("bounceType")))
    if isinstance(data := esp_event.get("event-data"), dict):  # Mailgun
        return _PROVIDER_CLASS.get(str(data.get("severity")))
    if esp_event.get("event") == "bounce":  # SendGrid: "bounce" or "blocked"
        return _PROVIDER_CLASS.get(str(esp_event.get("type")))
    return _PROVIDER_CLASS.get(str(esp_event.get("Type") or esp_event.get("event")))


def _smtp_class(text: str) -> str | None:
    """Permanent or transient from the SMTP status in the service's words: 5.x.x permanent, 4.x.x transient,
    except that a full mailbox (5.2.2, "over quota") is transient whatever its code."""
    if _FULL_MAILBOX.search(text):
        return TRANSIENT
    codes = [m.group(1, 2, 3) for m in _ENHANCED_STATUS.finditer(text)] or [
        (m.group(1), "", "") for m in _REPLY_CODE.finditer(text)
    ]
    if any(code == ("5", "2", "2") for code in codes):
        return TRANSIENT
    classes = {code[0] for code in codes} - {"2"}
    if "5" in classes:
        return PERMANENT
    if "4" in classes or _TRY_LATER.search(text):
        return TRANSIENT
    return None


def delivery_class(event_type: str, esp_event: Any, text: str) -> str | None:
    """The class of a failed delivery (permanent, transient, auto-reply or complaint); None for anything else.

    From anymail's normalised type, the service's own bounce type and the SMTP status class in `text` (the
    service's description and the receiving server's answer). A sign that the failure is transient wins
    over a permanent one: only a failure that is surely the address's says the address is wrong.
    """
    if event_type == "complained":
        return COMPLAINT
    if event_type not in ("bounced", "deferred", "autoresponded"):
        return None
    provider, smtp = _provider_class(esp_event), _smtp_class(text)
    if event_type == "autoresponded" or provider == AUTO_REPLY:
        return AUTO_REPLY
    if provider is None and smtp != PERMANENT and _AUTO_REPLY_WORDS.search(text):
        return AUTO_REPLY
    if event_type == "deferred" or TRANSIENT in (provider, smtp):
        return TRANSIENT
    return PERMANENT


def _ses_status_text(esp_event: Any) -> str:
    """Amazon SES gives each bounced recipient's enhanced status (e.g. 5.2.2) beside its diagnostic code."""
    bounce = esp_event.get("bounce") if isinstance(esp_event, dict) else None
    recipients = bounce.get("bouncedRecipients", []) if isinstance(bounce, dict) else []
    return " ".join(str(r.get("status", "")) for r in recipients if isinstance(r, dict))


# Our message ids as the metadata carries them back: ASCII digits within PostgreSQL's bigint. str.isdigit()
# would take "１２" (full-width) for 12 and let a 30-digit number overflow the query.
_MESSAGE_ID = re.compile(r"[1-9][0-9]{0,17}")
# How far from now a service's time for an event is believed: services retry a webhook for up to three days
# (SendGrid 72 h, Postmark ~10 h); an event time outside the window is replaced by the time it arrived.
EVENT_TIME_PAST = timedelta(days=7)
EVENT_TIME_SKEW = timedelta(minutes=10)


def portal_message_id(metadata: Any) -> str:
    """The portal's message id from an event's metadata, '' when there is none of the right shape."""
    value = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    value = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return value if _MESSAGE_ID.fullmatch(value) else ""


def plausible_time(at: Any, now: datetime) -> datetime | None:
    """`at` when it is an aware time within EVENT_TIME_PAST before now and EVENT_TIME_SKEW after; else None
    (the event is then recorded at the time it arrived)."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        return None
    return at if now - EVENT_TIME_PAST <= at <= now + EVENT_TIME_SKEW else None


def incoming_event(event: AnymailTrackingEvent, esp_name: str) -> IncomingEvent:
    event_type, reason = str(event.event_type), _reason(event)
    if esp_name == "Amazon SES" and (delay := _ses_delivery_delay(event)) is not None:
        event_type, reason = "deferred", delay
    status_text = str(event.esp_event.get("status", "")) if isinstance(event.esp_event, dict) else ""
    text = " ".join([reason, status_text, _ses_status_text(event.esp_event)])
    if (kind := delivery_class(event_type, event.esp_event, text)) is not None:
        event_type = CLASS_EVENT_TYPE[kind]
    if (occurred_at := plausible_time(event.timestamp, timezone.now())) is None and event.timestamp is not None:
        log.info("%s event time %r is not plausible: recorded at its arrival", esp_name, event.timestamp)
    return IncomingEvent(
        provider=esp_name,
        event_type=event_type,
        occurred_at=occurred_at,
        recipient=str(event.recipient or "")[:254],
        reason=reason,
        event_id=str(event.event_id or "")[:200],
        provider_message_id=str(event.message_id or "")[:200],
        portal_message_id=portal_message_id(event.metadata),
        raw=event.esp_event,
    )


# The events of the request being handled by `recorded_together`; None: record each as its signal comes.
_batch: ContextVar[list[IncomingEvent] | None] = ContextVar("delivery_event_batch", default=None)


def handle_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    incoming = incoming_event(event, esp_name)
    if (batch := _batch.get()) is not None:
        batch.append(incoming)
    else:
        delivery_event_record(event=incoming)


def recorded_together(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`view` (an anymail tracking webhook) with the events of one request recorded together after anymail
    has parsed them all (`delivery_events_record`: sorted into the lock order, twenty to a commit) instead
    of one transaction per event. A refused request (credentials, signature) records nothing; an error while
    recording is raised as when recording one at a time (webhook_guard reads a failing batch again event by
    event)."""

    @wraps(view)
    def batched(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        events: list[IncomingEvent] = []
        token = _batch.set(events)
        try:
            response = view(request, *args, **kwargs)
        finally:
            _batch.reset(token)
        if events and response.status_code < 300:
            delivery_events_record(events=events)
        return response

    return batched
