"""The refresh migrations (orders 0012, guests 0010) rewrite the search keys of the rows the later rules read
differently (apostrophes, invisible characters, "(0)" in a phone number), and only those."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from guests.models import Customer
from orders.models import Order
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def run(module: str) -> None:
    (operation,) = importlib.import_module(module).Migration.operations
    operation.code(None, SimpleNamespace(connection=connection))


def test_orders_read_differently_are_refreshed_and_no_other(make_order):
    apostrophe = make_order(contact_name="Seán O'Brien", contact_phone="+49 151 23456789")
    doubled_zero = make_order(contact_name="Karl Maier", contact_phone="+49 (0) 0980 332832")
    plain = make_order(contact_name="Anna Müller", contact_phone="+49 151 23456780")
    # The keys as the first backfill wrote them (QuerySet.update passes by the models' hook, as a migration did).
    Order.objects.filter(pk=apostrophe.pk).update(name_key="sean o'brien")
    Order.objects.filter(pk=doubled_zero.pk).update(contact_phone_e164="+490980332832")
    Order.objects.filter(pk=plain.pk).update(name_key="untouched")

    run("orders.migrations.0012_search_keys_refresh")

    keys = dict(Order.objects.values_list("pk", "name_key"))
    assert keys[apostrophe.pk] == "sean o'brien obrien"
    assert Order.objects.get(pk=doubled_zero.pk).contact_phone_e164 == "+49980332832"
    assert keys[plain.pk] == "untouched"


def test_customer_accounts_read_differently_are_refreshed(organisation):
    account = CustomerFactory(organisation=organisation, name="Zoë D’Arcy", phone="")
    Customer.objects.filter(pk=account.pk).update(name_key="zoe d'arcy")
    run("guests.migrations.0010_search_keys_refresh")
    assert Customer.objects.get(pk=account.pk).name_key == "zoe d'arcy darcy"
