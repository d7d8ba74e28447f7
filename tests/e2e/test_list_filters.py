"""The Orders list in a real browser: a link with an invalid filter value keeps the search and says which
value it ignored, at desktop width and 390 px wide."""

import pytest
from playwright.sync_api import Page, expect

from organiser_portal.models import Membership
from tests.e2e.login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_invalid_status_is_named_and_the_search_kept(live_server, page: Page, member, make_order, screenshot_dir):
    make_order(contact_name="Anna Müller", contact_email="anna@example.com")
    make_order(contact_name="Karl-Ernst Walter", contact_email="karl@example.com")
    user = member(Membership.Role.VIEWER)
    log_in(page, live_server, user.username)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/o/festival/orders/?q=Muller&status=bogus")
        expect(page.get_by_role("status")).to_contain_text("Ignored “bogus”: not an order status.")
        expect(page.get_by_label("Search orders")).to_have_value("Muller")
        table = page.locator("#order-table")
        expect(table).to_contain_text("Anna Müller")
        expect(table).not_to_contain_text("Karl-Ernst Walter")
        page.screenshot(path=str(screenshot_dir / f"orders-ignored-filter-{width}.png"), full_page=True)


def test_the_search_box_names_what_it_takes(live_server, page: Page, member, event, screenshot_dir):
    log_in(page, live_server, member(Membership.Role.VIEWER).username)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/o/festival/events/{event.public_id}/guests/")
        expect(page.get_by_label("Search this event")).to_have_attribute(
            "placeholder", "Name, email, phone, order code or ticket ID"
        )
        page.screenshot(path=str(screenshot_dir / f"guests-placeholder-{width}.png"))
