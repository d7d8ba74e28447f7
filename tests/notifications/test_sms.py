"""SMS through the outbox (docs/reliability.md "SMS"): sent once with its status callback, retried when Twilio
surely did not take it, never resent blindly when its answer was lost; Twilio's status callbacks move it forward
only with a valid X-Twilio-Signature. Twilio's HTTP API is mocked with `responses` (the outside world only)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.utils import timezone

from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.services import messages_requeue_stale
from notifications.services.outbox import RESENT_UNCONFIRMED_SMS
from notifications.sms import sms_body
from notifications.tasks import send_message
from orders.models import TimelineEntry
from orders.services import order_send_tickets_sms
from orders.timeline import describe
from organiser_portal.models import Membership
from tickets.pages import tickets_page_url

from .conftest import unreachable
from .sms_helpers import ACCOUNT_SID, API_URL, AUTH_TOKEN, FROM, created, new_sid, post_status, refused

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status
NUMBER = "+4915123456789"


@pytest.fixture(scope="session")
def closed_port_error() -> requests.ConnectionError:
    """What requests raises when Twilio's port is closed (made before any mock is active)."""
    return unreachable()


@pytest.fixture
def twilio(settings):
    """Twilio selected, its HTTP API mocked: every request that reaches it is in `twilio.calls`."""
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_FROM, settings.TWILIO_MESSAGING_SERVICE_SID = FROM, ""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def queued_sms(make_order, member, django_capture_on_commit_callbacks):
    """An SMS queued by a support agent's resend (its task not run yet)."""

    def make(phone: str = "0151 23456789") -> OutgoingMessage:
        with django_capture_on_commit_callbacks(execute=False):
            order = make_order(contact_phone=phone)
        order.messages.update(status=Status.DELIVERED)  # its tickets email: out of the sweeper's way
        with django_capture_on_commit_callbacks(execute=False):
            return order_send_tickets_sms(actor=member(Membership.Role.SUPPORT), order=order, phone=phone)

    return make


def sms_actions(message: OutgoingMessage) -> list[str]:
    entries = TimelineEntry.objects.filter(order=message.order, action__startswith="sms.")
    return list(entries.order_by("created_at", "id").values_list("action", flat=True))


