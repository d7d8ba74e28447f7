"""The order page's advice in a real browser: a corrected address saved without resending is not left
looking done, and the resend it needs is one click, all in place (htmx) on the demo data."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG
from notifications.models import OutgoingMessage
from orders.models import Order

from .login import log_in
from .test_fix_and_resend import FIXED_EMAIL

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_corrected_address_saved_without_resending_is_resent_in_one_click(
    demo, live_server, page: Page, screenshot_dir
):
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.evaluate("window.stillTheSamePage = true")
    banner = page.locator("#bounce-banner")
    expect(banner).to_contain_text("The address is probably wrong")
    page.screenshot(path=str(screenshot_dir / "advice-bounced.png"), full_page=True)

    banner.get_by_role("link", name="Edit contact").click()
    dialog = page.locator("dialog#action-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Email").fill(FIXED_EMAIL)
    expect(dialog.get_by_label("Resend the tickets to this address")).not_to_be_checked()
    dialog.get_by_role("button", name="Save contact").click()
    expect(dialog).to_be_hidden()

    advice = page.locator("#delivery-advice")
    expect(advice).to_contain_text(f"The contact email is now {FIXED_EMAIL}, but the tickets have not been sent")
    expect(advice).to_contain_text(f"the last tickets email went to {ANNA_EMAIL}")
    expect(page.locator("#bounce-banner")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "advice-not-resent.png"), full_page=True)

    advice.get_by_role("button", name=f"Send the tickets to {FIXED_EMAIL}").click()
    expect(page.get_by_role("status").filter(has_text=f"Tickets queued for {FIXED_EMAIL}")).to_be_visible()
    expect(page.locator("#delivery-advice")).to_have_count(0)
    expect(page.locator("#order-email-status")).to_contain_text(f"to {FIXED_EMAIL}")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    assert OutgoingMessage.objects.filter(order__code=ANNA_CODE, recipient=FIXED_EMAIL).count() == 1


def test_a_resend_to_an_address_that_complained_is_deliberate(demo, live_server, page: Page, screenshot_dir):
    OutgoingMessage.objects.filter(order__code=ANNA_CODE).update(status="complained", status_reason="")
    Order.objects.filter(code=ANNA_CODE).update(email_status="complained")
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    expect(page.locator("#delivery-advice")).to_contain_text(f"{ANNA_EMAIL} marked the tickets email as spam")

    page.get_by_text("⋯ Actions").click()
    page.get_by_role("link", name="Resend tickets", exact=True).click()
    dialog = page.locator("dialog#action-dialog")
    expect(dialog.locator("#complaint-warning")).to_contain_text("resend only if the guest asked for it")
    dialog.get_by_role("button", name="Resend 2 tickets").click()
    expect(dialog).to_contain_text("tick the box to resend to it anyway")
    page.screenshot(path=str(screenshot_dir / "advice-complaint-dialog.png"), full_page=True)
    assert not OutgoingMessage.objects.filter(order__code=ANNA_CODE, kind="tickets_resend").exists()

    dialog.get_by_label("The guest asked for the tickets again").check()
    dialog.get_by_role("button", name="Resend 2 tickets").click()
    expect(page.get_by_role("status").filter(has_text=f"Tickets queued for {ANNA_EMAIL}")).to_be_visible()
    assert OutgoingMessage.objects.filter(order__code=ANNA_CODE, kind="tickets_resend").count() == 1
