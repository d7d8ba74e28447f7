"""Organisation setup in a real browser: a manager switches "send tickets automatically" off on the event's Settings
tab; an owner invites a member, who opens the invitation's link, chooses a password and logs in. Each page passes
axe, and fits a phone's 390 px."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, ViewportSize, expect

from demo.specs import DEMO_ORG_SLUG
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Event
from setup.models import AuditEntry

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
EVENT = "Harbour Lights Festival"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def emails_in_process(settings, live_server):
    """The outbox's worker in process (as on the embedded default), sending through Django's locmem backend:
    the invitation lands in mail.outbox, with links on the live server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_URL = live_server.url
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    mail.outbox = []
    yield mail.outbox
    celery_app.conf.task_always_eager = old


# What widens a page: the elements whose hiding brings it back to the screen's width (the innermost last).
_WIDER_THAN_THE_SCREEN = """() => { const out = [];
  for (const e of document.querySelectorAll('body *')) { const old = e.style.display; e.style.display = 'none';
    const w = document.scrollingElement.scrollWidth; e.style.display = old;
    if (w <= window.innerWidth) out.push(e.tagName + '.' + e.className); }
  return out.slice(-4); }"""


def assert_fits_a_phone(page: Page, what: str) -> None:
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(_WIDER_THAN_THE_SCREEN) if width > PHONE["width"] else []
    assert width <= PHONE["width"], f"{what} is {width} px wide at 390 px: the page scrolls sideways, {wide}"
    page.set_viewport_size({"width": 1440, "height": 900})


def test_a_manager_switches_send_tickets_automatically_off(
    demo, live_server, page: Page, assert_accessible, screenshot_dir
):
    log_in(page, live_server, "manager@demo.example", "demo-manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    assert_accessible(page, "Settings → Events")
    assert_fits_a_phone(page, "Settings → Events")
    page.get_by_role("link", name=EVENT).click()

    tabs = page.get_by_role("navigation", name="Event pages")
    expect(tabs.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    switch = page.get_by_role("checkbox", name="Send tickets automatically")
    expect(switch).to_be_checked()
    assert_accessible(page, "an event's Settings tab")
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / "event-settings-390.png"), full_page=True)
    assert_fits_a_phone(page, "an event's Settings tab")

    switch.uncheck()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Saved the event's settings.")
    expect(page.get_by_role("checkbox", name="Send tickets automatically")).not_to_be_checked()
    expect(page.get_by_text("Tickets are held for review")).to_be_visible()
    expect(page.locator(".audit-list")).to_contain_text("Switched “send tickets automatically” off")
    expect(page.locator(".audit-list")).to_contain_text("Mehmet Aydın")
    page.screenshot(path=str(screenshot_dir / "event-settings.png"), full_page=True)
    event = Event.objects.get(name=EVENT)
    assert not event.send_tickets_automatically
    assert AuditEntry.objects.filter(event=event, action="event.send_tickets_switched").count() == 1
    # Until box-office orders exist, the guest list shows what it means for new paid orders.
    tabs.get_by_role("link", name="Guests & orders").click()
    expect(page.get_by_text("Tickets are held for review")).to_be_visible()

    # A bad amount on a ticket type is a form error, in words, and the form passes axe.
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/events/{event.public_id}/settings/ticket-types/new/")
    page.get_by_label("Name").fill("Late entry")
    page.get_by_label("Price (EUR)").fill("12.505")
    page.get_by_role("button", name="Add ticket type").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the fields marked below")
    assert_accessible(page, "a ticket type form with errors")
    assert_fits_a_phone(page, "the ticket type form")

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/settings/events/new/")
    assert_accessible(page, "New event")
    assert_fits_a_phone(page, "New event")


def test_an_invited_member_sets_a_password_and_logs_in(
    demo, emails_in_process, live_server, page: Page, assert_accessible, screenshot_dir
):
    log_in(page, live_server, "owner@demo.example", "demo-owner")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings pages").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Invite a member")).to_be_visible()
    assert_accessible(page, "Team")
    assert_fits_a_phone(page, "Team")

    page.get_by_label("Email").fill("not-an-address")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "the invitation form with an error")

    page.get_by_label("Email").fill("jo.new@demo.example")
    page.get_by_label("Role").select_option("support")
    page.get_by_role("radio", name="Only the regions ticked below").check()
    page.get_by_role("checkbox", name="Hamburg").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_have_text("Invited jo.new@demo.example: the invitation is on its way.")
    expect(page.locator(".team-table")).to_contain_text("Invited · no password yet")
    expect(page.locator(".audit-list")).to_contain_text("Invited jo.new@demo.example as Support agent")
    page.screenshot(path=str(screenshot_dir / "team.png"), full_page=True)

    page.get_by_role("link", name="Edit jo.new@demo.example").click()
    assert_accessible(page, "a member's page")
    assert_fits_a_phone(page, "a member's page")
    page.get_by_role("navigation", name="Settings pages").get_by_role("link", name="Regions").click()
    assert_accessible(page, "Regions")
    assert_fits_a_phone(page, "Regions")
    page.get_by_role("button", name="Log out").click()

    [email] = emails_in_process
    assert email.to == ["jo.new@demo.example"]
    link = re.search(r"(http://\S+/accounts/invitation/\S+/)", email.body)
    assert link, email.body
    page.goto(link.group(1))
    expect(page.get_by_role("heading", name="Welcome: choose your password")).to_be_visible()
    assert "/set-password/" in page.url  # the token is out of the address bar
    assert_accessible(page, "the invitation's set-password page")
    assert_fits_a_phone(page, "the invitation's set-password page")
    page.get_by_label("New password", exact=True).fill("harbour-violet-92")
    page.get_by_label("New password confirmation").fill("harbour-violet-92")
    page.get_by_role("button", name="Save password and log in").click()
    expect(page.get_by_role("heading", name="My events")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your password is set. Welcome to the team.")
    # Limited to Hamburg: only its event is listed.
    expect(page.get_by_role("link", name=EVENT, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Berlin Product Summit", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Log out").click()
    page.goto(link.group(1))
    expect(page.get_by_role("heading", name="This invitation link doesn't work any more")).to_be_visible()
    log_in(page, live_server, "jo.new@demo.example", "harbour-violet-92")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Forgot your password?").click()
    assert_accessible(page, "Forgot your password")
    page.get_by_label("Email").fill("nobody@demo.example")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page, "Check your email")
    assert_fits_a_phone(page, "Check your email")
