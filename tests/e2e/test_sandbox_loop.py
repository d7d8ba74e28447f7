"""The whole loop on the embedded default, in a real browser: tasks run in process after commit (no worker,
as `make run` without REDIS_URL) and email goes to the sandbox email service, which writes each message to
a file and reports its delivery a moment later through the Postmark tracking webhook. Nothing is played by
hand: the support agent fixes Anna's bounced address and watches the order page reach Delivered."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG
from notifications.models import DeliveryEvent, OutgoingMessage
from organiser_portal.celery import app as celery_app

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXED_EMAIL = "anna.mueller@gmail.com"


@pytest.fixture
def embedded_default(settings, tmp_path):
    """The sandbox email service with tasks in process, as `make run` configures it."""
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_SANDBOX_DELAY = 2.0
    settings.ANYMAIL = {"WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)
    yield tmp_path
    celery_app.conf.task_always_eager = old


def test_fix_and_resend_reaches_delivered_by_itself(embedded_default, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page
    status = page.locator("#order-email-status")
    expect(status).to_contain_text("Bounced")

    page.locator("#bounce-banner").get_by_role("link", name=f"Fix and resend to {FIXED_EMAIL}").click()
    page.locator("dialog#action-dialog #fix-and-resend").get_by_role(
        "button", name="Fix and resend", exact=True
    ).click()

    # Sent in process on commit; the sandbox reports the delivery a moment later; the page polls for it.
    expect(page.get_by_role("status").filter(has_text=f"tickets queued for {FIXED_EMAIL}")).to_be_visible()
    expect(page.locator("#contact")).to_contain_text(FIXED_EMAIL)
    expect(status).to_contain_text("Delivered", timeout=20_000)
    expect(status).to_contain_text(f"to {FIXED_EMAIL}")
    expect(page.locator("#messages tbody tr").filter(has_text=FIXED_EMAIL)).to_contain_text("Delivered")
    expect(page.locator(".timeline")).to_contain_text(f"email delivered to {FIXED_EMAIL}")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"

    message = OutgoingMessage.objects.get(order__code=ANNA_CODE, recipient=FIXED_EMAIL)
    assert message.status == "delivered" and message.provider == "sandbox"
    (event,) = DeliveryEvent.objects.filter(message=message)
    assert event.event_type == "delivered" and event.provider == "Postmark"  # came in through the webhook
    (written,) = [p.read_text(errors="replace") for p in embedded_default.iterdir()]
    assert f"To: {FIXED_EMAIL}" in written and "application/pdf" in written
    bounced = OutgoingMessage.objects.filter(order__code=ANNA_CODE, recipient=ANNA_EMAIL)
    assert list(bounced.values_list("status", flat=True)) == ["bounced"]
    page.screenshot(path=str(screenshot_dir / "sandbox-delivered.png"), full_page=True)
