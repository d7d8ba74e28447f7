"""Soft is not hard: each service's delivery events, classed as permanent, transient, auto-reply or complaint.

Posted as Postmark, Mailgun, Amazon SES (through SNS), SendGrid and Brevo post them, through anymail's real
tracking endpoints. Only a permanent failure bounces the message; a transient one defers it and a delivery
still wins; an auto-reply changes nothing but is kept and noted on the timeline.
"""

from collections.abc import Callable

import pytest

from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.webhooks import AUTO_REPLY, PERMANENT, TRANSIENT, delivery_class

from . import payloads
from .test_webhooks import auth, email_entries, meta, post, post_ses, state

pytestmark = pytest.mark.django_db

MAILGUN_ID = "20260701100000.1.ABCDEF@mg.portal.example"
SES_ID = "0102017c9f7e8a30-4b3a1c2e-6f0e-4a6b-9a55-1f0c3f1b2c3d-000000"
SENDGRID_ID = "de212213-bb66-4302-8f3f-20acdb7a104e"
BREVO_ID = "<202607011200.27287306012@smtp-relay.mailin.fr>"

Post = Callable[[object, OutgoingMessage], object]


def postmark(kind: str) -> Post:
    def send(client, message):
        pid, md, to = message.provider_message_id, meta(message), message.recipient
        if kind == "Delivery":
            body = payloads.postmark_delivery(pid, md, to)
        elif kind == "SpamComplaint":
            body = payloads.postmark_spam_complaint(pid, md, to)
        else:
            body = payloads.postmark_bounce(pid, md, to, bounce_type=kind, event_id=hash(kind) % 10**9)
        return post(client, "postmark", body, **auth())

    return send


def mailgun(event: str, severity: str | None = None) -> Post:
    def send(client, message):
        body = payloads.mailgun_event(event, MAILGUN_ID, meta(message), message.recipient, severity=severity)
        return post(client, "mailgun", body, **auth())

    return send


def ses(kind: str, bounce_type: str = "Permanent") -> Post:
    def send(client, message):
        event = payloads.ses_event(kind, SES_ID, meta(message), message.recipient, bounce_type=bounce_type)
        return post_ses(client, payloads.sns_notification(event), **auth())

    return send


def sendgrid(event: str, bounce_type: str = "bounce") -> Post:
    def send(client, message):
        body = payloads.sendgrid_event(event, SENDGRID_ID, meta(message), message.recipient, bounce_type=bounce_type)
        return post(client, "sendgrid", body, **auth())

    return send


def brevo(event: str) -> Post:
    def send(client, message):
        return post(client, "brevo", payloads.brevo_event(event, BREVO_ID, meta(message), message.recipient), **auth())

    return send


PROVIDER_ID = {"postmark": "883953f4-6105-42a2-a16a-77a8eac79483", "mailgun": f"<{MAILGUN_ID}>"}
PROVIDER_ID |= {"ses": SES_ID, "sendgrid": SENDGRID_ID, "brevo": BREVO_ID}

# (service, its event, the message status it ends in, the stored event type)
CASES = [
    ("postmark", postmark("HardBounce"), "bounced", "bounced"),
    ("postmark", postmark("SoftBounce"), "deferred", "deferred"),
    ("postmark", postmark("Transient"), "deferred", "deferred"),
    ("postmark", postmark("AutoResponder"), "sent", "autoresponded"),
    ("postmark", postmark("SpamComplaint"), "complained", "complained"),
    ("postmark", postmark("Delivery"), "delivered", "delivered"),
    ("mailgun", mailgun("failed", "permanent"), "bounced", "bounced"),
    ("mailgun", mailgun("failed", "temporary"), "deferred", "deferred"),
    ("mailgun", mailgun("complained"), "complained", "complained"),
    ("mailgun", mailgun("delivered"), "delivered", "delivered"),
    ("ses", ses("Bounce"), "bounced", "bounced"),
    ("ses", ses("Bounce", "Transient"), "deferred", "deferred"),
    ("ses", ses("DeliveryDelay"), "deferred", "deferred"),
    ("ses", ses("Complaint"), "complained", "complained"),
    ("ses", ses("Delivery"), "delivered", "delivered"),
    ("sendgrid", sendgrid("bounce"), "bounced", "bounced"),
    ("sendgrid", sendgrid("bounce", "blocked"), "deferred", "deferred"),
    ("sendgrid", sendgrid("deferred"), "deferred", "deferred"),
    ("sendgrid", sendgrid("spamreport"), "complained", "complained"),
    ("sendgrid", sendgrid("delivered"), "delivered", "delivered"),
    ("brevo", brevo("hard_bounce"), "bounced", "bounced"),
    ("brevo", brevo("soft_bounce"), "deferred", "deferred"),
    ("brevo", brevo("deferred"), "deferred", "deferred"),
    ("brevo", brevo("spam"), "complained", "complained"),
    ("brevo", brevo("delivered"), "delivered", "delivered"),
]
IDS = [f"{service}-{i}-{status}" for i, (service, _, status, _) in enumerate(CASES)]


