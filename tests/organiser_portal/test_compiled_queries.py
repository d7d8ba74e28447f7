"""CompiledQuery: the SQL compiled once answers like the ORM for any arguments, and refuses what it can't reuse;
switched off, or on another Django release, every fetch is the plain ORM."""

import threading
from pathlib import Path

import django
import pytest
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from orders.models import Order, Refund, TimelineEntry
from organiser_portal.compiled_queries import VERIFIED_DJANGO, CompiledQuery

pytestmark = pytest.mark.django_db


# The compiled path runs only on the verified release; elsewhere the last test below is the one that fails.
compiled_path = pytest.mark.skipif(
    django.VERSION[:2] != VERIFIED_DJANGO, reason="CompiledQuery runs the plain ORM on this Django release"
)


@pytest.fixture(autouse=True)
def compiled_queries_on(settings):
    """The tests of the compiled path run with it on, also in CI's pass with COMPILED_QUERIES=0."""
    settings.COMPILED_QUERIES = True


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


@compiled_path
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


@compiled_path
def test_values_list_rows_and_ordering_match_the_orm(make_order):
    order = make_order()
    entries = CompiledQuery(
        lambda order_id: TimelineEntry.objects.filter(order_id=order_id).values_list("action", "created_at")
    )
    expected = list(TimelineEntry.objects.filter(order=order).values_list("action", "created_at"))

    assert len(expected) > 1
    assert entries.fetch(order.pk) == expected
    assert entries.fetch(order.pk) == expected


@compiled_path
def test_an_argument_the_orm_transforms_runs_through_the_orm_each_time(make_order):
    order = make_order(contact_email="anna.mueller@example.com")
    by_fragment = CompiledQuery(lambda fragment: Order.objects.filter(contact_email__icontains=fragment))

    assert by_fragment.fetch("mueller") == [order]  # "%mueller%" is not the argument: nothing to reuse
    assert by_fragment.fetch("nobody") == []
    assert list(by_fragment._compiled.values()) == [None]


@compiled_path
def test_related_managers_and_other_argument_types_are_refused(make_order):
    order = make_order()
    with pytest.raises(ValueError, match="related manager"):
        CompiledQuery(lambda entry_id: order.timeline.filter(pk=entry_id)).fetch(1)
    with pytest.raises(TypeError):
        CompiledQuery(lambda held: Order.objects.filter(tickets_held=held)).fetch(True)


@compiled_path
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


class CountedBuild:
    """A queryset builder that counts its calls: a reused compilation doesn't build the queryset again."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, organisation_id, code):
        self.calls += 1
        return order_with_event(organisation_id, code)


@compiled_path
def test_switched_on_the_queryset_is_built_once_and_its_sql_reused(make_order):
    orders = [make_order(), make_order(contact_email="b@example.com")]
    build = CountedBuild()
    query = CompiledQuery(build)

    for order in orders:
        assert query.fetch(order.organisation_id, order.code) == [order]
    assert build.calls == 1
    assert list(query._compiled.values()) != [None]


def test_switched_off_every_fetch_is_the_plain_orm(settings, make_order):
    settings.COMPILED_QUERIES = False
    orders = [make_order(), make_order(contact_email="b@example.com")]
    build = CountedBuild()
    query = CompiledQuery(build)

    for order in orders:
        args = (order.organisation_id, order.code)
        assert executed_sql(query.fetch, *args) == executed_sql(order_with_event, *args)
        [fetched] = query.fetch(*args)
        assert fetched == order and fetched.contact_email == order.contact_email and fetched.has_refunds is False
    assert build.calls == 4
    assert query._compiled == {}


@pytest.mark.parametrize("version", [(5, 1, 9, "final", 0), (6, 0, 0, "final", 0)])
def test_on_another_django_release_every_fetch_is_the_plain_orm(monkeypatch, make_order, version):
    monkeypatch.setattr(django, "VERSION", version)
    order = make_order()
    build = CountedBuild()
    query = CompiledQuery(build)

    assert query.fetch(order.organisation_id, order.code) == [order]
    assert query.fetch(order.organisation_id, order.code) == [order]
    assert build.calls == 2
    assert query._compiled == {}


def test_this_django_is_the_verified_release():
    """Upgrading Django turns the shortcut off (the pages still work, a few ms of CPU slower): run this module's
    tests against the new release with VERIFIED_DJANGO moved to it, and keep the move if they pass."""
    assert django.VERSION[:2] == VERIFIED_DJANGO


def test_the_plain_orm_pass_knows_every_module_that_compiles_queries():
    """CI's second pass (Makefile, PLAIN_ORM_TESTS) reruns with COMPILED_QUERIES=0 only the tests of the modules
    that read through CompiledQuery: a new one needs its tests added there, and its name here."""
    root = Path(__file__).resolve().parents[2]
    apps = ("guests", "notifications", "orders", "organiser_portal", "setup", "tickets")
    users = {
        str(path.relative_to(root))
        for app in apps
        for path in (root / app).rglob("*.py")
        if "CompiledQuery(" in path.read_text(encoding="utf-8") and path.name != "compiled_queries.py"
    }
    assert users == {"orders/selectors.py", "organiser_portal/permissions.py"}
