"""Bounce to fix, in a real browser with the real pipeline: the support agent accepts the suggested address,
a real Celery worker sends the tickets, the email service's delivered webhook comes in through anymail's
tracking endpoint, and the order page follows each step without being reloaded by hand."""

import base64
import json

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG
from notifications.models import OutgoingMessage
from notifications.sandbox import postmark_payload
from organiser_portal.celery import app as celery_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXED_EMAIL = "anna.mueller@gmail.com"
WEBHOOK_SECRET = "e2e-hook:e2e-secret"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)


@pytest.fixture
def worker(settings):
    """A real Celery worker on the Redis in REDIS_URL, sending through anymail's test backend."""
    assert not celery_app.conf.task_always_eager, "this test needs REDIS_URL: a real broker and worker"
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    mail.outbox = []
    celery_app.conf["broker_url"] = settings.CELERY_BROKER_URL
    celery_app.control.purge()  # whatever seed_demo or other tests published without a worker
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


def log_in(page: Page, live_server, email: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My events")).to_be_visible()


def post_delivered_webhook(page: Page, live_server, message: OutgoingMessage) -> None:
    """What Postmark posts when the receiving server accepted the message, with the webhook's basic auth."""
    auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    response = page.request.post(
        live_server.url + reverse("anymail:postmark_tracking_webhook"),
        data=json.dumps(postmark_payload(message, "delivered")),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
    )
    assert response.status == 200, response.text()


def test_fix_and_resend_from_the_bounce_banner_until_delivered(demo, worker, live_server, page: Page, screenshot_dir):
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
    assert message.status == "sent" and message.provider_message_id
    assert [email.to for email in mail.outbox] == [[FIXED_EMAIL]]

    # The email service reports the delivery; the page shows it without a reload by hand.
    post_delivered_webhook(page, live_server, message)
    expect(status).to_contain_text("Delivered", timeout=15_000)
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
