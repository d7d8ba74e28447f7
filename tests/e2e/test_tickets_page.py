"""The customer opens their tickets page on a phone (390 × 844 CSS px at 3 device pixels each, an iPhone 14's)
and the door scans the QR code off the screen: decoded from a screenshot (zxing-cpp), it is the ticket's secret.
And "Find my tickets" on the same phone."""

import io
import uuid

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tickets.pages import tickets_page_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WIDTH, HEIGHT = 390, 844


@pytest.fixture(autouse=True)
def own_rate_limits(settings):
    settings.RATE_LIMIT_NAMESPACE = uuid.uuid4().hex


@pytest.fixture
def phone(browser: Browser):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=3, locale="en-GB", has_touch=True
    )
    yield context.new_page()
    context.close()


def decoded(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_the_tickets_page_on_a_phone_shows_a_qr_code_the_door_can_read(
    live_server, settings, make_order, phone: Page, screenshot_dir, assert_accessible
):
    order = make_order(quantity=2, contact_name="Jana Nováková")
    first, second = order.tickets.order_by("id")
    settings.PORTAL_URL = live_server.url
    page = phone
    page.goto(tickets_page_url(order))

    expect(page.get_by_role("heading", name=order.event.name)).to_be_visible()
    expect(page.get_by_role("link", name="Download all tickets (PDF)")).to_be_visible()
    qr = page.get_by_role("img", name=f"QR code of ticket {first.public_id}")
    expect(qr).to_be_visible()
    expect(page.get_by_text(first.public_id, exact=True)).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH, "the page scrolls sideways"
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 250, f"the QR code is too small to scan: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, (
        f"the first QR code is not whole on the first screen: {box}"
    )
    assert_accessible(page, "the customer's tickets page")

    screen = page.screenshot(path=str(screenshot_dir / "phone-tickets-page.png"))
    assert decoded(screen) == [first.secret]  # what the door's scanner reads off the phone

    full = page.screenshot(full_page=True)
    assert sorted(decoded(full)) == sorted([first.secret, second.secret])


def test_find_my_tickets_on_a_phone(live_server, organisation, phone: Page, screenshot_dir, assert_accessible):
    page = phone
    page.goto(f"{live_server.url}/o/{organisation.slug}/find-my-tickets/")
    expect(page.get_by_role("heading", name="Find my tickets")).to_be_visible()
    assert_accessible(page, "Find my tickets")
    page.get_by_label("Your email address").fill("nobody@example.com")
    page.get_by_role("button", name="Email me my tickets").click()
    expect(page.get_by_role("status")).to_contain_text("If nobody@example.com has current orders")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH, "the page scrolls sideways"
    assert_accessible(page, "Find my tickets, answered")
    page.screenshot(path=str(screenshot_dir / "phone-find-my-tickets.png"))
