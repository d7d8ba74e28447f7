"""After an import: its page lists the orders it created (reference, order, contact, tickets, a link to each),
a page of them at a time, never another import's or another event's; the order page shows its external reference."""

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from orders import import_views
from orders.import_files import csv_write, file_read
from orders.imports import import_run_orders
from orders.models import Order
from tests.factories import EventFactory, TicketTypeFactory
from tests.orders.test_import import GOOD, create, csv_bytes, run_import
from tickets.models import PersonalDataField

pytestmark = pytest.mark.django_db


@pytest.fixture
def standing(event):
    return TicketTypeFactory(event=event, name="Standing", price=Decimal("40.00"), booking_fee=Decimal("2.00"))


@pytest.fixture
def vip(event):
    tt = TicketTypeFactory(event=event, name="VIP", price=Decimal("120.00"), requires_personal_data=True)
    PersonalDataField.objects.create(
        organisation=event.organisation, ticket_type=tt, key="company", label="Company", required=True
    )
    return tt


@pytest.fixture
def manager(member):
    return member("manager")


def text(response) -> str:
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", words)


def run_url(organisation, event, run) -> str:
    kwargs = {"org": organisation.slug, "event_id": event.public_id, "run_id": run.pk}
    return reverse("event_import_run", kwargs=kwargs)


def test_a_done_import_lists_its_orders_each_linked(client, manager, organisation, event, standing, vip):
    run = run_import(manager, create(manager, event, csv_bytes(*GOOD)))
    client.force_login(manager)
    response = client.get(run_url(organisation, event, run))
    page, body = text(response), response.content.decode()
    ada, grace = Order.objects.get(external_reference="WEB-1"), Order.objects.get(external_reference="WEB-2")
    assert "Imported orders" in page
    assert f"{ada.code} WEB-1 2 × Standing 1 × VIP Ada Lovelace ada@example.com" in page
    assert f"{grace.code} WEB-2 1 × Standing Grace Hopper grace@example.com" in page
    assert reverse("order_detail", kwargs={"org": organisation.slug, "code": ada.code}) in body
    # The htmx poll that sees the import finish swaps in the same list.
    status = text(client.get(run_url(organisation, event, run), headers={"HX-Request": "true"}))
    assert f"{grace.code} WEB-2 1 × Standing Grace Hopper" in status


def test_only_this_imports_orders_are_listed(manager, organisation, event, standing, vip, make_order):
    first = run_import(manager, create(manager, event, csv_bytes(GOOD[2])))
    second = run_import(manager, create(manager, event, csv_bytes(*GOOD[:2])))
    make_order()  # sold in the shop: no reference
    elsewhere = EventFactory(organisation=organisation)
    TicketTypeFactory(event=elsewhere, name="Standing")
    run_import(manager, create(manager, elsewhere, csv_bytes("WEB-9,Ida,ida@example.com,,Standing,1,,,,,")))
    assert [o.external_reference for o in import_run_orders(first)] == ["WEB-2"]
    assert [o.external_reference for o in import_run_orders(second)] == ["WEB-1"]
    assert Order.objects.filter(external_reference="WEB-9").exists()  # the other event's import did run


def test_a_large_import_is_listed_a_page_at_a_time(client, manager, organisation, event, standing, monkeypatch):
    monkeypatch.setattr(import_views, "ORDERS_PAGE", 2)
    rows = [f"WEB-{n},Guest {n},guest{n}@example.com,,Standing,1,,,,," for n in range(1, 6)]
    run = run_import(manager, create(manager, event, csv_bytes(*rows)))
    client.force_login(manager)
    url = run_url(organisation, event, run)
    first = text(client.get(url))
    assert "1–2 of 5, in the file's order" in first and "Guest 1 " in first and "Guest 3 " not in first
    assert "Next orders" in first and "Previous orders" not in first
    last = text(client.get(f"{url}?page=3"))
    assert "5–5 of 5" in last and "Guest 5 " in last and "Previous orders" in last and "Next orders" not in last
    for nonsense in ("0", "99", "x", "1" * 30, "-1", "²"):
        assert "1–2 of 5" in text(client.get(url, {"page": nonsense}))


def test_a_checked_import_lists_no_orders_yet(client, manager, organisation, event, standing, vip):
    run = create(manager, event, csv_bytes(*GOOD))
    client.force_login(manager)
    assert "Imported orders" not in text(client.get(run_url(organisation, event, run)))


def test_the_order_page_shows_the_external_reference(client, manager, organisation, event, standing, make_order):
    run_import(manager, create(manager, event, csv_bytes(GOOD[2])))
    imported, shop = Order.objects.get(external_reference="WEB-2"), make_order()
    client.force_login(manager)
    page = text(client.get(reverse("order_detail", kwargs={"org": organisation.slug, "code": imported.code})))
    assert "External reference WEB-2 imported: the order's number where it was sold" in page
    page = text(client.get(reverse("order_detail", kwargs={"org": organisation.slug, "code": shop.code})))
    assert "External reference" not in page


def test_the_templates_escaped_phone_imports_without_its_apostrophe():
    # The template and the error report write "'+44 …" so no spreadsheet reads a formula; the file uploaded back
    # as it is must give the number, not "'+44 …" on the order's contact.
    values = ["WEB-1", "+44 20 7946 0000", "=1+1", "'Ofa", "O'Brien", "-"]
    table = file_read("template.csv", csv_write([["reference", "phone", "a", "b", "c", "d"], values]).encode())
    assert table.rows == [values]
    assert file_read("orders.csv", b"reference,phone\nWEB-1,'+44 20 7946 0000\n").rows == [
        ["WEB-1", "+44 20 7946 0000"]
    ]
