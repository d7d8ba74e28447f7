"""The door in a browser: a manager adds a scanner device on the Door tab and copies its token; a scan posted
through the API with it shows on the order page ("Valid · used") and in its timeline, and tops the scan log;
revoked on the Door tab, the token is refused.
The Door tab and the scan log pass the accessibility check, on a desktop and on a phone."""

import pytest
from playwright.sync_api import Browser, Page, expect

from demo.specs import DEMO_ORG_SLUG
from tickets.models import AccessArea, Ticket

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = 390


def _unused_ticket() -> Ticket:
    """A valid, unused ticket of the running festival (the demo event with access areas)."""
    area = (
        AccessArea.objects.filter(organisation__slug=DEMO_ORG_SLUG, name="Main entrance")
        .select_related("event")
        .first()
    )
    assert area is not None, "the demo's running festival has its door set up"
    ticket = (
        Ticket.objects.filter(event=area.event, status="valid", used_at=None, order__status="paid")
        .select_related("order", "event")
        .order_by("id")
        .first()
    )
    assert ticket is not None
    return ticket


def _fits(page: Page, what: str) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    # What sticks out, if anything: a wide table scrolls inside its box, but an absolutely positioned element
    # (a visually-hidden label) escapes the box unless it is positioned.
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1"
        " && !e.closest('.table-responsive')?.contains(e.offsetParent)).slice(0, 5).map(e => e.outerHTML.slice(0, 80))"
    )
    assert width <= PHONE, f"{what} is {width} px wide on a phone: the page scrolls sideways ({wide})"


def test_a_device_made_in_the_portal_scans_and_the_order_shows_it(
    demo, live_server, page: Page, browser: Browser, screenshot_dir, assert_accessible
):
    ticket = _unused_ticket()
    event, order = ticket.event, ticket.order
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/door/")
    expect(page.get_by_role("heading", name="Access areas")).to_be_visible()
    expect(page.get_by_role("link", name="Door")).to_have_attribute("aria-current", "page")
    assert_accessible(page, "the Door tab")

    page.get_by_label("Device name").fill("Gate 9")
    page.get_by_label("Access point", exact=True).select_option(label="Main entrance · Gate 1")
    page.get_by_role("button", name="Create device and show its token").click()
    token_box = page.locator("#new-token code").first
    expect(token_box).to_be_visible()
    token = token_box.inner_text().strip()
    assert token.startswith("scn_")
    expect(page.get_by_role("cell", name="Gate 9", exact=True)).to_be_visible()
    assert_accessible(page, "the Door tab showing a new device's token")
    page.screenshot(path=str(screenshot_dir / "door-tab.png"), full_page=True)

    answer = page.request.post(
        f"{live_server.url}/api/v1/check-ins/",
        data={"code": ticket.secret, "client_scan_id": "e2e-1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status == 200 and answer.json()["result"] == "admitted", answer.text()

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    row = page.locator("tr", has_text=ticket.public_id).first
    expect(row).to_contain_text("Valid · used")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Ticket {ticket.public_id} admitted at Main entrance · Gate 1")
    expect(timeline).to_contain_text("Scanner Gate 9")
    timeline.screenshot(path=str(screenshot_dir / "door-order-timeline.png"))

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/scans/")
    first_row = page.locator("#scan-table tbody tr").first
    expect(first_row).to_contain_text(ticket.public_id)
    expect(first_row).to_contain_text("Admitted")
    page.get_by_label("Result").select_option("denied")
    expect(page.locator("#scan-table tbody tr").first).to_contain_text("Denied")
    assert_accessible(page, "the scan log, filtered")
    page.screenshot(path=str(screenshot_dir / "scan-log.png"), full_page=True)

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/door/")
    page.get_by_text("Revoke Gate 9…").click()
    assert_accessible(page, "the Door tab asking to confirm a revocation")
    page.get_by_role("button", name="Yes, revoke Gate 9").click()
    expect(page.get_by_text("Gate 9 is revoked: its scans are refused from now on.")).to_be_visible()
    refused = page.request.post(
        f"{live_server.url}/api/v1/check-ins/",
        data={"code": ticket.secret},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status == 401 and refused.json()["error"] == "revoked"

    phone = browser.new_context(viewport={"width": PHONE, "height": 844}, locale="en-GB", has_touch=True)
    try:
        small = phone.new_page()
        log_in(small, live_server, "manager@demo.example", "demo-manager")
        for tab, name in (("door", "the Door tab"), ("scans", "the scan log")):
            small.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/{tab}/")
            _fits(small, name)
            assert_accessible(small, f"{name} on a phone")
            small.screenshot(path=str(screenshot_dir / f"phone-{tab}.png"), full_page=True)
    finally:
        phone.close()
