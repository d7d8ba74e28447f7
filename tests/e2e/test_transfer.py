"""A support agent transfers a ticket from its row on the order page, then cancels the transfer, in the page's
dialog; the tickets table and the timeline follow without a reload. The row's menu and both dialogs pass the
accessibility check, and the order page and the transfer page fit a phone (390 px)."""

import pytest
from django.db.models import Count, Q
from playwright.sync_api import Page, expect

from demo.specs import DEMO_ORG_SLUG
from orders.models import Order
from tickets.models import TicketReplacement

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = 390


def _paid_order() -> Order:
    """A demo order, paid, with two valid unused tickets and nothing else."""
    order = (
        Order.objects.filter(organisation__slug=DEMO_ORG_SLUG, status="paid", tickets_held=False)
        .annotate(
            valid=Count("tickets", filter=Q(tickets__status="valid", tickets__used_at__isnull=True), distinct=True),
            everything=Count("tickets", distinct=True),
        )
        .filter(valid=2, everything=2)
        .order_by("code")
        .first()
    )
    assert order is not None, "the demo has a paid two-ticket order"
    return order


def _fits_a_phone(page: Page, what: str) -> None:
    page.set_viewport_size({"width": PHONE, "height": 844})
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE, f"{what} is {width} px wide on a phone: the page scrolls sideways"


def test_a_transfer_then_its_cancellation(demo, live_server, page: Page, screenshot_dir, assert_accessible):
    order = _paid_order()
    ticket = order.tickets.order_by("id").first()
    assert ticket is not None
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the page

    row = page.locator("#tickets tr", has_text=ticket.public_id).first
    row.get_by_text("Ticket actions").click()
    expect(row.get_by_role("link", name="Transfer to another person…")).to_be_visible()
    assert_accessible(page, "a ticket row's actions menu")
    row.get_by_role("link", name="Transfer to another person…").click()

    dialog = page.locator("dialog#action-dialog #ticket-transfer")
    expect(dialog.get_by_role("heading", name=f"Transfer ticket {ticket.public_id}")).to_be_visible()
    dialog.get_by_label("New holder's name").fill("Ben Okafor")
    dialog.get_by_label("New holder's email").fill("ben.okafor@example.com")
    assert_accessible(page, "the transfer dialog")
    page.screenshot(path=str(screenshot_dir / "ticket-transfer.png"))
    dialog.get_by_role("button", name="Transfer ticket").click()

    expect(page.locator("#order-flash")).to_contain_text(f"Ticket {ticket.public_id} transferred to Ben Okafor")
    expect(row).to_contain_text("Invalid · transferred")
    expect(page.locator("#timeline")).to_contain_text(f"Item transfer created: ticket {ticket.public_id} to Ben Okafor")
    transfer = TicketReplacement.objects.select_related("new_ticket").get(order=order)
    new = transfer.new_ticket
    new_row = page.locator("#tickets tr", has_text=new.public_id).first
    expect(new_row).to_contain_text("Valid · unused")
    expect(new_row).to_contain_text("Ben Okafor")
    page.screenshot(path=str(screenshot_dir / "ticket-transferred.png"), full_page=True)

    new_row.get_by_text("Ticket actions").click()
    new_row.get_by_role("link", name="Cancel transfer…").click()
    dialog = page.locator("dialog#action-dialog #ticket-transfer-cancel")
    expect(dialog.get_by_role("heading", name="Cancel transfer")).to_be_visible()
    expect(dialog).to_contain_text(f"{ticket.public_id} valid again")
    assert_accessible(page, "the cancel-transfer dialog")
    dialog.get_by_role("button", name="Cancel the transfer").click()

    expect(new_row).to_contain_text("Invalid · transfer cancelled")
    expect(row).to_contain_text("Valid · unused")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Item transfer cancelled: ticket {ticket.public_id} valid again")
    expect(timeline).to_contain_text("Item transfer created")
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"

    _fits_a_phone(page, "the order page with its ticket actions")
    row.get_by_text("Ticket actions").click()
    assert_accessible(page, "a ticket row's actions menu on a phone")
    page.screenshot(path=str(screenshot_dir / "ticket-actions-390.png"), full_page=True)
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/tickets/{ticket.public_id}/transfer/")
    expect(page.get_by_role("heading", name=f"Transfer ticket {ticket.public_id}")).to_be_visible()
    _fits_a_phone(page, "the transfer page")
    assert_accessible(page, "the transfer page on a phone")


def test_a_reissue_with_the_new_ticket_emailed(demo, live_server, page: Page, assert_accessible):
    order = _paid_order()
    ticket = order.tickets.order_by("id").last()
    assert ticket is not None
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    row = page.locator("#tickets tr", has_text=ticket.public_id).first
    row.get_by_text("Ticket actions").click()
    row.get_by_role("link", name="Reissue (new QR code)…").click()

    dialog = page.locator("dialog#action-dialog #ticket-reissue")
    expect(dialog.get_by_role("heading", name=f"Reissue ticket {ticket.public_id}")).to_be_visible()
    expect(dialog.get_by_label("Email the new ticket to its holder")).to_be_checked()
    assert_accessible(page, "the reissue dialog")
    dialog.get_by_role("button", name="Reissue ticket").click()

    expect(row).to_contain_text("Invalid · reissued")
    reissue = TicketReplacement.objects.select_related("new_ticket").get(order=order, kind="reissue")
    expect(page.locator("#timeline")).to_contain_text(
        f"Ticket {ticket.public_id} reissued as {reissue.new_ticket.public_id}"
    )
    expect(page.locator("#messages")).to_contain_text("Reissued ticket")
