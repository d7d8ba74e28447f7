"""Anymail's tracking webhooks → DeliveryEvents.

Anymail checks the webhook secret (basic auth) and the service's own signature (Mailgun),
parses each service's JSON into a normalised event and sends its `tracking` signal; this
receiver hands the event to the one service that records it.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent

from .emails import METADATA_KEY
from .services import IncomingEvent, delivery_event_record


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


def incoming_event(event: AnymailTrackingEvent, esp_name: str) -> IncomingEvent:
    metadata = event.metadata or {}
    event_type, reason = str(event.event_type), _reason(event)
    if esp_name == "Amazon SES" and (delay := _ses_delivery_delay(event)) is not None:
        event_type, reason = "deferred", delay
    return IncomingEvent(
        provider=esp_name,
        event_type=event_type,
        occurred_at=event.timestamp,
        recipient=event.recipient or "",
        reason=reason,
        event_id=str(event.event_id or ""),
        provider_message_id=str(event.message_id or ""),
        portal_message_id=str(metadata.get(METADATA_KEY, "")),
        raw=event.esp_event,
    )


def handle_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    delivery_event_record(event=incoming_event(event, esp_name))
