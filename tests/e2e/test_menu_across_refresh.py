"""The order page's ⋯ Actions menu while the page follows a delivery: the email status moves (Sent → Delivered,
played through the real Postmark webhook as the sandbox does), the poll swaps every changed section, #actions
among them, out of band, and the menu the agent has open stays open, with focus where it was."""

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from orders.models import Order

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def sent_order(demo, settings) -> Order:
    """A demo order whose ticket email is sent and not yet delivered: its page polls."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "e2e-hook:e2e-secret"}
    order = Order.objects.filter(organisation__slug=DEMO_ORG_SLUG, email_status="sent").order_by("id").first()
    assert order is not None, "the demo has an order whose ticket email is on its way"
    return order


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_open_actions_menu_stays_open_when_the_email_status_moves(
    sent_order, live_server, page: Page, viewport, screenshot_dir
):
    if viewport:
        page.set_viewport_size(viewport)
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{sent_order.code}/")
    page.evaluate("window.stillTheSamePage = true")
    status = page.locator("#order-email-status")
    expect(status).to_contain_text("Sent")

    menu = page.locator("details#actions")
    page.get_by_text("⋯ Actions").click()
    expect(menu).to_have_attribute("open", "")
    first_item = menu.get_by_role("link").first
    first_item.focus()
    href = first_item.get_attribute("href")
    page.evaluate("document.querySelector('#actions').dataset.before = 'yes'")  # gone once the poll swaps it

    call_command("simulate_delivery", sent_order.code, "delivered", verbosity=0)
    expect(status).to_contain_text("Delivered", timeout=15_000)

    assert page.evaluate("document.querySelector('#actions').dataset.before") is None, "#actions was not swapped"
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    expect(menu).to_have_attribute("open", "")
    expect(menu.get_by_role("link").first).to_be_visible()
    assert page.evaluate("document.activeElement.getAttribute('href')") == href, "focus left the menu item"
    page.screenshot(path=str(screenshot_dir / f"actions-menu-after-refresh-{'phone' if viewport else 'desktop'}.png"))

    # The menu still works: the item opens, and the summary still closes the menu.
    page.locator("#actions > summary").click()
    expect(menu).not_to_have_attribute("open", "")
