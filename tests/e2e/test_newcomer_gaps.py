"""What a newcomer missed, in a real browser: a finished import lists its orders and an imported order shows its
external reference; the box office asks the attendee details of tickets that need them; a guest checkout shows
no verification badge; the merge confirmation warns before deleting a verified, older account and swaps in one
click. Each page passes axe and fits a phone's 390 px."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import cast

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from guests.models import Customer
from orders.imports import import_run_create, import_run_execute, import_run_start
from orders.models import Order
from organiser_portal.models import Event, Membership
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory
from tickets.models import PersonalDataField

from .login import log_in
from .test_setup import PHONE, assert_fits_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    organisation = OrganisationFactory(name="Festival GmbH", slug="festival")
    event = cast(Event, EventFactory(organisation=organisation, name="Harbour Lights"))
    standing = TicketTypeFactory(event=event, name="Standing", price=Decimal("40.00"), booking_fee=Decimal("0"))
    vip = TicketTypeFactory(
        event=event, name="VIP", price=Decimal("120.00"), booking_fee=Decimal("0"), requires_personal_data=True
    )
    PersonalDataField.objects.create(
        organisation=organisation, ticket_type=vip, key="company", label="Company", required=True, position=0
    )
    manager = cast(Membership, MembershipFactory(organisation=organisation, role="manager")).user
    return organisation, event, standing, vip, manager


def shots(page: Page, screenshot_dir, name: str, what: str, assert_accessible) -> None:
    assert_accessible(page, what)
    page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / f"{name}-390.png"), full_page=True)
    assert_fits_a_phone(page, what)


def test_a_finished_import_lists_its_orders_and_an_order_shows_its_reference(
    live_server, page: Page, world, assert_accessible, screenshot_dir
):
    organisation, event, _standing, _vip, manager = world
    rows = [f"SHOP-{n},Guest Number {n},guest.number.{n}@example.com,,Standing,{1 + n % 2},,," for n in range(1, 8)]
    data = ("\n".join(["reference,name,email,phone,ticket_type,quantity,price,paid_at", *rows]) + "\n").encode()
    run = import_run_create(actor=manager, event=event, file_name="shop-orders.csv", data=data)
    import_run_start(actor=manager, run=run, send_tickets=False)
    import_run_execute(run.pk)
    log_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/o/{organisation.slug}/events/{event.public_id}/import/{run.pk}/")
    listing = page.get_by_role("table").filter(has_text="reference")
    expect(listing.get_by_role("row")).to_have_count(8)
    expect(listing).to_contain_text("Guest Number 7")
    shots(page, screenshot_dir, "import-done-orders", "the finished import", assert_accessible)

    order = Order.objects.get(external_reference="SHOP-3")
    page.get_by_role("link", name=order.code, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {order.code}"))).to_be_visible()
    expect(page.locator(".external-reference")).to_have_text("SHOP-3")
    # A guest checkout: no verification badge (it belongs to customer accounts).
    expect(page.locator("#contact")).to_contain_text("Guest checkout: no customer account")
    expect(page.locator("#contact")).not_to_contain_text("verified")
    shots(page, screenshot_dir, "import-order-reference", "an imported order", assert_accessible)


def test_the_box_office_asks_the_attendee_details(live_server, page: Page, world, assert_accessible, screenshot_dir):
    organisation, event, _standing, _vip, manager = world
    log_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/o/{organisation.slug}/events/{event.public_id}/orders/new/")
    page.get_by_label("VIP").fill("2")
    page.get_by_label("Name", exact=True).fill("Walk-in Guest")
    page.get_by_label("Email", exact=True).fill("walk-in@example.com")
    page.get_by_role("radio", name="Cash").check()
    page.get_by_role("button", name="Review order").click()

    ticket = page.get_by_role("group", name="Ticket 1 · VIP")
    ticket.get_by_label("Attendee name *").fill("Grace Hopper")
    ticket.get_by_label("Attendee email *").fill("grace@example")
    page.get_by_role("button", name="Create order · 240.00 EUR paid").click()
    expect(ticket.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(ticket.get_by_text("This field is required.")).to_be_visible()  # the company, once a ticket is started
    shots(page, screenshot_dir, "new-order-attendees", "the review with attendee details", assert_accessible)
    assert not Order.objects.exists()

    page.set_viewport_size({"width": 1440, "height": 900})
    ticket.get_by_label("Attendee email *").fill("grace@example.com")
    ticket.get_by_label("Company *").fill("Navy")
    page.get_by_role("button", name="Create order · 240.00 EUR paid").click()
    expect(page.get_by_role("status").filter(has_text="created and paid")).to_contain_text(
        "1 ticket still needs attendee details"
    )
    expect(page.locator("#personal-data-alert")).to_contain_text("1 ticket still needs attendee details")
    expect(page.locator("#timeline")).to_contain_text("Grace Hopper")
    page.screenshot(path=str(screenshot_dir / "box-office-attendee-saved.png"), full_page=True)
    given = Order.objects.get().tickets.get(attendee_name="Grace Hopper")
    assert (given.attendee_email, given.attendee_data, given.personal_data_missing) == (
        "grace@example.com",
        {"company": "Navy"},
        False,
    )


def test_the_merge_warns_before_deleting_a_verified_older_account(
    live_server, page: Page, world, assert_accessible, screenshot_dir
):
    organisation, _event, _standing, _vip, manager = world
    keep = cast(Customer, CustomerFactory(organisation=organisation, name="Anna Müller", email="anna.new@example.com"))
    older = cast(
        Customer,
        CustomerFactory(organisation=organisation, name="Anna Müller", email="anna@example.com", verified=True),
    )
    Customer.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=700))
    log_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/o/{organisation.slug}/customers/{keep.pk}/merge/?customer={older.pk}")
    warnings = page.locator("#merge-warnings")
    expect(warnings).to_contain_text("anna@example.com is verified and anna.new@example.com is not")
    expect(warnings).to_contain_text("anna@example.com is the older account")
    shots(page, screenshot_dir, "customer-merge-warning", "the merge confirmation", assert_accessible)

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Keep anna@example.com instead").click()
    expect(page.locator("#merge-warnings")).to_have_count(0)
    page.get_by_role("button", name="Move 0 orders to anna@example.com and delete anna.new@example.com").click()
    expect(page.get_by_role("status").first).to_contain_text("merged into this account")
    assert list(Customer.objects.values_list("email", "verified")) == [("anna@example.com", True)]
