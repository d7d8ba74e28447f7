"""Refusals in a real browser: a viewer who opens an action's address gets a page of the portal with the
reason and the way back to the order, and an unknown order a not-found page with the search at hand."""

import pytest
from playwright.sync_api import Page, expect

from organiser_portal.models import Membership

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_viewer_opening_resend_reads_why_and_goes_back(
    live_server, page: Page, member, make_order, assert_accessible, screenshot_dir
):
    order = make_order()
    viewer = member(Membership.Role.VIEWER)
    log_in(page, live_server, viewer.username)

    response = page.goto(f"{live_server.url}/o/{order.organisation.slug}/orders/{order.code}/resend/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your role (Viewer) can't resend tickets")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # the layout, header and all
    expect(page.get_by_role("searchbox", name="Search guests and orders")).to_be_visible()
    assert_accessible(page, "refusal page")
    page.screenshot(path=str(screenshot_dir / "refusal.png"))

    page.get_by_role("link", name="Back to the order").click()
    expect(page.get_by_role("heading", name=f"Order {order.code}")).to_be_visible()


def test_an_unknown_order_is_a_page_with_the_search(live_server, page: Page, member, organisation, assert_accessible):
    log_in(page, live_server, member(Membership.Role.SUPPORT).username)
    response = page.goto(f"{live_server.url}/o/{organisation.slug}/orders/NOSUCH1/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("No such order.")
    assert_accessible(page, "not found page")
    page.get_by_role("link", name="Back to My events").click()
    expect(page.get_by_role("heading", name="My events")).to_be_visible()
