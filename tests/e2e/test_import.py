"""Importing orders in a real browser: the sample file with one bad row shows its problem; the fixed file is
imported with the progress bar (which survives a reload); an imported order opens with its timeline entry."""

from decimal import Decimal
from typing import cast

import pytest
from playwright.sync_api import FilePayload, Page, expect

from orders import imports
from orders.models import ImportRun, Order
from organiser_portal.models import Event, Membership
from tests.factories import EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory

from .login import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = "reference,name,email,phone,ticket_type,quantity,price,paid_at"
ROWS = [
    "SHOP-1,Ada Lovelace,ada@example.com,+49 30 1234567,Standing,2,35.50,2026-05-01 18:30",
    "SHOP-2,Grace Hopper,grace@example,,Standing,1,,",
    "SHOP-3,Alan Turing,alan@example.com,,Standing,1,,",
]


def csv_file(rows: list[str]) -> FilePayload:
    return {"name": "shop-orders.csv", "mimeType": "text/csv", "buffer": "\n".join([HEADER, *rows]).encode()}


@pytest.fixture
def queued_not_sent(monkeypatch):
    """No worker here: the confirmed run waits (queued) until the test runs the task's work itself."""
    monkeypatch.setattr(imports, "_send_task", lambda run_id: None)


def test_import_a_file_fix_its_bad_row_and_open_an_imported_order(
    live_server, page: Page, queued_not_sent, assert_accessible, screenshot_dir
):
    organisation = OrganisationFactory(name="Festival GmbH", slug="festival")
    event = cast(Event, EventFactory(organisation=organisation, name="Harbour Lights"))
    TicketTypeFactory(event=event, name="Standing", price=Decimal("40.00"), booking_fee=Decimal("2.00"))
    membership = cast(Membership, MembershipFactory(organisation=organisation, role="manager"))
    log_in(page, live_server, membership.user.username)

    page.get_by_role("link", name="Harbour Lights").first.click()
    page.get_by_role("link", name="Import orders").click()
    expect(page.get_by_role("heading", name="Import orders · Harbour Lights")).to_be_visible()
    assert_accessible(page, "Import orders")

    page.get_by_label("Order file (CSV or Excel .xlsx)").set_input_files(csv_file(ROWS))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("1 row problem")
    problems = page.get_by_role("table").filter(has_text="Problem")
    expect(problems).to_contain_text("grace@example")
    expect(problems).to_contain_text("not a domain on the internet")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "import-preview-problem.png"), full_page=True)
    assert_accessible(page, "the preview with a problem")

    page.get_by_role("link", name="← Import orders").click()
    fixed = [row.replace("grace@example,", "grace@example.com,") for row in ROWS]
    page.get_by_label("Order file (CSV or Excel .xlsx)").set_input_files(csv_file(fixed))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Ready: 3 paid orders with 4 tickets will be created")).to_be_visible()
    page.get_by_label("Email the tickets to the buyers now").uncheck()
    page.get_by_role("button", name="Import 3 orders").click()

    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    expect(page.get_by_text("Waiting to start: 0 of 3 orders")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "import-progress.png"), full_page=True)
    page.reload()  # the progress survives a reload: it is the run's row
    expect(page.get_by_role("progressbar")).to_be_visible()

    run = ImportRun.objects.get(status="queued")
    imports.import_run_execute(run.pk)  # what the worker does
    expect(page.get_by_role("status")).to_contain_text("Imported 3 orders with 4 tickets", timeout=10_000)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "import-done.png"), full_page=True)

    page.get_by_role("link", name="Open the guest list").click()
    ada = Order.objects.get(event=event, external_reference="SHOP-1")
    page.get_by_role("link", name=ada.code).click()
    expect(page.get_by_text("Order imported from shop-orders.csv (import")).to_contain_text("tickets held for review")
    expect(page.get_by_text("Paid", exact=True).first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "import-order.png"), full_page=True)
