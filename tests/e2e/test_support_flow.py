"""The support agent's daily loop in a real browser: find the guest, read the order, see what can be done."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_support_agent_finds_the_bounced_order_and_reads_it(demo, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "support@demo.example", "demo-support")

    # The guest list of the demo's main event.
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Guests")).to_be_visible()
    expect(page.locator("#guest-table tbody tr").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "guest-list.png"))

    # Search as you type: the header box shows matching orders while typing.
    search_box = page.get_by_label("Search guests and orders")
    search_box.fill("gmial")
    expect(page.locator(".header-search").get_by_role("link", name=ANNA_CODE)).to_be_visible()

    # The plain form: search the guest's email, open her order.
    search_box.fill(ANNA_EMAIL)
    search_box.press("Enter")
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    page.locator("main").get_by_role("link", name=ANNA_CODE).click()
    expect(page.get_by_role("heading", name=f"Order {ANNA_CODE}")).to_be_visible()

    # Order email status: bounced, with the reason.
    status = page.locator("#order-email-status")
    expect(status).to_contain_text("Bounced")
    assert page.url.endswith(f"/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")

    # Scan history opens in place.
    page.get_by_role("link", name="Scan history").first.click()
    expect(page.get_by_text("Scan history of ticket").first).to_be_visible()

    # The ⋯ menu: a support agent may not refund, and is told why.
    page.get_by_text("⋯ Actions").click()
    expect(page.get_by_text("Your role (Support agent) can't refund orders")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "order-detail.png"), full_page=True)


def test_the_menu_opens_from_the_keyboard(demo, live_server, page: Page):
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    page.get_by_text("⋯ Actions").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your role (Support agent) can't cancel orders")).to_be_visible()
