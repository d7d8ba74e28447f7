"""The send pipeline with a real Celery worker on the Redis in REDIS_URL and the test database."""

import time
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from pypdf import PdfReader

from notifications.models import OutgoingMessage
from notifications.services import messages_requeue_stale
from notifications.tasks import send_message
from orders.models import TimelineEntry
from organiser_portal.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.05)


def status(message_id: int) -> str:
    return OutgoingMessage.objects.values_list("status", flat=True).get(pk=message_id)


def use_broker(url: str) -> None:
    """Point publishing at `url`, dropping the pooled connections to the old one."""
    celery_app.conf["broker_url"] = url
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def worker(test_backend):
    assert not celery_app.conf.task_always_eager, "these tests need REDIS_URL: a real broker and worker"
    use_broker(settings.CELERY_BROKER_URL)
    celery_app.control.purge()  # tasks other tests published without a worker
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def test_paid_order_is_sent_by_a_worker_with_its_pdf(make_order, worker, test_backend):
    order = make_order(quantity=3)
    message = order.messages.get()
    wait_for(lambda: status(message.pk) == "sent")

    message.refresh_from_db()
    order.refresh_from_db()
    assert order.email_status == "sent"
    assert message.provider == "Test" and message.provider_message_id == "0" and message.attempts == 1
    (email,) = test_backend
    name, content, mimetype = email.attachments[0]
    assert mimetype == "application/pdf"
    reader = PdfReader(BytesIO(content))
    assert len(reader.pages) == 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for ticket in order.tickets.all():
        assert ticket.public_id in text
        assert ticket.secret not in text  # the secret is only in the QR code

    # The same task delivered again sends nothing: the claim lets one run through.
    send_message.delay(message.pk)
    send_message.delay(message.pk)
    other = make_order(contact_email="ben@example.com").messages.get()
    wait_for(lambda: status(other.pk) == "sent")  # the worker is solo and FIFO: the duplicates ran before
    assert [e.to for e in test_backend] == [["anna@example.com"], ["ben@example.com"]]
    message.refresh_from_db()
    assert message.attempts == 1
    assert TimelineEntry.objects.filter(order=order, action="email.sent").count() == 1


def test_redis_down_at_commit_the_action_succeeds_and_the_sweeper_sends_later(make_order, test_backend):
    use_broker(CLOSED_PORT_BROKER)
    try:
        started = time.monotonic()
        order = make_order()
        elapsed = time.monotonic() - started
    finally:
        use_broker(settings.CELERY_BROKER_URL)
    assert order.status == "paid" and elapsed < 5
    message = order.messages.get()
    assert message.status == "queued" and test_backend == []

    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        time.sleep(0.5)
        assert status(message.pk) == "queued"  # nothing was published, nothing arrives by itself
        assert messages_requeue_stale(queued_for=timedelta(0)) == 1
        wait_for(lambda: status(message.pk) == "sent")
    assert [e.to for e in test_backend] == [["anna@example.com"]]


def test_the_sweeper_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-outbox"]
    assert entry["task"] == "notifications.tasks.sweep_outbox" and entry["schedule"] <= 60
    assert "notifications.tasks.sweep_outbox" in celery_app.tasks