@pytest.mark.parametrize(("service", "send", "status", "event_type"), CASES, ids=IDS)
def test_each_event_is_classed_and_moves_the_message(client, sent, service, send, status, event_type):
    message = sent(PROVIDER_ID[service])
    assert send(client, message).status_code == 200
    assert state(message) == (status, status)
    event = DeliveryEvent.objects.get()
    assert (event.message_id, event.event_type) == (message.pk, event_type)


SOFT_BOUNCES = [(service, send) for service, send, status, _ in CASES if status == "deferred"]
DELIVERIES = {service: send for service, send, status, _ in CASES if status == "delivered"}


@pytest.mark.parametrize(("service", "soft"), SOFT_BOUNCES, ids=[s for s, _ in SOFT_BOUNCES])
def test_a_soft_bounce_never_undoes_delivered_and_a_delivery_wins_over_it(client, sent, service, soft):
    before = sent(PROVIDER_ID[service])
    DELIVERIES[service](client, before)
    soft(client, before)
    assert state(before) == ("delivered", "delivered")

    OutgoingMessage.objects.all().delete()
    after = sent(PROVIDER_ID[service])
    soft(client, after)
    assert state(after) == ("deferred", "deferred")
    DELIVERIES[service](client, after)
    assert state(after) == ("delivered", "delivered") and after.status_reason == ""
    assert DeliveryEvent.objects.filter(message=after).count() == 2


def test_a_hard_bounce_after_a_soft_one_bounces(client, sent):
    message = sent(SES_ID)
    ses("Bounce", "Transient")(client, message)
    ses("Bounce")(client, message)
    assert state(message) == ("bounced", "bounced")
    assert "user unknown" in message.status_reason
    assert [a for a, _ in email_entries(message)][-2:] == ["email.deferred", "email.bounced"]


def test_an_auto_reply_leaves_the_status_and_is_noted_on_the_timeline(client, sent):
    message = sent()
    postmark("Delivery")(client, message)
    postmark("AutoResponder")(client, message)
    assert state(message) == ("delivered", "delivered")
    assert email_entries(message)[-1] == ("email.autoreplied", "webhook")
    assert DeliveryEvent.objects.filter(message=message, event_type="autoresponded").count() == 1
    postmark("AutoResponder")(client, message)  # the same report again: nothing new
    assert [a for a, _ in email_entries(message)].count("email.autoreplied") == 1


@pytest.mark.parametrize(
    ("event_type", "esp_event", "text", "expected"),
    [
        # The SMTP status class when the service gives no bounce type of its own.
        ("bounced", {}, "smtp;550 5.1.1 user unknown", PERMANENT),
        ("bounced", {}, "smtp;452 4.2.2 over quota", TRANSIENT),
        ("bounced", {}, "421 Try again later", TRANSIENT),
        ("bounced", {}, "550 Requested action not taken: mailbox unavailable", PERMANENT),
        ("bounced", {}, "", PERMANENT),
        # A full mailbox is transient even under a permanent code or a "hard" type.
        ("bounced", {"Type": "HardBounce"}, "smtp;552 5.2.2 Mailbox full", TRANSIENT),
        ("bounced", {"bounce": {"bounceType": "Permanent"}}, "Permanent: General 550 mailbox is full", TRANSIENT),
        # The service's own word for a transient failure wins over a 5.x.x in the text.
        ("bounced", {"event": "soft_bounce"}, "550 5.1.1 user unknown", TRANSIENT),
        ("bounced", {"event-data": {"severity": "permanent"}}, "4.4.7 Delivery time expired", TRANSIENT),
        ("deferred", {"event": "deferred"}, "550 5.1.1 User unknown in virtual alias table", TRANSIENT),
        # An out-of-office sent back as a bounce.
        ("autoresponded", {"Type": "AutoResponder"}, "", AUTO_REPLY),
        ("bounced", {"bounce": {"bounceType": "Undetermined"}}, "Automatic reply: out of office", AUTO_REPLY),
        ("delivered", {}, "250 2.0.0 OK", None),
    ],
)
def test_delivery_class_rules(event_type, esp_event, text, expected):
    assert delivery_class(event_type, esp_event, text) == expected
