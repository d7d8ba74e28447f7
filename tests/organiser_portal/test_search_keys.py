"""The search keys (name_key, the E.164 phone) are written with their source on every write path."""

import unicodedata

import pytest
from django.urls import reverse

from guests.models import Customer
from orders.models import Order
from orders.services import order_change_contact
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

E164 = "+4915123456789"


def test_order_create_writes_the_keys(make_order):
    order = make_order(contact_name="José Ramírez", contact_phone="0151 23456789")
    assert (order.name_key, order.contact_phone_e164) == ("jose ramirez", E164)


def test_a_national_number_is_read_in_the_events_country_else_the_organisations(organisation, make_order):
    austrian = EventFactory(organisation=organisation, country="AT")
    order = make_order(event=austrian, ticket_type=TicketTypeFactory(event=austrian), contact_phone="0664 1234567")
    assert order.contact_phone_e164 == "+436641234567"
    assert make_order(contact_phone="0664 1234567").contact_phone_e164 == "+496641234567"  # DE, the organisation's


def test_the_contact_change_writes_the_keys(member, make_order):
    order = make_order(contact_name="Anna Muller", contact_phone="")
    changed = order_change_contact(
        actor=member(Membership.Role.SUPPORT),
        order=order,
        name="Ånna Müller",
        email=order.contact_email,
        phone="+49 (0)151 23456789",
    )
    changed.refresh_from_db()
    assert (changed.name_key, changed.contact_phone_e164) == ("anna muller", E164)


def test_save_with_update_fields_adds_the_keys_of_a_source_it_names(make_order):
    order = make_order(contact_name="Anna")
    order.contact_name, order.contact_phone = "Zoë", "015123456789"
    order.save(update_fields=["contact_name", "contact_phone"])
    order.refresh_from_db()
    assert (order.name_key, order.contact_phone_e164) == ("zoe", E164)


def test_bulk_create_and_bulk_update_write_the_keys(organisation, event):
    (order,) = Order.objects.bulk_create(
        [
            Order(
                organisation=organisation,
                event=event,
                contact_name="王芳",
                contact_email="w@example.com",
                currency="EUR",
            )
        ]
    )
    (customer,) = Customer.objects.bulk_create(
        [
            Customer(
                organisation=organisation,
                name=unicodedata.normalize("NFD", "Lefèvre"),
                email="l@x.de",
                phone="0151-23456789",
            )
        ]
    )
    assert Order.objects.get(pk=order.pk).name_key == "王芳"
    assert Customer.objects.values_list("name_key", "phone_e164").get(pk=customer.pk) == ("lefevre", E164)
    customer.name = "김민준"
    Customer.objects.bulk_update([customer], ["name"])
    assert Customer.objects.get(pk=customer.pk).name_key == "김민준 김민 민준"


def test_a_customer_changed_in_admin_gets_its_keys(client, superuser, organisation):
    customer = CustomerFactory(organisation=organisation, name="Anna", email="a@example.com")
    client.force_login(superuser)
    url = reverse("admin:guests_customer_change", args=[customer.pk])
    data = {
        "organisation": organisation.pk,
        "email": customer.email,
        "name": "Łukasz Wiśniewski",
        "phone": "0049 151 23456789",
        "address": "",
    }
    assert client.post(url, data).status_code == 302
    customer.refresh_from_db()
    assert (customer.name_key, customer.phone_e164) == ("lukasz wisniewski", E164)
    found = client.get(reverse("admin:guests_customer_changelist"), {"q": "Lukasz Wisniewski"})
    assert list(found.context["cl"].result_list) == [customer]
