"""CompiledQuery: the SQL compiled once answers like the ORM for any arguments, and refuses what it can't reuse."""

import threading

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from orders.models import Order, Refund, TimelineEntry
from organiser_portal.compiled_queries import CompiledQuery

pytestmark = pytest.mark.django_db


def executed_sql(fetch, *args) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        list(fetch(*args))
    return [q["sql"] for q in captured.captured_queries]


def order_with_event(organisation_id, code):
    return (
        Order.objects.filter(organisation_id=organisation_id, code=code)
        .select_related("event", "event__region", "customer")
        .annotate(has_refunds=Exists(Refund.objects.filter(order=OuterRef("pk"))))
    )


def test_reused_sql_is_the_orms_sql_for_every_arguments(make_order):
    orders = [make_order(), make_order(contact_email="b@example.com")]
    query = CompiledQuery(order_with_event)

    for order in orders:  # the first call compiles with markers, the second reuses that SQL
        args = (order.organisation_id, order.code)
        assert executed_sql(query.fetch, *args) == executed_sql(order_with_event, *args)
        [fetched] = query.fetch(*args)
        assert fetched == order and fetched.contact_email == order.contact_email
        assert fetched.event.name == order.event.name and fetched.has_refunds is False
    assert query.fetch(orders[0].organisation_id, "NO-SUCH") == []


def test_values_list_rows_and_ordering_match_the_orm(make_order):
    order = make_order()
    entries = CompiledQuery(
        lambda order_id: TimelineEntry.objects.filter(order_id=order_id).values_list("action", "created_at")
    )
    expected = list(TimelineEntry.objects.filter(order=order).values_list("action", "created_at"))

    assert len(expected) > 1
    assert entries.fetch(order.pk) == expected
    assert entries.fetch(order.pk) == expected


def test_an_argument_the_orm_transforms_runs_through_the_orm_each_time(make_order):
    order = make_order(contact_email="anna.mueller@example.com")
    by_fragment = CompiledQuery(lambda fragment: Order.objects.filter(contact_email__icontains=fragment))

    assert by_fragment.fetch("mueller") == [order]  # "%mueller%" is not the argument: nothing to reuse
    assert by_fragment.fetch("nobody") == []
    assert list(by_fragment._compiled.values()) == [None]


def test_related_managers_and_other_argument_types_are_refused(make_order):
    order = make_order()
    with pytest.raises(ValueError, match="related manager"):
        CompiledQuery(lambda entry_id: order.timeline.filter(pk=entry_id)).fetch(1)
    with pytest.raises(TypeError):
        CompiledQuery(lambda held: Order.objects.filter(tickets_held=held)).fetch(True)


@pytest.mark.django_db(transaction=True)
def test_sql_compiled_in_one_thread_runs_on_another_threads_connection(make_order):
    order = make_order()
    query = CompiledQuery(lambda order_id: Order.objects.filter(pk=order_id))
    assert query.fetch(order.pk) == [order]
    found = []

    def fetch_and_close() -> None:  # as a gunicorn thread serves a request on its own connection
        try:
            found.extend(query.fetch(order.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=fetch_and_close)
    thread.start()
    thread.join()
    assert found == [order]
