"""Personalisation in a real browser on the demo: a support agent fills in an attendee from ⋯ Open personalisation
and the ticket's downloaded PDF names them; a customer opens the emailed link, switches to German and fills in
their ticket. Each page is checked with axe and at 390 px wide."""

import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from django.core import mail
from django.db.models import Count, Q
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from demo.specs import DEMO_ORG_SLUG
from orders.models import Order, TimelineEntry
from organiser_portal.celery import app as celery_app
from tickets.models import Ticket

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = 390


@pytest.fixture
def tasks_in_process(demo):
    """Emails sent in process right after commit (as `make run` does), to Django's locmem outbox."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    mail.outbox = []
    yield
    celery_app.conf.task_always_eager = old


def _order_missing_details(*, exclude: tuple[str, ...] = ()) -> Order:
    """A paid demo order, not held, whose valid tickets all still lack their attendee details."""
    order = (
        Order.objects.filter(organisation__slug=DEMO_ORG_SLUG, status="paid", tickets_held=False)
        .exclude(code__in=exclude)
        .annotate(
            missing=Count("tickets", filter=Q(tickets__personal_data_missing=True, tickets__status="valid")),
            everything=Count("tickets"),
        )
        .filter(missing__gte=1, everything=1)
        .order_by("code")
        .first()
    )
    assert order is not None, "the demo has conference orders still missing attendee details"
    return order


def _fits_a_phone(page: Page, what: str) -> None:
    page.set_viewport_size({"width": PHONE, "height": 844})
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE, f"{what} is {width} px wide on a phone: the page scrolls sideways"
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_agent_personalises_a_ticket_and_its_pdf_names_the_attendee(
    demo, live_server, page: Page, screenshot_dir, assert_accessible, tmp_path: Path
):
    order = _order_missing_details()
    ticket = order.tickets.get()
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/")
    expect(page.locator("#personal-data-alert")).to_contain_text("1 ticket still needs attendee details.")
    expect(page.locator("#tickets")).to_contain_text("Details missing")

    page.get_by_text("⋯ Actions").click()
    page.locator("#actions").get_by_role("link", name="Open personalisation", exact=True).click()
    dialog = page.locator("dialog#action-dialog #personalise")
    expect(dialog.get_by_role("heading", name="Attendee details")).to_be_visible()
    block = dialog.locator(f"#attendee-{ticket.public_id}")
    block.get_by_label("Attendee name *").fill("Małgorzata Wiśniewska")
    block.get_by_label("Attendee email *").fill("not-an-address")
    dialog.get_by_role("button", name="Save attendee details").click()
    expect(block).to_contain_text("Enter a valid email address.")
    assert Ticket.objects.get(pk=ticket.pk).attendee_name == ""  # nothing saved until all of it is valid
    assert_accessible(page, "the attendee details form with an error, in its dialog")
    page.screenshot(path=str(screenshot_dir / "personalise-form.png"))

    block.get_by_label("Attendee email *").fill("m.wisniewska@example.com")
    block.get_by_label("Dietary needs").select_option("Vegetarian")
    dialog.get_by_role("button", name="Save attendee details").click()
    expect(page.locator("#order-flash")).to_contain_text("Attendee details saved for 1 ticket.")
    expect(page.locator("#tickets")).to_contain_text("Małgorzata Wiśniewska")
    expect(page.locator("#personal-data-alert")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text(f"Attendee details of ticket {ticket.public_id} changed")

    row = page.locator("#tickets tr", has_text=ticket.public_id)
    with page.expect_download() as download_info:
        row.get_by_role("link", name="PDF").click()
    pdf_path = tmp_path / "ticket.pdf"
    download_info.value.save_as(pdf_path)
    text = PdfReader(BytesIO(pdf_path.read_bytes())).pages[0].extract_text()
    assert "Małgorzata Wiśniewska" in text and "Not yet named" not in text
    # The page as a person sees it (looked at when this test was written: the name under "Attendee").
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf_path), str(screenshot_dir / "personalised-ticket")],
        check=True,
    )

    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/personalise/")
    _fits_a_phone(page, "the attendee details page")


def test_a_customer_fills_in_the_page_from_the_emailed_link(
    tasks_in_process, live_server, page: Page, screenshot_dir, assert_accessible
):
    order = _order_missing_details()
    ticket = order.tickets.get()
    log_in(page, live_server, "support@demo.example", "demo-support")
    page.goto(f"{live_server.url}/o/{DEMO_ORG_SLUG}/orders/{order.code}/personalise/")
    page.get_by_label("Send to").fill("customer@example.com")
    page.get_by_label("Language of the email and the page").select_option("en")
    page.get_by_role("button", name="Send link").click()
    expect(page.get_by_role("status").filter(has_text="Link to the attendee details queued")).to_be_visible()

    [email] = [m for m in mail.outbox if m.to == ["customer@example.com"]]
    link = next(line for line in email.body.splitlines() if "/attendees/" in line)
    path = link[link.index("/attendees/") :]
    page.context.clear_cookies()  # the customer has no login
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Attendee details")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, "the customer's attendee details page")
    _fits_a_phone(page, "the customer's attendee details page")

    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    block = page.locator(f"#attendee-{ticket.public_id}")
    block.get_by_label("Name der teilnehmenden Person *").fill("Jonas Keller")
    block.get_by_label("E-Mail der teilnehmenden Person *").fill("jonas.keller@example.com")
    page.get_by_role("button", name="Angaben speichern").click()
    expect(page.locator("#saved")).to_contain_text("Vielen Dank")
    assert_accessible(page, "the customer's page after saving, in German")
    page.set_viewport_size({"width": PHONE, "height": 844})
    page.screenshot(path=str(screenshot_dir / "personalise-customer-390.png"), full_page=True)

    ticket.refresh_from_db()
    assert (ticket.attendee_name, ticket.attendee_email) == ("Jonas Keller", "jonas.keller@example.com")
    entry = TimelineEntry.objects.filter(order=order, action="ticket.personalised").latest("id")
    assert entry.actor_kind == TimelineEntry.ActorKind.CUSTOMER

    other = _order_missing_details(exclude=(order.code,))
    page.goto(f"{live_server.url}{path}")
    assert other.code not in page.content()
