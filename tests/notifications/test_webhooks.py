"""The email services' tracking webhooks, posted as each service posts them, through anymail's real endpoints."""

import base64
import json

import pytest
from django.urls import reverse

from notifications.models import DeliveryEvent, OutgoingMessage
from orders.models import Order, TimelineEntry

from . import payloads
from .conftest import SECRET

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status


def auth(secret: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def meta(message: OutgoingMessage) -> dict:
    assert message.order is not None
    return {"portal_message_id": str(message.pk), "order": message.order.code}


def post(client, service: str, body: dict, **headers):
    return client.post(
        reverse(f"anymail:{service}_tracking_webhook"), json.dumps(body), content_type="application/json", **headers
    )


def post_ses(client, notification: dict, **headers):
    return post(
        client,
        "amazon_ses",
        notification,
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
        HTTP_X_AMZ_SNS_MESSAGE_ID=notification["MessageId"],
        **headers,
    )


def state(message: OutgoingMessage) -> tuple[str, str]:
    message.refresh_from_db()
    return message.status, Order.objects.get(pk=_order_id(message)).email_status


def _order_id(message: OutgoingMessage) -> int:
    assert message.order_id is not None  # ticket emails are about an order
    return message.order_id


def email_entries(message: OutgoingMessage) -> list[tuple[str, str]]:
    return list(
        TimelineEntry.objects.filter(order_id=_order_id(message), action__startswith="email.")
        .order_by("created_at", "id")
        .values_list("action", "actor_kind")
    )


# --- Postmark ---------------------------------------------------------------


def test_postmark_bounce_marks_the_message_and_the_order(sql_form, client, sent):
    message = sent()
    body = payloads.postmark_bounce(message.provider_message_id, meta(message), message.recipient)
    assert post(client, "postmark", body, **auth()).status_code == 200
    assert state(message) == ("bounced", "bounced")
    assert "mailbox not found" in message.status_reason
    assert email_entries(message)[-1] == ("email.bounced", "webhook")
    event = DeliveryEvent.objects.get()
    assert (event.message, event.event_type, event.provider) == (message, "bounced", "Postmark")
    assert event.raw["Type"] == "HardBounce"


@pytest.mark.parametrize("headers", [{}, auth("hook-user:wrong"), auth("someone:hook-password")])
def test_missing_or_wrong_credentials_are_refused_and_change_nothing(client, sent, headers):
    message = sent()
    before = email_entries(message)
    body = payloads.postmark_bounce(message.provider_message_id, meta(message), message.recipient)
    response = post(client, "postmark", body, **headers)
    assert response.status_code in (400, 401, 403)
    assert state(message) == ("sent", "sent")
    assert not DeliveryEvent.objects.exists() and email_entries(message) == before


def test_a_duplicate_event_changes_nothing(sql_form, client, sent):
    message = sent()
    body = payloads.postmark_bounce(message.provider_message_id, meta(message), message.recipient)
    post(client, "postmark", body, **auth())
    entries = email_entries(message)
    assert post(client, "postmark", body, **auth()).status_code == 200
    assert DeliveryEvent.objects.count() == 1 and email_entries(message) == entries
    delivery = payloads.postmark_delivery(message.provider_message_id, meta(message), message.recipient)
    post(client, "postmark", delivery, **auth())
    post(client, "postmark", delivery, **auth())  # no event ID in Postmark deliveries: the payload is the key
    assert DeliveryEvent.objects.count() == 2


def test_matched_by_provider_message_id_without_metadata(sql_form, client, sent):
    message = sent()
    body = payloads.postmark_delivery(message.provider_message_id, {}, message.recipient)
    post(client, "postmark", body, **auth())
    assert state(message) == ("delivered", "delivered")


def test_an_event_for_no_known_message_is_kept_and_answered(sql_form, client, sent):
    message = sent()
    body = payloads.postmark_delivery("00000000-0000-0000-0000-000000000000", {}, "someone@example.com")
    assert post(client, "postmark", body, **auth()).status_code == 200
    assert DeliveryEvent.objects.get().message is None
    assert state(message) == ("sent", "sent")


def test_out_of_order_events_end_in_the_right_status(sql_form, client, sent):
    message = sent()
    pid, md, to = message.provider_message_id, meta(message), message.recipient
    # The open arrives first: it proves delivery.
    post(client, "postmark", payloads.postmark_open(pid, md, to), **auth())
    assert state(message) == ("delivered", "delivered") and message.opened_at is not None
    # Then the (earlier) delivery and a (still earlier) deferral: nothing moves back.
    post(client, "postmark", payloads.postmark_delivery(pid, md, to), **auth())
    post(client, "postmark", payloads.postmark_bounce(pid, md, to, bounce_type="Transient", event_id=7), **auth())
    assert state(message) == ("delivered", "delivered")
    assert [a for a, _ in email_entries(message)] == ["email.queued", "email.sent", "email.delivered"]
    assert DeliveryEvent.objects.filter(message=message).count() == 3
    # A late bounce is news: it overrides delivered.
    post(client, "postmark", payloads.postmark_bounce(pid, md, to, event_id=8), **auth())
    assert state(message) == ("bounced", "bounced")
    # And a complaint ranks above everything.
    post(client, "postmark", payloads.postmark_spam_complaint(pid, md, to), **auth())
    assert state(message) == ("complained", "complained")


def test_deferred_then_delivered(sql_form, client, sent):
    message = sent()
    pid, md, to = message.provider_message_id, meta(message), message.recipient
    post(client, "postmark", payloads.postmark_bounce(pid, md, to, bounce_type="Transient", event_id=9), **auth())
    assert state(message) == ("deferred", "deferred")
    post(client, "postmark", payloads.postmark_delivery(pid, md, to), **auth())
    assert state(message) == ("delivered", "delivered") and message.status_reason == ""


def test_only_the_latest_ticket_email_sets_the_order_email_status(sql_form, client, sent, test_backend, member):
    from orders.services import order_resend_tickets

    message = sent()
    order = message.order
    order_resend_tickets(actor=member("support"), order=order, idempotency_key="k1")
    post(
        client,
        "postmark",
        payloads.postmark_bounce(message.provider_message_id, meta(message), message.recipient),
        **auth(),
    )
    message.refresh_from_db()
    order.refresh_from_db()
    assert message.status == "bounced" and order.email_status == "queued"


# --- Mailgun ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mailgun_type", "severity", "expected"),
    [
        ("delivered", None, "delivered"),
        ("failed", "permanent", "bounced"),
        ("failed", "temporary", "deferred"),
        ("opened", None, "delivered"),
        ("complained", None, "complained"),
    ],
)
def test_mailgun_events(client, sent, mailgun_type, severity, expected):
    message = sent("20260701100000.1.ABCDEF@mg.portal.example")
    body = payloads.mailgun_event(
        mailgun_type, message.provider_message_id, meta(message), message.recipient, severity=severity
    )
    assert post(client, "mailgun", body, **auth()).status_code == 200
    assert state(message) == (expected, expected)


