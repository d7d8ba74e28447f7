"""POST /webhooks/stripe/: Stripe's refund events, signed as Stripe signs them (t=…,v1=HMAC-SHA256 of "t.body")
with a test endpoint secret. A good signature moves the refund; anything else is refused and changes nothing."""

import hashlib
import hmac
import json
import time

import pytest
from django.db import transaction
from django.test import Client

from orders.models import Order, Refund, TimelineEntry
from orders.refunds import refund_move
from orders.timeline import ACTIONS

from .refund_setup import TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, paid_order, requested_refund, stripe_refund_json

pytestmark = pytest.mark.django_db
URL = "/webhooks/stripe/"
Status = Refund.Status


@pytest.fixture(autouse=True)
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = TEST_STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = TEST_WEBHOOK_SECRET
    settings.PAYMENT_PROVIDERS = [*settings.PAYMENT_PROVIDERS, "stripe"]


@pytest.fixture
def refund(event, ticket_type) -> Refund:
    """A Stripe refund Stripe accepted and is confirming (as refund_submit leaves it), reference re_hook."""
    order = paid_order(event=event, ticket_type=ticket_type, provider="stripe", quantity=2)
    refund = requested_refund(order)
    with transaction.atomic():
        refund.order = Order.objects.select_for_update().get(pk=order.pk)
        refund_move(refund, Status.PROCESSING)
        refund_move(refund, Status.CONFIRMING, provider_reference="re_hook", actor_kind="provider")
    return refund


