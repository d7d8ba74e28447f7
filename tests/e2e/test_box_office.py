"""A box-office sale in a real browser: a manager switches "send tickets automatically" off in the event's Settings,
sells two tickets at the box office from the guest list's New order, sees the order held on its page, then sends
it. The form passes axe and fits a phone's 390 px."""

import re

import pytest
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from notifications.models import OutgoingMessage
from orders.models import Order

from .login import log_in
from .test_setup import PHONE, assert_fits_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EVENT = "Harbour Lights Festival"


def test_a_box_office_order_is_held_when_the_event_holds_tickets(
    demo, live_server, page: Page, assert_accessible, screenshot_dir
):
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name=EVENT).click()
    page.get_by_role("checkbox", name="Send tickets automatically").uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Saved the event's settings.")

    page.get_by_role("navigation", name="Event pages").get_by_role("link", name="Guests & orders").click()
    page.get_by_role("link", name="New order").click()
    expect(page.get_by_role("heading", name=re.compile("New order"))).to_be_visible()
    page.get_by_label("Day ticket").fill("2")
    page.get_by_label("Name", exact=True).fill("Walk-in Guest")
    page.get_by_label("Email", exact=True).fill("walk-in@example.com")
    page.get_by_label("Phone (optional)").fill("0151 23456789")
    page.get_by_role("radio", name="Paid at the box office").check()
    page.get_by_role("radio", name="Cash").check()
    page.get_by_label("Receipt or transfer reference (optional)").fill("Till 1 #0815")
    # Complimentary's reason shows only once that payment is chosen (CSS, no script).
    expect(page.get_by_label("Why complimentary")).to_be_hidden()
    assert_accessible(page, "New order form")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / "new-order-390.png"), full_page=True)
    assert_fits_a_phone(page, "New order form")
    page.screenshot(path=str(screenshot_dir / "new-order.png"), full_page=True)

    page.get_by_role("button", name="Review order").click()
    expect(page.get_by_role("heading", name=re.compile("Confirm the order"))).to_be_visible()
    summary = page.locator(".order-summary")
    expect(summary.locator(".order-total")).to_have_text("103.00 EUR")  # 2 × (49.00 + 2.50)
    expect(summary).to_contain_text("held for review")
    assert_accessible(page, "New order summary")
    page.screenshot(path=str(screenshot_dir / "new-order-summary.png"), full_page=True)
    assert_fits_a_phone(page, "New order summary")
    assert not Order.objects.filter(contact_email="walk-in@example.com").exists()

    page.get_by_role("button", name="Create order · 103.00 EUR paid").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Order "))).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="created and paid")).to_contain_text("held for review")
    expect(page.get_by_text("Tickets are held for review: nothing has been sent.")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Box-office order created: €103.00 paid, Cash · Till 1 #0815")
    page.screenshot(path=str(screenshot_dir / "box-office-order-held.png"), full_page=True)
    order = Order.objects.get(contact_email="walk-in@example.com", event__organisation__slug=DEMO_ORG_SLUG)
    assert (order.status, order.tickets_held, order.tickets.count()) == ("paid", True, 2)
    assert not OutgoingMessage.objects.filter(order=order).exists()

    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name="Send held tickets").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Send 2 tickets to walk-in@example.com").click()
    expect(page.get_by_text("Tickets released and queued for walk-in@example.com.")).to_be_visible()
    order.refresh_from_db()
    assert not order.tickets_held
    assert OutgoingMessage.objects.filter(order=order, kind="tickets").count() == 1

    # The demo's press passes: a complimentary order says so in its status, its total and on each ticket.
    press = Order.objects.get(contact_email="j.petersen@abendblatt.example")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{press.code}/")
    expect(page.locator("#order-status")).to_have_text("Paid · complimentary")
    expect(page.locator("#tickets").get_by_text("Complimentary")).to_have_count(2)
    expect(page.locator("#timeline")).to_contain_text("Complimentary order created (no charge): Press")
    page.screenshot(path=str(screenshot_dir / "complimentary-order.png"), full_page=True)