def sent_form(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def test_an_sms_is_sent_once_with_the_link_and_our_status_callback(twilio, queued_sms, settings):
    sid = new_sid()
    twilio.add(created(sid))
    message = queued_sms()
    assert (message.channel, message.recipient, message.recipient_shown) == ("sms", NUMBER, "+49 1512 3456789")

    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"  # the task twice
    assert len(twilio.calls) == 1
    form = sent_form(twilio.calls[0])
    assert (form["To"], form["From"]) == (NUMBER, FROM)
    assert f"{settings.PORTAL_URL}/webhooks/sms/status/?message={message.pk}" == form["StatusCallback"]
    assert message.order.code in form["Body"] and "http" in form["Body"]
    message.refresh_from_db()
    assert (message.status, message.provider, message.provider_message_id, message.attempts) == (
        Status.SENT,
        "Twilio",
        sid,
        1,
    )
    assert sms_actions(message) == ["sms.sent"]


def test_a_messaging_service_sends_instead_of_a_number(twilio, queued_sms, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    twilio.add(created())
    send_message.apply(args=[queued_sms().pk])
    form = sent_form(twilio.calls[0])
    assert form["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in form


def test_a_twilio_that_surely_did_not_take_it_is_retried_with_backoff(closed_port_error, twilio, queued_sms):
    twilio.add(responses.POST, API_URL, body=closed_port_error)
    twilio.add(refused(503, 20500, "Service unavailable"))
    twilio.add(created())
    message = queued_sms()

    assert send_message.apply(args=[message.pk]).get() == "sent"  # the retries run in process (EMAIL_RETRY_DELAY 0)
    message.refresh_from_db()
    assert len(twilio.calls) == 3
    assert (message.status, message.attempts) == (Status.SENT, 3)


def test_the_retries_wait_for_their_backoff(twilio, queued_sms, settings):
    settings.EMAIL_RETRY_DELAY = 30
    twilio.add(refused(429, 20429, "Too Many Requests"))
    message = queued_sms()
    with pytest.raises(Exception, match="Retry"):
        send_message.apply(args=[message.pk], throw=True)
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert message.status_reason == "The SMS provider had an error of its own (429); trying again"
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"  # early: not claimed
    assert messages_requeue_stale(queued_for=timedelta(0)) == 0  # the sweeper leaves it to its retry
    assert len(twilio.calls) == 1


def test_an_sms_whose_answer_was_lost_is_never_sent_again_blindly(twilio, queued_sms, client):
    twilio.add(responses.POST, API_URL, body=requests.ReadTimeout("Read timed out. (read timeout=10)"))
    message = queued_sms()

    assert send_message.apply(args=[message.pk]).get() == "unconfirmed"
    message.refresh_from_db()
    assert message.status == Status.SENDING and message.handed_over_at is not None
    assert message.status_reason.startswith("The SMS provider did not answer in time; it may have taken it")
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"
    assert messages_requeue_stale(queued_for=timedelta(0), sending_for=timedelta(0)) == 0
    assert len(twilio.calls) == 1

    # Twilio's callback names our message in its URL: it settles the try although we never learnt the SID.
    assert post_status(client, message, "delivered", sid=new_sid())[0] == 200
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert len(twilio.calls) == 1


def test_an_unconfirmed_sms_nothing_reports_is_sent_once_more_after_the_wait(twilio, queued_sms):
    twilio.add(responses.POST, API_URL, body=requests.ReadTimeout("Read timed out."))
    twilio.add(created())
    message = queued_sms()
    send_message.apply(args=[message.pk])
    long_ago = timezone.now() - timedelta(hours=1.01)
    OutgoingMessage.objects.filter(pk=message.pk).update(handed_over_at=long_ago, status_at=long_ago)

    assert messages_requeue_stale() == 1
    assert OutgoingMessage.objects.get(pk=message.pk).status_reason == RESENT_UNCONFIRMED_SMS
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert len(twilio.calls) == 2
    assert (message.status, message.unconfirmed_resends) == (Status.SENT, 1)
    assert sms_actions(message) == ["sms.resent_unconfirmed", "sms.sent"]


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (refused(401, 20003, "Authenticate"), Status.FAILED, "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        (refused(400, 21211, "Invalid 'To' Phone Number"), Status.REJECTED, "Twilio 21211: the number is not a valid"),
        (refused(400, 21610, "Attempt to send to unsubscribed recipient"), Status.REJECTED, "replied STOP"),
        (refused(400, 21408, "Permission to send an SMS has not been enabled"), Status.FAILED, "not enabled"),
    ],
)
def test_a_refusal_fails_at_once_with_the_reason(twilio, queued_sms, answer, status, reason):
    twilio.add(answer)
    message = queued_sms()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == status and reason in message.status_reason
    assert len(twilio.calls) == 1  # never retried: retrying can't help


# --- Status callbacks -------------------------------------------------------------------------------------


@pytest.fixture
def sent_sms(twilio, queued_sms):
    twilio.add(created())
    message = queued_sms()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    return message


def test_a_signed_delivered_callback_moves_the_sms_to_delivered_once(sent_sms, client):
    assert post_status(client, sent_sms, "sent") == (200, {"stored": True})
    assert post_status(client, sent_sms, "delivered") == (200, {"stored": True})
    assert post_status(client, sent_sms, "delivered") == (200, {"stored": False})  # Twilio retried: a duplicate
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.DELIVERED and sent_sms.status_reason == ""
    events = DeliveryEvent.objects.filter(message=sent_sms).order_by("id")
    assert [(e.event_type, e.provider) for e in events] == [("sent", "Twilio"), ("delivered", "Twilio")]
    entry = TimelineEntry.objects.get(order=sent_sms.order, action="sms.delivered")
    assert describe(entry.action, entry.data) == "Tickets link SMS delivered to +49 1512 3456789"
    assert entry.get_actor_kind_display() == "SMS provider"


@pytest.mark.parametrize(
    ("twilio_status", "code", "status", "reason"),
    [
        (
            "undelivered",
            "30005",
            Status.BOUNCED,
            "Undelivered · Twilio 30005: the number is unknown to its carrier: it may not exist",
        ),
        (
            "undelivered",
            "30003",
            Status.FAILED,
            "Undelivered · Twilio 30003: the phone is switched off or out of coverage",
        ),
        ("failed", "30007", Status.FAILED, "Not sent · Twilio 30007: the carrier filtered the SMS as spam"),
        ("undelivered", "", Status.FAILED, "Undelivered"),
    ],
)
def test_an_undelivered_or_failed_callback_says_why_with_twilios_code(
    sent_sms, client, twilio_status, code, status, reason
):
    assert post_status(client, sent_sms, twilio_status, error_code=code)[0] == 200
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.status_reason) == (status, reason)
    # A late "delivered"-stage report never moves it back.
    post_status(client, sent_sms, "sent")
    sent_sms.refresh_from_db()
    assert sent_sms.status == status


@pytest.mark.parametrize(
    ("how", "kwargs"),
    [
        ("unsigned", {"token": None}),
        ("signed with another token", {"token": "someone-elses-token"}),
        ("a field changed after signing", {"tamper": {"MessageStatus": "undelivered", "ErrorCode": "30005"}}),
        ("signed for another message", {"tamper": {}}),
    ],
)
def test_a_callback_without_a_valid_signature_is_refused_and_changes_nothing(sent_sms, client, how, kwargs):
    target = sent_sms
    if how == "signed for another message":
        # A valid signature for message 1's URL, replayed at this message's URL.
        status, body = _replay_at_another_url(client, sent_sms)
    else:
        status, body = post_status(client, target, "delivered", **kwargs)
    assert status == 403 and "error" in body
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT
    assert not DeliveryEvent.objects.exists()


def _replay_at_another_url(client, message: OutgoingMessage) -> tuple[int, dict]:
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    fields = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered", "To": message.recipient}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{settings.PORTAL_URL}/webhooks/sms/status/?message={message.pk + 1}", fields
    )
    response = client.post(f"/webhooks/sms/status/?message={message.pk}", fields, HTTP_X_TWILIO_SIGNATURE=signature)
    return response.status_code, response.json()


