"""Action buttons show they are working: while the answer is on its way the submit button is disabled and
says "Sending…", and a double click sends one request. The answer is held back by a Playwright route until
the test has looked, as a slow first resend after a start (~5 s) would."""

import pytest
from playwright.sync_api import Page, Route, expect

from organiser_portal.models import Membership

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def order_page(live_server, page: Page, member, make_order):
    order = make_order(quantity=2)
    log_in(page, live_server, member(Membership.Role.SUPPORT).username)
    return order, f"{live_server.url}/o/{order.organisation.slug}/orders/{order.code}/"


def hold_posts(page: Page, url_glob: str) -> list[Route]:
    """Posts to `url_glob` wait in the returned list until the test lets them go (route.continue_())."""
    held: list[Route] = []

    def handle(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route(url_glob, handle)
    return held


def test_the_resend_dialog_button_waits_and_sends_once(order_page, page: Page, assert_accessible):
    order, url = order_page
    page.goto(url)
    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name="Resend tickets", exact=True).click()
    dialog = page.get_by_role("dialog", name="Resend tickets", exact=True)
    button = dialog.get_by_role("button", name="Resend 2 tickets")
    expect(button).to_be_enabled()
    held = hold_posts(page, f"**/orders/{order.code}/resend/")

    button.dblclick()
    busy = dialog.get_by_role("button", name="Sending…")
    expect(busy).to_be_disabled()
    page.wait_for_timeout(700)  # room for a second request, were one to go
    assert len(held) == 1
    assert_accessible(page, "resend dialog, sending")

    held[0].continue_()
    expect(page.locator("#order-flash")).to_contain_text("Tickets queued for anna@example.com")
    expect(dialog).to_be_hidden()
    assert len(held) == 1
    assert order.messages.filter(kind="tickets_resend").count() == 1


def test_a_plain_form_button_waits_and_sends_once(order_page, page: Page):
    """The same without htmx: the resend page's own form, posted by the browser. While that post waits, the
    page is leaving and Playwright can't query it, so the page notes what its button became (sessionStorage
    outlives the navigation) and the test reads the note on the page the post leads to."""
    order, url = order_page
    page.goto(f"{url}resend/")
    page.evaluate(_NOTE_BUTTON_CHANGES)
    held = hold_posts(page, f"**/orders/{order.code}/resend/")

    page.get_by_role("button", name="Resend 2 tickets").dblclick(no_wait_after=True)
    page.wait_for_timeout(700)  # room for a second request, were one to go
    assert len(held) == 1

    held[0].continue_()
    expect(page.get_by_role("heading", name=f"Order {order.code}")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Tickets queued for anna@example.com")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('button-while-sending')") == "disabled:Sending…"
    assert len(held) == 1 and order.messages.filter(kind="tickets_resend").count() == 1


_NOTE_BUTTON_CHANGES = """() => {
  const button = document.querySelector("main form button[type=submit]");
  new MutationObserver(() => {
    if (button.disabled) sessionStorage.setItem("button-while-sending", `disabled:${button.textContent}`);
  }).observe(button, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def test_the_button_comes_back_when_htmx_gets_no_answer(order_page, page: Page):
    """An answer htmx doesn't swap (a server error) leaves the form on the page: the button is usable again."""
    order, url = order_page
    page.goto(url)
    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name="Edit contact").click()
    dialog = page.get_by_role("dialog", name="Edit contact")
    page.route(f"**/orders/{order.code}/contact/", lambda route: route.fulfill(status=500, body="boom"))
    dialog.get_by_role("button", name="Save contact").click()
    expect(dialog.get_by_role("button", name="Save contact")).to_be_enabled()
