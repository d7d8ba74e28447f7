"""The order status transition table: illegal moves are refused, every allowed move writes one timeline entry."""

import pytest
from django.db import transaction

from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.status import order_set_status

pytestmark = pytest.mark.django_db
Status = Order.Status
ALL_MOVES = [(a, b) for a in Status.values for b in Status.values if a != b]


def _order_in(make_order, status: str) -> Order:
    order = make_order(paid=False)
    Order.objects.filter(pk=order.pk).update(status=status)
    return Order.objects.get(pk=order.pk)


@pytest.mark.parametrize(("start", "target"), [m for m in ALL_MOVES if m[1] in Order.TRANSITIONS[m[0]]])
def test_every_allowed_move_writes_exactly_one_timeline_entry(make_order, start, target):
    order = _order_in(make_order, start)
    before = TimelineEntry.objects.filter(order=order).count()
    with transaction.atomic():
        order_set_status(order, target)
    order.refresh_from_db()
    assert order.status == target
    entries = TimelineEntry.objects.filter(order=order)
    assert entries.count() == before + 1
    assert entries.first().action == f"order.{target}"


@pytest.mark.parametrize(("start", "target"), [m for m in ALL_MOVES if m[1] not in Order.TRANSITIONS[m[0]]])
def test_every_illegal_move_is_refused_and_changes_nothing(make_order, start, target):
    order = _order_in(make_order, start)
    before = TimelineEntry.objects.filter(order=order).count()
    with pytest.raises(OrderActionError), transaction.atomic():
        order_set_status(order, target)
    order.refresh_from_db()
    assert order.status == start
    assert TimelineEntry.objects.filter(order=order).count() == before


def test_the_table_matches_the_design():
    assert Order.TRANSITIONS[Status.RESERVED] == {Status.PROCESSING_PAYMENT, Status.EXPIRED, Status.CANCELLED}
    assert Order.TRANSITIONS[Status.CONFIRMING_PAYMENT] == {Status.PAID, Status.EXPIRED}
    assert Order.TRANSITIONS[Status.PAID] == {Status.REFUNDED, Status.CANCELLED}
    for final in (Status.EXPIRED, Status.REFUNDED, Status.CANCELLED):
        assert not Order.TRANSITIONS[final]


def test_paid_and_cancelled_times_are_set_by_the_move(make_order):
    order = _order_in(make_order, Status.CONFIRMING_PAYMENT)
    with transaction.atomic():
        order_set_status(order, Status.PAID)
    assert order.paid_at is not None
    with transaction.atomic():
        order_set_status(order, Status.CANCELLED)
    assert order.cancelled_at is not None
