"""A support agent links a guest-checkout order to the buyer's customer account (another email) from the order
page's ⋯ menu: finds the account in the dialog, sees the order's contact and the account side by side, links it;
the contact card and the timeline follow without a reload. The dialogs pass the accessibility check."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from guests.models import Customer
from orders.models import Order, TimelineEntry

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_link_a_guest_checkout_order_to_an_account(demo, live_server, page: Page, screenshot_dir, assert_accessible):
    order = (
        Order.objects.filter(organisation__slug=DEMO_ORG_SLUG, customer__isnull=True, status="paid")
        .select_related("event")
        .order_by("code")
        .first()
    )
    assert order is not None, "the demo has a paid guest-checkout order"
    customer = (
        Customer.objects.filter(organisation=order.organisation, verified=False)
        .exclude(email__iexact=order.contact_email)
        .order_by("pk")
        .first()
    )
    assert customer is not None
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page
    expect(page.locator("#contact")).to_contain_text("Guest checkout: no customer account")

    page.get_by_text("⋯ Actions").click()
    page.get_by_role("link", name="Link to customer account…").click()
    dialog = page.locator("dialog#action-dialog #customer-link")
    expect(dialog.get_by_role("heading", name="Link to customer account")).to_be_visible()
    dialog.get_by_label("Search customer accounts").fill(customer.email)
    dialog.get_by_role("button", name="Search").click()
    dialog = page.locator("dialog#action-dialog #customer-link")
    dialog.get_by_role("link", name=f"Choose {customer.name}").click()

    dialog = page.locator("dialog#action-dialog #customer-link")
    expect(dialog.get_by_role("heading", name=f"Link order {order.code} to {customer.name}?")).to_be_visible()
    expect(dialog.locator(".customer-sides")).to_contain_text(order.contact_email)  # the order's side
    expect(dialog.locator(".customer-sides")).to_contain_text(customer.email)  # the account's side
    expect(dialog.locator("#emails-differ")).to_be_visible()
    assert_accessible(page, "the link confirmation")
    page.screenshot(path=str(screenshot_dir / "customer-link-confirmation.png"))
    dialog.get_by_role("button", name=f"Link the order to {customer.email}").click()

    expect(page.locator("#order-flash")).to_contain_text(f"Order linked to the customer account of {customer.name}.")
    expect(page.locator("#contact")).to_contain_text("Not verified")
    expect(page.locator("#contact").get_by_role("link", name="Customer account")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(f"Linked to customer account {customer.name} <{customer.email}>")
    expect(page.locator("#timeline")).to_contain_text("support@demo.example")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    assert Order.objects.get(pk=order.pk).customer_id == customer.pk
    assert TimelineEntry.objects.filter(order=order, action="order.customer_linked").count() == 1

    page.locator("#contact").get_by_role("link", name="Customer account").click()
    expect(page.get_by_role("heading", name=customer.name)).to_be_visible()
    expect(page.locator("#orders-h")).to_contain_text("(1)")
    expect(page.get_by_text(order.code)).to_be_visible()
    expect(page.get_by_role("button", name=f"Send verification email to {customer.email}")).to_be_visible()
    assert_accessible(page, "the customer page")
    page.screenshot(path=str(screenshot_dir / "customer-page.png"), full_page=True)
