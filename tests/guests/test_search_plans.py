"""The search's queries read through the indexes it was built on (PostgreSQL).

At a million orders the difference between the intended index and the next best plan is 5 ms against
180 ms (PERFORMANCE.md: `icontains` compiled to an expression the trigram index doesn't cover), and
nothing but speed tells them apart. So each kind of search runs here, its SQL is captured as it ran,
and PostgreSQL is asked for the plan: the intended index must be in it, and no sequential scan of the
big tables. In a nearly empty database a sequential scan is the cheapest plan, so the tests add a
few thousand orders, tickets and customer accounts, ANALYZE them and turn sequential scans off: a plan that
still scans has no index it can use.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import product

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guests import search as search_module
from guests.models import Customer, NameWord
from guests.search import search
from guests.services import name_words_refresh
from orders.models import Order, OrderLine
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import CustomerFactory
from tickets.models import Ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's"),
]

BIG_TABLES = {model._meta.db_table for model in (Order, Customer, Ticket)}
FIRST = ["Lena", "Paul", "Mia", "Jonas", "Emma", "Felix", "Hanna", "Lukas", "Sophie", "Max"]
# A thousand made-up surnames, so that a name is as rare among the rows as it is in a real organisation.
LAST = [
    a + b + c
    for a, b, c in product(
        ["Ber", "Hol", "Kra", "Lin", "Mar", "Ost", "Ral", "Sto", "Tan", "Wes"],
        ["ge", "ma", "ri", "no", "ta", "le", "bu", "si", "ko", "de"],
        ["mann", "ner", "ler", "berg", "feld", "hof", "rich", "ke", "wald", "stein"],
    )
]


@pytest.fixture
def access(member, organisation):
    return access_for(member(Membership.Role.VIEWER), organisation)


@pytest.fixture
def anna(organisation, event, ticket_type, make_order):
    """Anna's order and account among a few thousand others, with the planner's statistics current."""
    anna = make_order(
        contact_name="Anna Müller", contact_email="anna.weber37@gmial.com", contact_phone="+49 151 2345678"
    )
    CustomerFactory(
        organisation=organisation, name="Anna Müller", email="anna.weber37@gmial.com", phone="+491512345678"
    )
    make_order(contact_name="Jonas Leuschner", contact_email="jl@example.com")
    make_order(contact_name="김민준", contact_email="minjun@example.com")
    start = timezone.now() - timedelta(days=400)
    people = [
        (f"{FIRST[n % 10]} {LAST[n % 1000]}", f"{FIRST[n % 10]}.{LAST[n % 1000]}{n}@example.org") for n in range(3000)
    ]
    orders = Order.objects.bulk_create(
        Order(
            organisation=organisation,
            event=event,
            contact_name=name,
            contact_email=email,
            contact_phone=f"+4930{n:07d}",
            currency="EUR",
            created_at=start + timedelta(hours=n),
        )
        for n, (name, email) in enumerate(people)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(organisation=organisation, order=order, ticket_type=ticket_type, quantity=1, unit_price=10)
        for order in orders
    )
    Ticket.objects.bulk_create(
        Ticket(organisation=organisation, event=event, order=line.order, line=line, ticket_type=ticket_type)
        for line in lines
    )
    Customer.objects.bulk_create(
        Customer(organisation=organisation, name=name, email=email, phone=f"+4940{n:07d}")
        for n, (name, email) in enumerate(people)
    )
    name_words_refresh()
    tables = [model._meta.db_table for model in (Order, Customer, Ticket, NameWord)]
    with connection.cursor() as cur:
        # Rows added in bulk wait in a GIN index's pending list, which the planner prices as a scan of its
        # own; VACUUM would merge them into the index, but can't run inside the test's transaction.
        cur.execute(
            """SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
               WHERE a.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s)""",
            [tables],
        )
        for table in tables:
            cur.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cur.execute("SET LOCAL enable_seqscan = off")  # until the end of the test's transaction
    return anna


def _indexes(model: type[Model], definition: str) -> set[str]:
    """The names of `model`'s indexes whose definition contains `definition`: named by what they index,
    so that renaming an index or its table leaves the test as it is."""
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
        names = {name for name, indexdef in cur.fetchall() if definition in indexdef}
    assert names, f"no index on {model._meta.db_table} like {definition!r}"
    return names


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plans(run: Callable[[], object]) -> tuple[set[str], list[str]]:
    """The indexes the plans of the queries `run` sends read, and the sequential scans of big tables in them."""
    with CaptureQueriesContext(connection) as captured:
        run()
    used: set[str] = set()
    scans: list[str] = []
    for query in captured.captured_queries:
        if not query["sql"].startswith(("SELECT", "WITH")):  # the planner's estimate (EXPLAIN) reads no rows
            continue
        with connection.cursor() as cur:
            cur.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            ((plan,),) = cur.fetchone()
        for node in _nodes(plan["Plan"]):
            used |= {node["Index Name"]} if "Index Name" in node else set()
            if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES:
                scans.append(f"{node['Relation Name']} in {query['sql']}")
    return used, scans


ORDER_NAME_WORDS = (Order, "gin (search_words)")
GUEST_NAME_WORDS = (Customer, "gin (search_words)")


def _cases(anna: Order) -> dict[str, tuple[str, list[tuple[type[Model], str]]]]:
    """Each kind of query, and the indexes (by what they index) its queries must read."""
    return {
        "order code": (anna.code.lower(), [(Order, "(upper((code)::text))")]),
        "ticket ID": (anna.tickets.get().public_id, [(Ticket, "(public_id"), (Order, "(id)")]),
        "exact email": (
            "Anna.Weber37@gmial.com",
            [(Order, "(lower((contact_email)::text))"), (Customer, "(lower((email)::text)")],
        ),
        "email fragment": (
            "weber37@gmial",
            [(Order, "(upper((contact_email)::text) gin_trgm_ops)"), (Customer, "(upper((email)::text) gin_trgm_ops)")],
        ),
        "email fragment with a word with digits": ("nna.weber37@", [ORDER_NAME_WORDS, GUEST_NAME_WORDS]),
        "phone": ("+49 151 2345678", [(Order, "(contact_phone)"), (Customer, "(phone)")]),
        "phone in another spelling": (
            "0151 2345678",
            [(Order, "(organisation_id, contact_phone_e164)"), (Customer, "(organisation_id, phone_e164)")],
        ),
        "full name without accents": (
            "Anna Muller",
            [(Order, "(organisation_id, name_key, created_at DESC, id DESC)"), ORDER_NAME_WORDS, GUEST_NAME_WORDS],
        ),
        "two-character name": ("민준", [ORDER_NAME_WORDS, GUEST_NAME_WORDS]),
        "surname": ("müller", [ORDER_NAME_WORDS, GUEST_NAME_WORDS]),
        "full name": (
            "Anna Müller",
            [
                (Order, "(organisation_id, name_key, created_at DESC, id DESC)"),
                (Customer, "(organisation_id, name_key, id DESC)"),
                ORDER_NAME_WORDS,
                GUEST_NAME_WORDS,
            ],
        ),
        # The known words spelt like it come from NameWord, a few hundred to a few thousand words an
        # organisation: through its trigram index or its organisation's, whichever the planner prefers.
        "misspelt name": ("Leuscher", [ORDER_NAME_WORDS, GUEST_NAME_WORDS]),
        "text inside a word": (
            "gmial",
            [
                (Order, "((name_key)::text) gin_trgm_ops)"),
                (Order, "(upper((contact_email)::text) gin_trgm_ops)"),
                (Customer, "((name_key)::text) gin_trgm_ops)"),
                (Customer, "(upper((email)::text) gin_trgm_ops)"),
            ],
        ),
    }


def test_every_kind_of_search_reads_through_its_indexes(access, anna):
    problems = []
    for kind, (query, expected) in _cases(anna).items():
        used, scans = _plans(lambda query=query: search(access, query))
        problems += [f"{kind}: a sequential scan of {scan}" for scan in scans]
        problems += [
            f"{kind}: no index like {definition!r} among {sorted(used)}"
            for model, definition in expected
            if not used & _indexes(model, definition)
        ]
    assert not problems, "\n".join(problems)


def test_a_common_name_walks_the_newest_rows_through_the_sort_index(access, anna, monkeypatch):
    monkeypatch.setattr(search_module, "COLLECT_BELOW", 0)  # as if "Anna" were as common as at a million orders
    used, scans = _plans(lambda: search(access, "anna"))
    assert not scans
    assert used & _indexes(Order, "(organisation_id, created_at DESC, id DESC)")
    assert used & _indexes(Customer, "(id)")  # accounts newest first: the primary key