def test_mailgun_bounce_reason_is_kept(client, sent):
    # Mailgun's send API answers with the ID in <>; its webhooks leave them off (anymail adds them back).
    message = sent("<20260701100000.1.ABCDEF@mg.portal.example>")
    body = payloads.mailgun_event(
        "failed", message.provider_message_id.strip("<>"), {}, message.recipient, severity="permanent"
    )
    post(client, "mailgun", body, **auth())  # matched by the message ID alone
    message.refresh_from_db()
    assert message.status == "bounced"
    assert "does not exist" in message.status_reason


def test_mailgun_wrong_signature_is_refused(client, sent):
    message = sent("20260701100000.1.ABCDEF@mg.portal.example")
    body = payloads.mailgun_event(
        "failed", message.provider_message_id, meta(message), message.recipient, severity="permanent", key="key-wrong"
    )
    assert post(client, "mailgun", body, **auth()).status_code == 400
    assert state(message) == ("sent", "sent") and not DeliveryEvent.objects.exists()


def test_mailgun_duplicate_is_ignored(client, sent):
    message = sent("20260701100000.1.ABCDEF@mg.portal.example")
    body = payloads.mailgun_event(
        "delivered", message.provider_message_id, meta(message), message.recipient, token="t" * 50
    )
    post(client, "mailgun", body, **auth())
    post(client, "mailgun", body, **auth())
    assert DeliveryEvent.objects.count() == 1
    assert [a for a, _ in email_entries(message)].count("email.delivered") == 1


# --- Amazon SES (SNS) -------------------------------------------------------

SES_ID = "0102017c9f7e8a30-4b3a1c2e-6f0e-4a6b-9a55-1f0c3f1b2c3d-000000"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Delivery", "delivered"),
        ("Bounce", "bounced"),
        ("DeliveryDelay", "deferred"),
        ("Open", "delivered"),
        ("Complaint", "complained"),
    ],
)
def test_amazon_ses_events(client, sent, kind, expected):
    message = sent(SES_ID)
    notification = payloads.sns_notification(payloads.ses_event(kind, SES_ID, meta(message), message.recipient))
    assert post_ses(client, notification, **auth()).status_code == 200
    assert state(message) == (expected, expected)


def test_amazon_ses_reasons(client, sent):
    message = sent(SES_ID)
    post_ses(
        client, payloads.sns_notification(payloads.ses_event("DeliveryDelay", SES_ID, {}, message.recipient)), **auth()
    )
    message.refresh_from_db()
    assert message.status_reason.startswith("TransientCommunicationFailure")
    post_ses(client, payloads.sns_notification(payloads.ses_event("Bounce", SES_ID, {}, message.recipient)), **auth())
    message.refresh_from_db()
    assert "user unknown" in message.status_reason


def test_amazon_ses_without_credentials_is_refused(client, sent):
    message = sent(SES_ID)
    notification = payloads.sns_notification(payloads.ses_event("Bounce", SES_ID, meta(message), message.recipient))
    assert post_ses(client, notification).status_code == 401
    assert post_ses(client, notification, **auth("x:y")).status_code == 400
    assert state(message) == ("sent", "sent") and not DeliveryEvent.objects.exists()


def test_amazon_ses_redelivered_notification_is_ignored(client, sent):
    message = sent(SES_ID)
    notification = payloads.sns_notification(payloads.ses_event("Bounce", SES_ID, meta(message), message.recipient))
    post_ses(client, notification, **auth())
    post_ses(client, notification, **auth())
    assert DeliveryEvent.objects.count() == 1
