"""What an empty search says, in a real browser: the purchase sentence after a whole email address nobody has,
never after a name; in an event's guest list, the order a ticket ID of another event belongs to, and the
filters that hide an order, with the link that clears them."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_NAME
from organiser_portal.models import Event
from tickets.models import Ticket

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
NO_PURCHASE = "No order means the purchase did not go through"


def test_the_global_search_says_no_purchase_only_after_a_whole_address(demo, live_server, page: Page, screenshot_dir):
    log_in(page, live_server, "support@demo.example", "demo-support")
    search_box = page.get_by_label("Search guests and orders")
    search_box.fill("nobody@example.com")
    search_box.press("Enter")
    main = page.locator("main")
    expect(main).to_contain_text("No order or customer account has the email address “nobody@example.com”")
    expect(main).to_contain_text(f"{NO_PURCHASE}: the buyer has no tickets and was not charged.")

    # Typing a name on the search page swaps the results in place: what was searched, no purchase sentence.
    page.get_by_label("Search guests and orders").fill("Wqxzvj")
    expect(main).to_contain_text("No order or customer account whose name or email address contains “Wqxzvj”")
    expect(main).not_to_contain_text(NO_PURCHASE)
    expect(main).to_contain_text("Try the email address, the order code or a ticket ID.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "search-empty-390.png"), full_page=True)


def test_an_events_empty_search_names_the_order_elsewhere_and_the_filters(demo, live_server, page: Page):
    log_in(page, live_server, "support@demo.example", "demo-support")
    anna = Ticket.objects.filter(order__code=ANNA_CODE).select_related("event").first()
    assert anna is not None
    gala = Event.objects.exclude(pk=anna.event_id).filter(organisation=anna.organisation).order_by("pk").first()
    assert gala is not None

    # A ticket ID of another event typed in this event's search.
    page.get_by_role("link", name=gala.name, exact=True).click()
    page.get_by_label("Search this event").fill(anna.public_id)
    table = page.locator("#guest-table")
    expect(table).to_contain_text(f"No order in {gala.name} matches “{anna.public_id}”.")
    expect(table).to_contain_text(f"“{anna.public_id}” belongs to order {ANNA_CODE} in {anna.event.name}.")
    expect(table).not_to_contain_text(NO_PURCHASE)
    table.get_by_role("link", name=ANNA_CODE).click()
    expect(page.get_by_role("heading", name=f"Order {ANNA_CODE}")).to_be_visible()

    # Her name under a status filter her order doesn't have: the filter is named, and clearing it finds her.
    page.goto(f"{live_server.url}/o/{anna.organisation.slug}/events/{anna.event.public_id}/guests/")
    page.get_by_label("Order status").select_option(label="Refunded")
    page.get_by_label("Search this event").fill(ANNA_NAME)
    expect(table).to_contain_text(f"No order in {anna.event.name} matches “{ANNA_NAME}” with the filters set.")
    expect(table).to_contain_text("Active filters may hide orders: Order status: Refunded.")
    expect(table).not_to_contain_text(NO_PURCHASE)
    table.get_by_role("link", name="Clear the filters").click()
    expect(table.get_by_role("link", name=ANNA_CODE)).to_be_visible()
    expect(page.get_by_label("Order status")).to_have_value("")
    expect(page.get_by_label("Search this event")).to_have_value(ANNA_NAME)
