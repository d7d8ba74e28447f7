"""The sandbox email service (EMAIL_SERVICE=sandbox, the embedded default): each message is written to a file
a person can read, and a moment later its delivery report comes back through the Postmark tracking webhook,
with nothing run by hand: from a timer thread when tasks run in process, from a worker's delayed task else."""

import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.sandbox import sandbox_outcomes
from orders import rules
from orders.models import Order, TimelineEntry
from orders.services import order_resend_tickets
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sandbox's report")
        time.sleep(0.05)


def order_status(order: Order) -> str:
    return Order.objects.values_list("email_status", flat=True).get(pk=order.pk)


@pytest.fixture
def sandbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_SANDBOX_DELAY = 0.3
    settings.ANYMAIL = {"WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    return tmp_path


@pytest.fixture
def in_process():
    """Tasks run in process after commit, as on the embedded default (no REDIS_URL)."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = old


@pytest.mark.parametrize(
    ("recipient", "outcomes"),
    [
        ("anna@example.com", ("delivered",)),
        ("bounce@sandbox.example", ("bounced",)),
        ("Soft-Bounce@sandbox.example", ("deferred",)),
        ("complaint@sandbox.example", ("delivered", "complained")),
        ("anna.mueller@gmial.com", ("bounced",)),  # the demo's typo: the domain doesn't exist
        ("jo@web.de", ("delivered",)),
    ],
)
def test_what_the_sandbox_reports_for_an_address(recipient, outcomes):
    assert sandbox_outcomes(recipient) == outcomes


def test_the_pdf_blocking_address_blocks_only_emails_with_a_pdf():
    assert sandbox_outcomes("pdf-blocked@sandbox.example", pdf_attached=True) == ("blocked",)
    assert sandbox_outcomes("PDF-Blocked@sandbox.example", pdf_attached=False) == ("delivered",)


def test_a_blocked_pdf_is_rejected_and_the_email_without_it_delivered(sandbox, in_process, make_order, member):
    order = make_order(contact_email="pdf-blocked@sandbox.example")
    wait_for(lambda: order_status(order) == "rejected")
    message = order.messages.get()
    assert "550 5.7.1" in message.status_reason and "PDF" in message.status_reason
    assert rules.offer_without_pdf(message.status, message.status_reason)  # the resend dialog offers the link

    order_resend_tickets(actor=member(Membership.Role.SUPPORT), order=order, pdf_attached=False)
    wait_for(lambda: order_status(order) == "delivered")
    latest = order.messages.order_by("-id").first()
    assert latest is not None and latest.pdf_attached is False and latest.status == "delivered"


@pytest.mark.parametrize(
    ("recipient", "status", "event_types", "reason"),
    [
        ("anna@example.com", "delivered", ["delivered"], ""),
        ("bounce@sandbox.example", "bounced", ["bounced"], "550 5.1.1"),
        ("soft-bounce@sandbox.example", "deferred", ["deferred"], "452 4.2.2"),
        ("complaint@sandbox.example", "complained", ["delivered", "complained"], ""),
        ("anna.mueller@gmial.com", "bounced", ["bounced"], "550 5.1.2"),
    ],
)
def test_tasks_in_process_sent_then_reported_by_the_sandbox(
    sandbox, in_process, make_order, recipient, status, event_types, reason
):
    order = make_order(contact_email=recipient)  # paid: the tickets email is sent after commit, in process
    message = order.messages.get()
    assert order_status(order) == "sent"  # the report comes a moment later, not within the send
    (path,) = sandbox.iterdir()
    written = path.read_text(errors="replace")
    assert f"To: {recipient}" in written and "application/pdf" in written

    wait_for(lambda: order_status(order) == status)
    message.refresh_from_db()
    assert message.status == status and message.provider == "sandbox"
    assert reason in message.status_reason
    events = DeliveryEvent.objects.filter(message=message).order_by("id")
    assert [e.event_type for e in events] == event_types
    assert {e.provider for e in events} == {"Postmark"}  # through anymail's Postmark tracking webhook
    assert TimelineEntry.objects.filter(order=order, action=f"email.{status}").exists()


def test_a_worker_plays_the_report_after_the_send(sandbox, make_order):
    assert not celery_app.conf.task_always_eager, "this test needs REDIS_URL: a real broker and worker"
    celery_app.conf["broker_url"] = django_settings.CELERY_BROKER_URL
    celery_app.control.purge()  # tasks other tests published without a worker
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        order = make_order(contact_email="bounce@sandbox.example")
        wait_for(lambda: order_status(order) == "bounced")
    assert OutgoingMessage.objects.get(order=order).provider == "sandbox"
