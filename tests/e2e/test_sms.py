"""⋯ Resend tickets by SMS on the embedded default, in a real browser: tasks in process after commit, the sandbox
SMS provider writes the SMS to a file and plays Twilio-like delivery reports back through the signed status
webhook a moment later. The support agent checks the number (shown in international form), sends, and watches the
order page's Messages box reach Delivered without reloading."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, DEMO_ORG_SLUG
from notifications.models import DeliveryEvent, OutgoingMessage
from organiser_portal.celery import app as celery_app

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOWN = "+49 1512 3456789"  # Anna's "+49 151 23456789" as libphonenumber writes it internationally


@pytest.fixture
def embedded_default(settings, tmp_path):
    """The sandbox SMS provider (and email service) with tasks in process, as `make run` configures them."""
    settings.SMS_PROVIDER = "sandbox"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SMS_SANDBOX_DELAY = 2.0
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)
    yield tmp_path / "sms"
    celery_app.conf.task_always_eager = old


def test_resend_by_sms_reaches_delivered_on_the_order_page(
    embedded_default, live_server, page: Page, screenshot_dir, assert_accessible
):
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page
    page.get_by_text("⋯ Actions").click()
    page.get_by_role("link", name="Resend tickets by SMS").click()
    dialog = page.locator("dialog#action-dialog #resend-sms")
    expect(dialog.get_by_role("heading", name="Resend tickets by SMS")).to_be_visible()
    expect(dialog).to_contain_text(f"The order's phone: {SHOWN}")

    # A number typed in once that isn't one: the form says why, nothing is sent.
    dialog.get_by_label("Another number, once").check()
    dialog.get_by_label("Other number", exact=True).fill("0151 23")
    dialog.get_by_role("button", name="Check the number…").click()
    expect(dialog.get_by_text("0151 23 is not a valid phone number")).to_be_visible()
    assert not OutgoingMessage.objects.filter(order__code=ANNA_CODE, channel="sms").exists()

    # The order's phone: shown in international form to confirm before anything is sent.
    dialog.get_by_label("The order's phone").check()
    dialog.get_by_role("button", name="Check the number…").click()
    expect(dialog.get_by_text(f"Send the tickets link by SMS to {SHOWN}?")).to_be_visible()
    assert_accessible(page, "the SMS confirmation dialog")
    page.screenshot(path=str(screenshot_dir / "sms-confirm.png"))
    dialog.get_by_role("button", name=f"Send SMS to {SHOWN}").click()

    # Sent in process on commit; the sandbox reports sent, then delivered; the page polls for it.
    expect(page.get_by_role("status").filter(has_text=f"Tickets link queued by SMS for {SHOWN}")).to_be_visible()
    row = page.locator("#messages tbody tr").filter(has_text=SHOWN)
    expect(row).to_contain_text("(SMS)")
    expect(row).to_contain_text("Delivered", timeout=20_000)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text(f"Tickets link sent by SMS to {SHOWN}")
    expect(timeline.locator("li").filter(has_text="sent by SMS")).to_contain_text("support@demo.example")
    expect(timeline).to_contain_text(f"Tickets link SMS delivered to {SHOWN}")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    page.locator("#messages").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "sms-delivered.png"), full_page=True)

    message = OutgoingMessage.objects.get(order__code=ANNA_CODE, channel="sms")
    assert (message.status, message.recipient, message.provider) == ("delivered", "+4915123456789", "SMS sandbox")
    events = DeliveryEvent.objects.filter(message=message).order_by("id")
    assert [e.event_type for e in events] == ["sent", "delivered"]  # through the signed webhook
    (written,) = [path.read_text() for path in embedded_default.iterdir()]
    assert "To: +4915123456789" in written and "/my-tickets/" in written


def test_at_the_order_limit_the_menu_item_is_disabled_and_says_when(
    embedded_default, live_server, page: Page, screenshot_dir, settings
):
    settings.SMS_LIMIT_PER_ORDER_HOUR = 1
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.get_by_text("⋯ Actions").click()
    page.get_by_role("link", name="Resend tickets by SMS").click()
    dialog = page.locator("dialog#action-dialog #resend-sms")
    dialog.get_by_label("The order's phone").check()
    dialog.get_by_role("button", name="Check the number…").click()
    dialog.get_by_role("button", name=f"Send SMS to {SHOWN}").click()
    expect(page.get_by_role("status").filter(has_text=f"Tickets link queued by SMS for {SHOWN}")).to_be_visible()

    # The menu, swapped in place, no longer offers it: it says the dialog's words, and when the next SMS may go.
    page.get_by_text("⋯ Actions").click()
    expect(page.get_by_role("link", name="Resend tickets by SMS")).to_have_count(0)
    item = page.locator(".actions-disabled").filter(has_text="Resend tickets by SMS")
    expect(item).to_contain_text("This order already had 1 SMS in the last hour, the most allowed.")
    expect(item).to_contain_text("The next SMS can be sent from")
    page.screenshot(path=str(screenshot_dir / "sms-limit-menu.png"))
