"""Webhook bodies the portal can't use: a JSON 400 (or the event kept without a message), never a 500, and
in a batch the good events are still stored (issue 16, "Bad input is a clear 4xx")."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import DeliveryEvent, OutgoingMessage

from . import payloads
from .test_webhooks import auth, meta, post

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status


def raw_post(client, service: str, body: bytes, content_type: str = "application/json"):
    return client.post(reverse(f"anymail:{service}_tracking_webhook"), body, content_type=content_type, **auth())


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b"null",
        b'"a string"',
        b"\xff\xfe\x00b\x00a\x00d",
        '{"RecordType": "Delivery", "MessageID": "x\u0000y"}'.encode(),
        b'{"RecordType": "Delivery", "MessageID": "\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["malformed", "empty", "list", "null", "string", "utf16", "nul", "surrogate", "deep"],
)
def test_postmark_body_it_cant_read_is_a_json_400_and_changes_nothing(client, sent, body):
    message = sent()
    response = raw_post(client, "postmark", body)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "error" in response.json()
    assert DeliveryEvent.objects.count() == 0
    message.refresh_from_db()
    assert message.status == Status.SENT


def _fullwidth(digits: str) -> str:
    return "".join(chr(ord("０") + int(d)) for d in digits)


@pytest.mark.parametrize(
    "shape",
    ["word", "fullwidth", "list", "object", "nul", "huge", "negative", "bool", "metadata string", "metadata list"],
)
def test_metadata_of_the_wrong_shape_is_never_read_as_a_message_id(client, sent, shape):
    other = sent("other-message-id")
    metadata = {
        "word": {"portal_message_id": "not-a-number"},
        "fullwidth": {"portal_message_id": _fullwidth(str(other.pk))},  # str.isdigit() says yes, int() reads it
        "list": {"portal_message_id": [str(other.pk)]},
        "object": {"portal_message_id": {"id": other.pk}},
        "nul": {"portal_message_id": f"{other.pk}\u0000"},
        "huge": {"portal_message_id": "9" * 30},
        "negative": {"portal_message_id": f"-{other.pk}"},
        "bool": {"portal_message_id": True},
        "metadata string": str(other.pk),
        "metadata list": [str(other.pk)],
    }[shape]
    body = payloads.postmark_delivery("unknown-provider-id", {}, other.recipient)
    body["Metadata"] = metadata
    response = post(client, "postmark", body, **auth())
    assert response.status_code in (200, 400), response.content[:300]
    other.refresh_from_db()
    assert other.status == Status.SENT
    assert not DeliveryEvent.objects.filter(message=other).exists()


def test_a_plain_message_id_in_the_metadata_still_finds_the_message(client, sent):
    message = sent()
    body = payloads.postmark_delivery("unknown-provider-id", {"portal_message_id": str(message.pk)}, message.recipient)
    assert post(client, "postmark", body, **auth()).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_nul_in_a_field_is_a_400(client, sent):
    message = sent()
    body = payloads.postmark_bounce(message.provider_message_id, meta(message), message.recipient)
    body["Description"] = "bad\u0000text"
    response = post(client, "postmark", body, **auth())
    assert response.status_code == 400
    assert DeliveryEvent.objects.count() == 0


def test_a_batch_keeps_its_good_events_when_one_is_bad(client, sent):
    good = sent("good-message-id")
    bad_body = payloads.sendgrid_event("delivered", "other", {"portal_message_id": "nope"}, "x@example.com")
    bad_body[0]["timestamp"] = "not a time"
    good_body = payloads.sendgrid_event("delivered", good.provider_message_id, meta(good), good.recipient)
    response = post(client, "sendgrid", bad_body + good_body, **auth())
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"stored": 1, "refused": 1}
    good.refresh_from_db()
    assert good.status == Status.DELIVERED
    assert DeliveryEvent.objects.count() == 1


def test_a_batch_of_only_bad_events_is_a_400(client, sent):
    sent()
    bad = payloads.sendgrid_event("delivered", "other", {}, "x@example.com")
    bad[0]["timestamp"] = "not a time"
    response = post(client, "sendgrid", bad + bad, **auth())
    assert response.status_code == 400
    assert DeliveryEvent.objects.count() == 0


def test_wrong_credentials_still_refuse_a_batch_that_fails(client, sent):
    good = sent("good-message-id")
    bad = payloads.sendgrid_event("delivered", "other", {}, "x@example.com")
    bad[0]["timestamp"] = "not a time"
    body = bad + payloads.sendgrid_event("delivered", good.provider_message_id, meta(good), good.recipient)
    response = post(client, "sendgrid", body, **auth("hook-user:wrong"))
    assert response.status_code == 400
    good.refresh_from_db()
    assert good.status == Status.SENT


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
def test_an_event_time_far_from_now_is_recorded_at_its_arrival(client, sent, at):
    message = sent()
    body = payloads.postmark_delivery(message.provider_message_id, meta(message), message.recipient, at=at)
    before = timezone.now()
    assert post(client, "postmark", body, **auth()).status_code == 200
    event = DeliveryEvent.objects.get()
    assert before <= event.occurred_at <= timezone.now()
    message.refresh_from_db()
    assert message.status == Status.DELIVERED


def test_an_event_time_of_yesterday_is_believed(client, sent):
    message = sent()
    at = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    body = payloads.postmark_delivery(
        message.provider_message_id, meta(message), message.recipient, at=at.isoformat().replace("+00:00", "Z")
    )
    assert post(client, "postmark", body, **auth()).status_code == 200
    assert DeliveryEvent.objects.get().occurred_at == at


def test_a_body_over_the_limit_is_a_400(client, sent, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    message = sent()
    body = payloads.postmark_delivery(message.provider_message_id, meta(message), message.recipient)
    body["Details"] = "x" * 2000
    response = post(client, "postmark", body, **auth())
    assert response.status_code == 400
    assert "larger than 1000 bytes" in response.json()["error"]
    assert DeliveryEvent.objects.count() == 0


@pytest.mark.parametrize("ts_epoch", [1e20, 1e300], ids=["eoverflow", "overflow"])
def test_a_timestamp_no_calendar_holds_is_a_json_400(client, sent, ts_epoch):
    """Brevo's `ts_epoch` (ms) far out of range: Linux's fromtimestamp raises OSError EOVERFLOW for 1e20 and
    OverflowError for 1e300, neither caught by anymail's parser: a JSON 400, nothing stored (not a 500)."""
    message = sent()
    body = payloads.brevo_event("hard_bounce", message.provider_message_id, meta(message), message.recipient)
    response = post(client, "brevo", {**body, "ts_epoch": ts_epoch}, **auth())
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"error": "An event could not be read: OverflowError."}
    assert DeliveryEvent.objects.count() == 0
    message.refresh_from_db()
    assert message.status == Status.SENT
