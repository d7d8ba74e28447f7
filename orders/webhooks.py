"""Stripe's webhook: POST /webhooks/stripe/, the outcome of refunds the portal asked Stripe for.

Stripe signs each delivery with the endpoint's secret (STRIPE_WEBHOOK_SECRET, header Stripe-Signature:
`t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">`); the stripe package checks the signature and its age
(5 minutes) before the body is read. Answers, always JSON:

- 400 `bad_signature`: unsigned, wrongly signed or too old; 400 `malformed`: not a Stripe event in JSON;
  404 `not_configured`: Stripe is not enabled here. Nothing changes.
- 200 `ignored`: an event type we don't handle, or a refund made outside the portal (no portal metadata):
  Stripe stops sending it.
- 404 `unknown_refund`: a refund with the portal's metadata that the portal doesn't know. Stripe retries.
- 200 `moved` / `unchanged`: the refund (refund.created, refund.updated, refund.failed, charge.refund.updated)
  moved forward, or the event was a duplicate, late or out of order (the transition table never moves a
  refund back), or about an earlier attempt.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from organiser_portal.ids import parse_id

from .payment_providers import RefundUpdate, stripe_refund_update
from .refunds import refund_provider_update

REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"})


def _answer(http_status: int, /, **body: str) -> JsonResponse:
    return JsonResponse(body, status=http_status)


class _Refused(Exception):
    """A delivery answered without looking further: its JSON answer."""

    def __init__(self, http_status: int, /, **body: str) -> None:
        super().__init__(body)
        self.response = _answer(http_status, **body)


def _verified_event(request: HttpRequest) -> dict[str, Any]:
    """The event Stripe signed, as a dict. Raises _Refused when Stripe is not enabled, the signature is missing,
    wrong or too old, or the body is not a Stripe event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if "stripe" not in settings.PAYMENT_PROVIDERS or not secret:
        raise _Refused(404, error="not_configured", detail="Stripe is not enabled on this portal.")
    # The check stripe.Webhook.construct_event makes (signature and age), without the StripeObject it would
    # build and we'd throw away: it fails with an AttributeError on a signed body that is no JSON object.
    try:
        payload = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("Stripe-Signature"), secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise _Refused(400, error="bad_signature", detail=str(error).splitlines()[0][:200]) from error
    except ValueError as error:  # not UTF-8 or not JSON; checked after the signature, so only Stripe gets here
        raise _Refused(400, error="malformed", detail="The body is not JSON.") from error
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise _Refused(400, error="malformed", detail="The body is not a Stripe event.")
    return event


def _refund_of(event: dict[str, Any]) -> tuple[RefundUpdate, dict[str, Any]]:
    """The refund event's answer and the refund's metadata. Raises _Refused when it holds no Stripe refund."""
    refund = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    metadata = refund.get("metadata") if isinstance(refund, dict) else None
    update = stripe_refund_update(refund) if isinstance(refund, dict) else None
    if update is None or not isinstance(metadata, dict):
        raise _Refused(400, error="malformed", detail="The event's object is not a Stripe refund.")
    return update, metadata


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = _verified_event(request)
        if event["type"] not in REFUND_EVENTS:
            return _answer(200, status="ignored", detail=f"Events of type {event['type']} are not used.")
        update, metadata = _refund_of(event)
    except _Refused as refused:
        return refused.response
    refund_id = parse_id(metadata.get("refund_id"))
    if refund_id is None and "attempt_key" not in metadata:
        return _answer(200, status="ignored", detail="A refund made outside the portal.")
    attempt_key = str(metadata.get("attempt_key", ""))
    moved = refund_provider_update(provider="stripe", update=update, refund_id=refund_id, attempt_key=attempt_key)
    if moved is None:
        return _answer(404, error="unknown_refund", detail=f"No refund of this portal is {update.provider_reference}.")
    return _answer(200, status="moved" if moved else "unchanged")
