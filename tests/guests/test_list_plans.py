"""The Orders and Customers lists read through the indexes they were built on (PostgreSQL).

At a million orders a list walked through its index answers in a few ms whatever the page; one that sorts
or counts the organisation's rows takes hundreds (measured on the scale data: bench/NOTES.md). So each
list's queries run here, over a few thousand rows with the planner's statistics current and sequential
scans switched off, and the plan must read the intended index (named by what it indexes) and no big
table sequentially.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guests.models import Customer
from guests.selectors import GuestFilters, customers_list, orders_list
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's"),
]

BIG_TABLES = {Order._meta.db_table, Customer._meta.db_table}
STATUSES = ["paid"] * 8 + ["refunded", "cancelled"]
EMAIL_STATUSES = ["delivered"] * 18 + ["bounced", "deferred"]


@pytest.fixture
def access(organisation, other_organisation, member):
    start = timezone.now() - timedelta(days=300)
    events = [EventFactory(organisation=organisation) for _ in range(20)]
    Order.objects.bulk_create(
        Order(
            organisation=organisation,
            event=events[n % 20],
            contact_name=f"Guest {n} Berg{n % 700}",
            contact_email=f"guest{n}@example.org",
            currency="EUR",
            status=STATUSES[n % 10],
            email_status=EMAIL_STATUSES[n % 20],
            tickets_held=n % 97 == 0,
            created_at=start + timedelta(hours=n),
        )
        for n in range(4000)
    )
    # Another organisation's accounts outnumber ours, and are newer: walking every account newest first
    # would read them all before ours.
    Customer.objects.bulk_create(
        Customer(organisation=organisation, name=f"Kunde {n}", email=f"kunde{n}@example.org") for n in range(300)
    )
    Customer.objects.bulk_create(
        Customer(organisation=other_organisation, name=f"Other {n}", email=f"other{n}@example.org") for n in range(5000)
    )
    with connection.cursor() as cur:
        # Rows added in bulk wait in a GIN index's pending list, which the planner prices as a scan of its own.
        cur.execute(
            """SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
               WHERE a.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s)""",
            [list(BIG_TABLES)],
        )
        for table in BIG_TABLES:
            cur.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cur.execute("SET LOCAL enable_seqscan = off")  # until the end of the test's transaction
    return access_for(member(Membership.Role.VIEWER), organisation)


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plans(run: Callable[[], object]) -> tuple[set[str], list[str]]:
    """The index definitions the queries `run` sends read, and the sequential scans of big tables in them."""
    with CaptureQueriesContext(connection) as captured:
        run()
    used: set[str] = set()
    scans: list[str] = []
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(BIG_TABLES)])
        definitions = dict(cur.fetchall())
        for query in captured.captured_queries:
            cur.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            ((plan,),) = cur.fetchone()
            for node in _nodes(plan["Plan"]):
                if "Index Name" in node:
                    used.add(definitions.get(node["Index Name"], node["Index Name"]))
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES:
                    scans.append(query["sql"])
    return used, scans


def _reads(used: set[str], definition: str) -> bool:
    return any(definition in indexdef for indexdef in used)


ORG_NEWEST = "(organisation_id, created_at DESC, id DESC)"
NAME_TRIGRAMS = "(((name_key)::text) gin_trgm_ops)"  # the folded name (organiser_portal.matching)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (GuestFilters(), ORG_NEWEST),
        (GuestFilters(sort="oldest"), ORG_NEWEST),
        (GuestFilters(status="refunded"), "(organisation_id, status, created_at DESC, id DESC)"),
        (GuestFilters(email_status="bounced"), "(organisation_id, email_status, created_at DESC, id DESC)"),
        (GuestFilters(held=True), f"{ORG_NEWEST} WHERE tickets_held"),
        (GuestFilters(q="berg123"), NAME_TRIGRAMS),
        # Each word of a name is a range of the trigram index: the order of the words doesn't matter.
        (GuestFilters(q="Berg123 Guest"), NAME_TRIGRAMS),
    ],
    ids=["newest", "oldest", "status", "email status", "held", "rare text", "two words"],
)
def test_the_orders_list_reads_its_index(access, filters, index):
    first = orders_list(access, filters)
    assert first.orders, "the filter should match some of the rows"
    used, scans = _plans(lambda: orders_list(access, filters, after=first.next_cursor or None))
    assert not scans, scans
    assert _reads(used, index), sorted(used)


def test_the_customers_list_reads_its_index_on_every_page(access):
    first = customers_list(access)
    used, scans = _plans(lambda: customers_list(access, after=first.next_cursor))
    assert not scans, scans
    assert _reads(used, "(organisation_id, id DESC)"), sorted(used)
