"""A customer merge locks the accounts and the moved orders, never their events' rows: two merges of accounts with
orders at the same events, or an event being edited meanwhile, don't wait on each other's event rows (and can't
deadlock on them, whichever order the orders' events come in)."""

import threading

import pytest
from django.db import connection, transaction

from guests.models import Customer
from guests.services import customers_merge
from orders.models import Order
from organiser_portal.models import Event, Membership
from tests.factories import CustomerFactory


@pytest.mark.django_db(transaction=True)
def test_a_merge_does_not_wait_for_a_locked_event_row(member, organisation, make_order, event):
    manager = member(Membership.Role.MANAGER)
    keep, merge = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation)
    order = make_order()
    Order.objects.filter(pk=order.pk).update(customer=merge)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            customers_merge(actor=manager, organisation=organisation, keep_id=keep.pk, merge_id=merge.pk)
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=event.pk)  # someone editing the event's settings
        thread.start()
        thread.join(timeout=10)
        finished_while_event_locked = not thread.is_alive()
    thread.join(timeout=30)
    assert finished_while_event_locked and outcome == [None]
    assert Order.objects.get(pk=order.pk).customer_id == keep.pk and not Customer.objects.filter(pk=merge.pk).exists()
