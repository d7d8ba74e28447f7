"""The search's two forms give the same answers over the same rows.

guests.search has a PostgreSQL form (the words index, trigram similarity, the planner's estimate) and a
portable one (text anywhere, difflib) for the embedded SQLite database. `organiser_portal.db.is_postgres` is the switch
between them: these tests turn it off to run the portable form on PostgreSQL, against the very rows
the PostgreSQL form has just searched, and compare.
"""

import pytest
from django.db import connection

from guests.search import SearchResults, search
from guests.services import name_words_refresh
from organiser_portal.db import portable_sql
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="elsewhere only the portable form runs"),
]


@pytest.fixture
def access(member, organisation):
    return access_for(member(Membership.Role.VIEWER), organisation)


@pytest.fixture
def orders(organisation, make_order):
    """Orders by contact name, oldest first, and two customer accounts."""
    made = {
        name: make_order(contact_name=name, contact_email=email, contact_phone=phone)
        for name, email, phone in [
            ("Anna Müller", "anna.mueller@gmial.com", "+49 151 2345678"),
            ("Anna Schmidt", "anna.schmidt@example.com", ""),
            ("Marianna Klein", "m.klein@example.com", ""),
            ("Johanna Weber", "Johanna.Weber37@mail.example", "030 1234567"),
            ("Annabell Schmidt", "a.schmidt@example.com", ""),
            ("Paul Ottmüller", "paul@example.com", ""),
            ("Seán O'Brien", "sean@example.com", ""),
            ("Zoë Ågren", "zoe@example.com", ""),
            ("Jonas Leuschner", "jl@example.com", ""),
            ("Max Weber", "anna.weber370@example.com", ""),
        ]
    }
    CustomerFactory(
        organisation=organisation, name="Anna Müller", email="anna.mueller@gmial.com", phone="+491512345678"
    )
    CustomerFactory(organisation=organisation, name="Carla Bruni", email="carla@example.com", phone="0301234567")
    name_words_refresh()
    return made


def _both(access, query: str, **kwargs) -> tuple[SearchResults, SearchResults]:
    postgres = search(access, query, **kwargs)
    with portable_sql():
        portable = search(access, query, **kwargs)
    return postgres, portable


def _names(results: SearchResults) -> list[str]:
    return [order.contact_name for order in results.orders]


def _account_names(results: SearchResults) -> list[str]:
    return [account.name for account in results.customers]


SAME = [
    # emails: whole, a fragment, a fragment with a word with digits (PostgreSQL narrows by the words index)
    "anna.mueller@gmial.com",
    "ANNA.MUELLER@",
    "mueller@gmial",
    "nna.weber37@",
    "weber37@mail.example",
    # phones, as typed and as digits
    "+49 151 2345678",
    "030 1234567",
    "0301234567",
    # names: words in any order, the last one being typed, accents and odd characters as they are
    "Anna Müller",
    "müller anna",
    "anna mül",
    "ANNA-Müller",
    "schmidt",
    "weber",
    "o'brien",
    "ZOË ågr",
    "mueller",
    # a misspelt name (trigram similarity there, difflib here), text inside a word when no word starts with it
    "Leuscher",
    "gmial.com",
    "nobody",
]

# Where the forms differ, by design. The portable form's first step finds what was typed anywhere in
# a name or an address; PostgreSQL's finds words starting with it, then (only when there are none) the
# known words spelt like it, then (only when those find no one) the text inside a word.
DIFFERENT = {
    # Some word starts with what was typed: the portable form adds the names with it inside a word.
    "anna": ("portable", {"Marianna Klein", "Johanna Weber"}, set()),
    "müller": ("portable", {"Paul Ottmüller"}, set()),
    # No word starts with it but known words are spelt like it (MARIANNA, ANNA): PostgreSQL adds the
    # orders and accounts with those words; the portable form stops at the text inside "Marianna".
    "arianna": ("postgres", {"Anna Müller", "Anna Schmidt", "Max Weber"}, {"Anna Müller"}),
}


@pytest.mark.parametrize("query", SAME)
def test_both_forms_find_the_same_orders_and_accounts(access, orders, query):
    postgres, portable = _both(access, query)
    assert postgres.orders or postgres.customers or query == "nobody"  # an answer to compare, not two empty ones
    assert _names(postgres) == _names(portable)
    assert postgres.customers == portable.customers
    assert (postgres.kind, postgres.has_next) == (portable.kind, portable.has_next)


@pytest.mark.parametrize("query", DIFFERENT)
def test_where_the_forms_differ_one_adds_exactly_the_expected_rows(access, orders, query):
    wider, added_orders, added_accounts = DIFFERENT[query]
    postgres, portable = _both(access, query)
    more, fewer = (portable, postgres) if wider == "portable" else (postgres, portable)
    assert set(_names(more)) - set(_names(fewer)) == added_orders
    assert [name for name in _names(more) if name not in added_orders] == _names(fewer)  # in the same order
    assert set(_account_names(more)) - set(_account_names(fewer)) == added_accounts
    assert [name for name in _account_names(more) if name not in added_accounts] == _account_names(fewer)


def test_both_forms_jump_to_the_order_of_a_code_or_ticket_id(access, orders):
    anna = orders["Anna Müller"]
    for query in (anna.code.lower(), anna.tickets.get().public_id):
        postgres, portable = _both(access, query)
        assert postgres.jump_to == portable.jump_to == anna


def test_both_forms_page_alike(access, orders):
    pages = [_both(access, "schmidt", page=page, page_size=1) for page in (1, 2, 3)]
    for postgres, portable in pages:
        assert (_names(postgres), postgres.has_next) == (_names(portable), portable.has_next)
    assert [_names(postgres) for postgres, _ in pages] == [["Annabell Schmidt"], ["Anna Schmidt"], []]
