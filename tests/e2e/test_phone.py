"""On a phone-sized screen (390 × 844 CSS px, an iPhone 14's) the header's search and log out stay on screen
and usable, list tables show each row as a card with its key columns first (portal.css, table-cards), and other
wide tables scroll inside their box instead of widening the page."""

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from demo.specs import ANNA_CODE, DEMO_ORG_SLUG
from organiser_portal.models import Event

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WIDTH, HEIGHT = 390, 844


@pytest.fixture
def phone(browser: Browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB", has_touch=True)
    yield context.new_page()
    context.close()


def assert_in_view(locator: Locator, what: str) -> None:
    """Visible, and once the page (only the page: no table scrolled sideways) is scrolled down to it, whole inside
    the phone's screen."""
    expect(locator).to_be_visible()
    locator.evaluate("e => window.scrollBy(0, e.getBoundingClientRect().top - 100)")
    box = locator.bounding_box()
    assert box is not None, what
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{what} sticks out sideways: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, f"{what} is off the screen: {box}"


def assert_on_screen(locator: Locator, what: str) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None, what
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{what} sticks out sideways: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, f"{what} is below the first screen: {box}"


def assert_fits(page: Page, what: str) -> None:
    search = page.get_by_role("searchbox", name="Search guests and orders")
    assert_on_screen(search, f"the search box on {what}")
    assert_on_screen(page.get_by_role("button", name="Log out"), f"log out on {what}")
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{what} is {scroll_width} px wide: the page scrolls sideways"


def test_the_header_and_pages_fit_a_phone(demo, live_server, phone: Page, screenshot_dir, assert_accessible):
    page = phone
    log_in(page, live_server, "support@demo.example", "demo-support")
    assert_fits(page, "My events")
    page.screenshot(path=str(screenshot_dir / "phone-my-events.png"), full_page=True)

    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Guests")).to_be_visible()
    assert_fits(page, "the guest list")
    # Each order is a card: its code and statuses on the screen, nothing to scroll sideways to.
    first = page.locator("#guest-table tbody tr").first
    assert_in_view(first.locator("code"), "the first order's code on the guest list")
    assert_in_view(first.locator(".badge").first, "the first order's status on the guest list")
    # Its tick box (bulk send) is big enough for a finger, and a tap ticks it.
    tick = first.get_by_role("checkbox")
    box = tick.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24, f"the tick box is too small: {box}"
    tick.tap()
    expect(tick).to_be_checked()
    page.screenshot(path=str(screenshot_dir / "phone-guest-list.png"), full_page=True)

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{ANNA_CODE}/")
    assert_fits(page, "the order page")
    page.screenshot(path=str(screenshot_dir / "phone-order.png"), full_page=True)
    page.get_by_text("⋯ Actions").click()
    actions = page.locator("#actions .actions-list")
    expect(actions).to_be_visible()
    box = actions.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"the ⋯ menu sticks out: {box}"
    page.screenshot(path=str(screenshot_dir / "phone-order-actions.png"))
    assert_accessible(page, "order page on a phone, ⋯ menu open")

    # The search works from the phone's header.
    search = page.get_by_role("searchbox", name="Search guests and orders")
    search.fill("Müller")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Search")).to_be_visible()
    assert_fits(page, "the search results")
    page.screenshot(path=str(screenshot_dir / "phone-search.png"), full_page=True)


def test_the_at_risk_list_shows_the_order_and_its_fix_on_a_phone(
    demo, live_server, phone: Page, screenshot_dir, assert_accessible
):
    page = phone
    log_in(page, live_server, "support@demo.example", "demo-support")
    event = Event.objects.get(orders__code=ANNA_CODE)
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/at-risk/")
    expect(page.get_by_role("heading", name="At risk")).to_be_visible()
    assert_fits(page, "the at-risk list")
    row = page.locator("#at-risk-table tbody tr").filter(has_text=ANNA_CODE)
    expect(row).to_contain_text("Email bounced")
    assert_in_view(row.get_by_role("link", name=ANNA_CODE), "Anna's order code on the at-risk list")
    fix = row.get_by_role("link", name="Fix and resend to anna.mueller@gmail.com…")  # the typo fixed in one click
    assert_in_view(fix, "Anna's fix on the at-risk list")
    page.screenshot(path=str(screenshot_dir / "phone-at-risk.png"), full_page=True)
    assert_accessible(page, "the at-risk list on a phone")
