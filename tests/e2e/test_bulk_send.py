"""Release every held order of the demo's Winter Gala in one confirmed step, on the embedded default (tasks in
process, the sandbox email service), and watch the progress bar until every email is sent."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from notifications.models import OutgoingMessage
from orders.models import BulkSend, Order
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Event

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def embedded_default(settings, tmp_path):
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_SANDBOX_DELAY = 1.0
    settings.ANYMAIL = {"WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    settings.BULK_SEND_PER_MINUTE = 480  # 48 emails in 6 s: the bar has time to show, the test doesn't wait long
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)
    yield tmp_path
    celery_app.conf.task_always_eager = old


def test_release_every_held_order_of_an_event_in_one_step(embedded_default, live_server, page: Page, screenshot_dir):
    gala = Event.objects.get(organisation__slug=DEMO_ORG_SLUG, name="Winter Gala")
    held = Order.objects.filter(event=gala, tickets_held=True)
    count = held.count()
    assert count > 40  # 48 in the demo's spec; the seeding clock can move one or two (README)
    skipped = Order.objects.filter(event=gala, tickets_held=True).exclude(status=Order.Status.PAID).count()
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{gala.public_id}/guests/?held=on")
    bulk = page.get_by_role("form", name="Bulk send")
    bulk.get_by_label("every order matching the filters").check()
    bulk.get_by_role("button", name="Send held tickets…").click()

    expect(page.get_by_role("heading", name="Send held tickets")).to_be_visible()
    expect(page.locator("#bulk-confirm")).to_contain_text(f"{count - skipped} orders")
    page.screenshot(path=str(screenshot_dir / "bulk-send-confirm.png"), full_page=True)
    page.get_by_role("button", name=f"Send held tickets: {count - skipped} orders").click()

    progress = page.locator(".bulk-progress")
    expect(progress).to_contain_text(re.compile("Sending|Done"), timeout=20_000)
    page.screenshot(path=str(screenshot_dir / "bulk-send-progress.png"), full_page=True)
    page.reload()  # the progress is the job's row: a reload shows it as it stands
    expect(progress).to_contain_text(f"Done: {count - skipped} of {count - skipped} emails sent", timeout=40_000)
    page.screenshot(path=str(screenshot_dir / "bulk-send-done.png"), full_page=True)

    job = BulkSend.objects.get()
    assert job.created_by is not None
    assert (job.status, job.done, job.created_by.username) == ("done", count - skipped, "support@demo.example")
    assert not Order.objects.filter(event=gala, tickets_held=True, status=Order.Status.PAID).exists()
    sent = OutgoingMessage.objects.filter(idempotency_key=job.message_key)
    assert sent.count() == count - skipped and not sent.filter(status__in=["queued", "sending"]).exists()
    # Paced: the emails were due one after another, not all at once.
    due = sorted(sent.values_list("next_attempt_at", flat=True))
    assert (due[-1] - due[0]).total_seconds() >= (count - skipped - 1) * 60 / 480 - 1

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{gala.public_id}/guests/")
    expect(page.locator(f"#bulk-progress-{job.pk}")).to_contain_text("Done")
