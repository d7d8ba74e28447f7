"""The sandbox SMS provider (SMS_PROVIDER=sandbox, the embedded default): each SMS is written to a file a person can
read, and a moment later its delivery reports come back through the real status webhook, signed like Twilio's with
the sandbox's own secret."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import notifications.sms_sandbox as sms_sandbox_module
from notifications.emails import SendResult
from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.sms import sms_lookup
from notifications.sms_sandbox import sandbox_outcomes, sms_sandbox_report
from notifications.tasks import send_message
from orders.models import TimelineEntry
from orders.services import order_send_tickets_sms
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership

Status = OutgoingMessage.Status


@pytest.fixture
def sms_sandbox(settings, tmp_path):
    settings.SMS_PROVIDER = "sandbox"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SMS_SANDBOX_DELAY = 0.3
    return tmp_path / "sms"


@pytest.fixture
def no_timer(monkeypatch):
    """The sandbox's report is played by the test (no timer thread): the calls it would have made."""
    later: list[int] = []
    monkeypatch.setattr(
        "notifications.sms_sandbox.sandbox_report_later", lambda *, message_id, **kwargs: later.append(message_id)
    )
    return later


@pytest.fixture
def sms_to(make_order, member, django_capture_on_commit_callbacks):
    """An SMS of the order's tickets link queued for `number` (its task not run)."""

    def make(number: str) -> OutgoingMessage:
        with django_capture_on_commit_callbacks(execute=False):
            order = make_order(contact_phone=number)
        with django_capture_on_commit_callbacks(execute=False):
            return order_send_tickets_sms(actor=member(Membership.Role.SUPPORT), order=order, phone=number)

    return make


@pytest.mark.parametrize(
    ("number", "outcomes"),
    [
        ("+4915123456789", (("sent", ""), ("delivered", ""))),
        ("+12025550100", (("undelivered", "30005"),)),
        ("+12025550101", (("sent", ""), ("undelivered", "30003"))),
    ],
)
def test_what_the_sandbox_reports_for_a_number(number, outcomes):
    assert sandbox_outcomes(number) == outcomes


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "status", "events", "reason"),
    [
        ("0151 23456789", Status.DELIVERED, ["sent", "delivered"], ""),
        ("+1 202-555-0100", Status.BOUNCED, ["bounced"], "Undelivered · Twilio 30005"),
        ("+1 202-555-0101", Status.FAILED, ["sent", "failed"], "Undelivered · Twilio 30003"),
    ],
)
def test_the_sandbox_writes_the_sms_and_plays_its_reports_through_the_signed_webhook(
    sms_sandbox, no_timer, sms_to, number, status, events, reason
):
    message = sms_to(number)
    assert sms_lookup(message) is False  # not taken yet
    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert no_timer == [message.pk]
    (path,) = sms_sandbox.iterdir()
    written = path.read_text()
    assert f"To: {message.recipient}" in written and "/my-tickets/" in written and message.order.code in written
    message.refresh_from_db()
    assert (message.status, message.provider) == (Status.SENT, "SMS sandbox")
    assert sms_lookup(message) == SendResult("SMS sandbox", message.provider_message_id)

    assert set(sms_sandbox_report(message_id=message.pk)) == {200}
    message.refresh_from_db()
    assert message.status == status and message.status_reason.startswith(reason)
    stored = DeliveryEvent.objects.filter(message=message).order_by("id")
    assert [e.event_type for e in stored] == events and {e.provider for e in stored} == {"SMS sandbox"}
    assert TimelineEntry.objects.filter(order=message.order, action=f"sms.{status}").exists()


@pytest.mark.django_db
def test_a_report_signed_with_another_secret_is_refused_and_changes_nothing(sms_sandbox, no_timer, sms_to, monkeypatch):
    message = sms_to("0151 23456789")
    send_message.apply(args=[message.pk])
    forge = sms_sandbox_module.signed_post
    monkeypatch.setattr(sms_sandbox_module, "signed_post", lambda url, params, secret: forge(url, params, "forged"))
    assert sms_sandbox_report(message_id=message.pk) == [403, 403]
    message.refresh_from_db()
    assert message.status == Status.SENT and not DeliveryEvent.objects.exists()


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the SMS sandbox's report")
        time.sleep(0.05)


@pytest.fixture
def in_process():
    """Tasks run in process after commit, as on the embedded default (no REDIS_URL)."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


@pytest.mark.django_db(transaction=True)
def test_in_process_the_report_comes_by_itself_a_moment_after_the_send(sms_sandbox, in_process, make_order, member):
    order = make_order(contact_phone="0151 23456789")
    message = order_send_tickets_sms(actor=member(Membership.Role.SUPPORT), order=order, phone="0151 23456789")
    assert OutgoingMessage.objects.get(pk=message.pk).status == Status.SENT  # sent after commit, reported later
    wait_for(lambda: OutgoingMessage.objects.get(pk=message.pk).status == Status.DELIVERED)