def test_a_signed_callback_that_is_no_status_report_is_a_400(sent_sms, client):
    status, body = post_status(client, sent_sms, "exploded")
    assert status == 400 and "MessageStatus" in body["error"]
    assert post_status(client, sent_sms, "delivered", sid="not-a-sid")[0] == 400
    assert client.get("/webhooks/sms/status/").status_code == 405
    sent_sms.refresh_from_db()
    assert sent_sms.status == Status.SENT and not DeliveryEvent.objects.exists()


# GSM 03.38: the basic set (one septet each) and its extension table (two septets each: escape + character).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"


def gsm7_septets(text: str) -> int | None:
    """The length of `text` in GSM-7 septets, or None when a character is outside GSM-7 (the SMS goes as UCS-2)."""
    if any(c not in GSM7_BASIC and c not in GSM7_EXTENSION for c in text):
        return None
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def test_the_sms_for_a_typical_order_is_gsm7_in_at_most_two_parts(queued_sms, settings):
    """An en dash or any other character outside GSM-7 makes the whole SMS UCS-2: 67 characters a part instead
    of 153, and four parts instead of two."""
    settings.PORTAL_URL = "https://tickets.nordlicht-konzerte.de"
    message = queued_sms()
    order = message.order
    order.event.name = "Nordlicht Winter Festival 2026: Late Night Session"
    order.event.save()
    order.organisation.name = "Nordlicht Konzerte GmbH"
    order.organisation.save()
    message.refresh_from_db()

    body = sms_body(message)
    septets = gsm7_septets(body)
    assert septets is not None, f"not GSM-7: {sorted({c for c in body if c not in GSM7_BASIC + GSM7_EXTENSION})}"
    assert septets <= 2 * 153, f"{septets} septets: more than 2 parts"
    assert tickets_page_url(order) in body and order.code in body and "Nordlicht Konzerte GmbH" in body


def test_the_sms_fixed_words_add_nothing_outside_gsm7(queued_sms):
    """Whatever the names are, the text around them is GSM-7: only a name can make an SMS UCS-2."""
    message = queued_sms()
    order = message.order
    body = sms_body(message)
    for name in (order.event.name[:60], order.organisation.name[:40], order.code, tickets_page_url(order)):
        body = body.replace(name, "")
    assert gsm7_septets(body) is not None
