"""Bounce to fix, in a real browser with the real pipeline: the support agent accepts the suggested address,
a real Celery worker sends the tickets to the sandbox email service, whose delivered report comes in through
anymail's Postmark tracking webhook from the worker a moment later, and the order page follows each step
without being reloaded by hand."""

import re

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG
from notifications.models import OutgoingMessage
from orders.models import Order
from organiser_portal.celery import app as celery_app

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXED_EMAIL = "anna.mueller@gmail.com"
WEBHOOK_SECRET = "e2e-hook:e2e-secret"


@pytest.fixture
def worker(settings, tmp_path):
    """A real Celery worker on the Redis in REDIS_URL, sending to the sandbox email service (files in tmp_path)."""
    assert not celery_app.conf.task_always_eager, "this test needs REDIS_URL: a real broker and worker"
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_SANDBOX_DELAY = 6.0  # long enough for the page to show "Sent" first
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    celery_app.conf["broker_url"] = settings.CELERY_BROKER_URL
    celery_app.control.purge()  # whatever seed_demo or other tests published without a worker
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def test_fix_and_resend_from_the_bounce_banner_until_delivered(
    demo, worker, tmp_path, live_server, page: Page, screenshot_dir
):
    worker_mail = tmp_path
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page
    status = page.locator("#order-email-status")
    expect(status).to_contain_text("Bounced")

    # The banner says the email did not arrive and suggests the corrected address.
    banner = page.locator("#bounce-banner")
    expect(banner).to_contain_text(ANNA_EMAIL)
    expect(banner.locator(".suggested-email")).to_have_text(FIXED_EMAIL)
    banner.get_by_role("link", name=f"Fix and resend to {FIXED_EMAIL}").click()

    # The confirmation opens in place and shows the change and which tickets go out.
    dialog = page.locator("dialog#action-dialog")
    expect(dialog).to_be_visible()
    confirm = dialog.locator("#fix-and-resend")
    expect(confirm).to_contain_text(f"from {ANNA_EMAIL} to {FIXED_EMAIL}")
    expect(confirm).to_contain_text("valid ticket")
    confirm.get_by_role("button", name="Fix and resend", exact=True).click()

    # The page updates in place: saved, and the worker sends it while the page watches.
    expect(page.get_by_role("status").filter(has_text=f"tickets queued for {FIXED_EMAIL}")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(page.locator("#contact")).to_contain_text(FIXED_EMAIL)
    expect(page.locator("#bounce-banner")).to_have_count(0)
    expect(status).to_contain_text("Sent", timeout=30_000)
    expect(status).to_contain_text(f"to {FIXED_EMAIL}")
    message = OutgoingMessage.objects.filter(order__code=ANNA_CODE, recipient=FIXED_EMAIL).get()
    assert message.provider == "sandbox" and message.provider_message_id
    assert [p.read_text(errors="replace").count(f"To: {FIXED_EMAIL}") for p in worker_mail.iterdir()] == [1]

    # The email service reports the delivery; the page shows it without a reload by hand.
    expect(status).to_contain_text("Delivered", timeout=20_000)
    message.refresh_from_db()
    assert message.status == "delivered"
    resent_row = page.locator("#messages tbody tr").filter(has_text=FIXED_EMAIL)
    expect(resent_row).to_contain_text("Delivered")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text(f"{ANNA_EMAIL} → {FIXED_EMAIL}")
    expect(timeline).to_contain_text(f"Tickets resent to {FIXED_EMAIL}")
    expect(timeline).to_contain_text(f"email delivered to {FIXED_EMAIL}")
    expect(timeline.locator("li").filter(has_text=f"Tickets resent to {FIXED_EMAIL}")).to_contain_text(
        "support@demo.example"
    )
    page.screenshot(path=str(screenshot_dir / "fix-and-resend.png"), full_page=True)


def test_the_at_risk_row_suggests_the_address_and_fixes_it(demo, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "support@demo.example", "demo-support")
    event = Order.objects.get(code=ANNA_CODE).event
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/at-risk/")
    row = page.get_by_role("row").filter(has_text=ANNA_CODE)
    expect(row.locator(".suggested-email")).to_have_text(FIXED_EMAIL)
    expect(row).to_contain_text(f"Did they mean {FIXED_EMAIL}?")
    page.screenshot(path=str(screenshot_dir / "at-risk-suggestion.png"), full_page=True)
    row.get_by_role("link", name=f"Fix and resend to {FIXED_EMAIL}").click()

    confirm = page.locator("#fix-and-resend")
    expect(confirm).to_contain_text(f"from {ANNA_EMAIL} to {FIXED_EMAIL}")
    # Cancel goes back to the list; done, so does the fix, saying which order it fixed.
    confirm.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", name=re.compile("At risk"))).to_be_visible()
    page.get_by_role("row").filter(has_text=ANNA_CODE).get_by_role(
        "link", name=f"Fix and resend to {FIXED_EMAIL}"
    ).click()
    confirm.get_by_role("button", name="Fix and resend", exact=True).click()
    expect(page.get_by_text(f"Order {ANNA_CODE}: Email corrected; tickets queued for {FIXED_EMAIL}")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("At risk"))).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=ANNA_CODE)).to_have_count(0)  # on its way: no longer at risk
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    expect(page.locator("#contact")).to_contain_text(FIXED_EMAIL)
