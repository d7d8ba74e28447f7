"""Every page of the portal passes axe-core with no serious or critical violation (tests/e2e/a11y.py), in each
state a person sees it: menus and action dialogs open, results and no results, refusals and not-found pages."""

import pytest
from playwright.sync_api import Page, expect

from demo.specs import ANNA_CODE, ANNA_EMAIL, DEMO_ORG_SLUG
from guests.models import Customer
from orders.models import Order

from .a11y import accessible_name, axe_violations, describe
from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Audit:
    """Runs axe on each state it is shown and keeps every failure, so one run reports them all."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.checked: list[str] = []
        self.failures: list[str] = []

    def __call__(self, what: str) -> None:
        self.checked.append(what)
        if violations := axe_violations(self.page):
            self.failures.append(f"{what} ({self.page.url}):\n{describe(violations)}")

    def assert_clean(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


def _open_dialog(page: Page, link_name: str, heading: str) -> None:
    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name=link_name, exact=True).click()
    expect(page.get_by_role("dialog").get_by_role("heading", name=heading)).to_be_visible()


def _close_dialog(page: Page) -> None:
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_every_page_passes_axe(demo, live_server, page: Page):
    base = f"{live_server.url}/o/{DEMO_ORG_SLUG}"
    audit = Audit(page)
    held = Order.objects.filter(event__organisation__slug=DEMO_ORG_SLUG, tickets_held=True).first()
    customer = Customer.objects.filter(organisation__slug=DEMO_ORG_SLUG, orders__isnull=False).first()
    ticket = Order.objects.get(code=ANNA_CODE).tickets.first()
    assert held is not None and customer is not None and ticket is not None

    page.goto(f"{live_server.url}/accounts/login/")
    audit("login")
    page.get_by_label("Email").fill("nobody@demo.example")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit("login, wrong password")

    log_in(page, live_server, "support@demo.example", "demo-support")
    audit("My events")

    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Guests")).to_be_visible()
    audit("guest list")

    page.get_by_label("Search guests and orders").fill("gmial")
    expect(page.locator(".header-search").get_by_role("link", name=ANNA_CODE)).to_be_visible()
    audit("header search, results as you type")

    page.goto(f"{base}/search/?q={ANNA_EMAIL}")
    audit("search with results")
    page.goto(f"{base}/search/?q=nobody-at-all@example.com")
    audit("search without results")

    page.goto(f"{base}/customers/{customer.pk}/")
    audit("customer page")

    page.goto(f"{base}/orders/{ANNA_CODE}/")
    audit("order page")
    # The ⋯ menu is announced by its visible label (WCAG 2.5.3), not as "Order actions".
    assert accessible_name(page, "#actions > summary") == ("DisclosureTriangle", "Actions")
    page.get_by_role("link", name="Scan history").first.click()
    expect(page.get_by_text("Scan history of ticket").first).to_be_visible()
    audit("order page, scan history open")
    page.get_by_text("⋯ Actions").click()
    expect(page.locator("#actions .actions-list")).to_be_visible()
    audit("order page, ⋯ menu open")
    page.get_by_text("⋯ Actions").click()

    _open_dialog(page, "Resend tickets", "Resend tickets")
    audit("resend dialog")
    assert accessible_name(page, "#action-dialog") == ("dialog", "Resend tickets")
    _close_dialog(page)
    _open_dialog(page, "Edit contact", "Edit contact")
    audit("edit contact dialog")
    _close_dialog(page)
    page.locator("#bounce-banner").get_by_role("link", name="Fix and resend").click()
    expect(page.get_by_role("dialog").get_by_role("heading", name="Fix the address and resend")).to_be_visible()
    audit("fix and resend dialog")
    _close_dialog(page)

    page.goto(f"{base}/orders/{held.code}/")
    _open_dialog(page, "Send held tickets", "Send held tickets")
    audit("send held tickets dialog")

    for path, what in (
        (f"orders/{ANNA_CODE}/resend/", "resend page (no JavaScript)"),
        (f"orders/{ANNA_CODE}/contact/", "edit contact page"),
        (f"orders/{ANNA_CODE}/fix-and-resend/", "fix and resend page"),
        (f"orders/{held.code}/send-held/", "send held tickets page"),
        (f"orders/{ANNA_CODE}/tickets/{ticket.public_id}/scans/", "scan history page"),
        ("orders/NO-SUCH-ORDER/", "not found page"),
    ):
        page.goto(f"{base}/{path}")
        audit(what)

    page.goto(f"{base}/")
    page.get_by_role("button", name="Log out").click()
    audit("logged out")
    log_in(page, live_server, "viewer@demo.example", "demo-viewer")
    page.goto(f"{base}/orders/{ANNA_CODE}/")
    page.get_by_text("⋯ Actions").click()
    audit("order page as a viewer, ⋯ menu open")
    page.goto(f"{base}/orders/{ANNA_CODE}/resend/")
    audit("refusal page")

    assert len(audit.checked) >= 20
    audit.assert_clean()