def sign(body: str, secret: str = TEST_WEBHOOK_SECRET, at: int | None = None) -> str:
    """Stripe's Stripe-Signature header, computed by hand (not with the stripe package under test)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(refund: Refund, event_type: str = "refund.updated", event_id: str = "evt_1", **refund_fields) -> str:
    refund_object = stripe_refund_json(refund, **{"stripe_id": "re_hook", "status": "succeeded", **refund_fields})
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "livemode": False, "data": {"object": refund_object}}
    )


def post(body: str, signature: str | None = "sign", client: Client | None = None):
    headers = {} if signature is None else {"Stripe-Signature": sign(body) if signature == "sign" else signature}
    return (client or Client()).post(URL, body, content_type="application/json", headers=headers)


def state(refund: Refund) -> tuple:
    refund.refresh_from_db()
    order = Order.objects.get(pk=refund.order_id)
    return (
        refund.status,
        refund.error,
        order.status,
        order.refunded_total,
        order.refunding_total,
        order.timeline.count(),
    )


def test_a_signed_refund_succeeded_event_moves_the_refund_and_the_money(refund):
    response = post(event(refund), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 200 and response.json() == {"status": "moved"}
    refund.refresh_from_db()
    order = Order.objects.get(pk=refund.order_id)
    assert refund.status == Status.SUCCEEDED and refund.completed_at
    assert (order.status, order.refunded_total, order.refunding_total) == ("refunded", order.total, 0)
    entry = TimelineEntry.objects.get(order=order, action="refund.succeeded")
    assert entry.actor_kind == "provider" and entry.actor is None


def test_a_refund_failed_event_fails_it_with_stripes_reason_and_releases_the_money(refund):
    body = event(refund, "refund.failed", status="failed", failure_reason="lost_or_stolen_card")
    assert post(body).json() == {"status": "moved"}
    status, error, order_status, refunded, refunding, _ = state(refund)
    assert (status, error, order_status, refunded, refunding) == (
        Status.FAILED,
        "The card was reported lost or stolen",
        "paid",
        0,
        0,
    )


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "t=1,v1=0000",
        "garbage",
        "sign-with-another-secret",
        "sign-an-hour-ago",
    ],
    ids=["missing", "empty", "wrong", "malformed", "other-secret", "too-old"],
)
def test_an_unsigned_or_wrongly_signed_event_is_refused_and_changes_nothing(refund, signature):
    body = event(refund)
    before = state(refund)
    if signature == "sign-with-another-secret":
        signature = sign(body, secret="whsec_someone_else")
    elif signature == "sign-an-hour-ago":
        signature = sign(body, at=int(time.time()) - 3600)

    response = post(body, signature=signature)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert state(refund) == before


def test_a_signature_over_another_body_is_refused(refund):
    signature = sign(event(refund, status="failed"))
    response = post(event(refund), signature=signature)
    assert response.status_code == 400 and response.json()["error"] == "bad_signature"


@pytest.mark.parametrize(
    "body", ["{not json", "[]", '{"type": "refund.updated"}', '{"type": "refund.updated", "data": 3}']
)
def test_a_signed_body_that_is_no_stripe_refund_event_is_refused(refund, body):
    before = state(refund)
    response = post(body)
    assert response.status_code == 400 and response.json()["error"] == "malformed"
    assert state(refund) == before


def test_a_duplicate_event_changes_nothing(refund):
    body = event(refund)
    assert post(body).json() == {"status": "moved"}
    after = state(refund)

    response = post(body)

    assert response.status_code == 200 and response.json() == {"status": "unchanged"}
    assert state(refund) == after
    assert Order.objects.get(pk=refund.order_id).messages.filter(kind="refund_notice").count() == 0  # not asked for


def test_events_out_of_order_end_right(refund):
    assert post(event(refund, "refund.updated", "evt_2", status="succeeded")).json() == {"status": "moved"}
    assert post(event(refund, "refund.created", "evt_1", status="pending")).json() == {"status": "unchanged"}
    assert post(event(refund, "refund.failed", "evt_0", status="failed")).json() == {"status": "unchanged"}
    assert state(refund)[:3] == (Status.SUCCEEDED, "", "refunded")


def test_the_webhook_beats_the_submits_answer_found_by_the_portals_metadata(refund):
    Refund.objects.filter(pk=refund.pk).update(provider_reference="")  # the answer to the POST is not in yet
    assert post(event(refund, "charge.refund.updated", stripe_id="re_new")).json() == {"status": "moved"}
    refund.refresh_from_db()
    assert (refund.status, refund.provider_reference) == (Status.SUCCEEDED, "re_new")


def test_an_event_about_an_earlier_attempt_changes_nothing(refund):
    old_attempt = event(refund, "refund.updated", stripe_id="re_hook", status="failed")
    Refund.objects.filter(pk=refund.pk).update(attempt=2, provider_reference="re_second")
    before = state(refund)

    assert post(old_attempt).json() == {"status": "unchanged"}
    stale_metadata = json.loads(old_attempt)
    stale_metadata["data"]["object"]["id"] = "re_unknown"
    assert post(json.dumps(stale_metadata)).json() == {"status": "unchanged"}
    assert state(refund) == before


def test_an_unknown_refund_of_the_portal_is_a_404_and_one_made_outside_it_is_ignored(refund):
    body = json.loads(event(refund, stripe_id="re_other"))
    body["data"]["object"]["metadata"] = {"refund_id": "999999", "attempt_key": "nope:1"}
    response = post(json.dumps(body))
    assert response.status_code == 404 and response.json()["error"] == "unknown_refund"

    body["data"]["object"]["metadata"] = {}  # refunded in Stripe's dashboard
    assert post(json.dumps(body)).json()["status"] == "ignored"


def test_other_event_types_are_acknowledged_and_ignored(refund):
    before = state(refund)
    body = json.dumps({"id": "evt_9", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}})
    response = post(body)
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert state(refund) == before


def test_only_post_and_only_when_stripe_is_enabled(refund, settings):
    assert Client().get(URL).status_code == 405
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = post(event(refund))
    assert response.status_code == 404 and response.json()["error"] == "not_configured"


def test_every_refund_action_has_its_sentence():
    for action in ("refund.requested", "refund.processing", "refund.confirming", "refund.succeeded", "refund.failed"):
        assert action in ACTIONS
