"""Issue 11: the search finds what the customer says: a phone number in any spelling, a name without its
accents or in another Unicode form, a two-character CJK name. Each test runs with PostgreSQL's queries and
with the portable ones SQLite runs (the `sql_form` fixture)."""

import unicodedata

import pytest
from django.urls import reverse

from guests.forms import GuestFilterForm
from guests.search import search
from guests.selectors import event_guest_orders
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import CustomerFactory, EventFactory, TicketTypeFactory
from tests.organiser_portal.test_phones import SPELLINGS

pytestmark = pytest.mark.django_db

# How the number was stored at checkout: the shop took it as the buyer typed it.
STORED = ("+49 151 23456789", "015123456789", "0049 151 23456789", "(0151) 234 56789", "+49 (0)151 23456789")


@pytest.fixture
def access(member, organisation):
    return access_for(member(Membership.Role.VIEWER), organisation)


def codes(results) -> set[str]:
    return {o.code for o in results.orders}


def test_every_phone_spelling_finds_numbers_stored_in_every_spelling(sql_form, access, organisation, make_order):
    orders = {make_order(contact_name=f"Buyer {i}", contact_phone=phone).code for i, phone in enumerate(STORED)}
    account = CustomerFactory(organisation=organisation, phone="0151/23456789")
    make_order(contact_name="Someone Else", contact_phone="+49 151 23456780")
    for typed in SPELLINGS:
        results = search(access, typed)
        assert results.kind == "phone", typed
        assert codes(results) == orders, typed
        assert [c.pk for c in results.customers] == [account.pk], typed


def test_a_number_that_does_not_parse_is_still_found_as_typed(sql_form, access, make_order):
    odd = make_order(contact_phone="+999 123 4567")  # no such country code: no E.164 form
    assert odd.contact_phone_e164 == ""
    assert codes(search(access, "+999 123 4567")) == {odd.code}


def test_a_number_written_in_an_events_country_is_found_as_typed_internationally(
    sql_form, access, organisation, make_order
):
    vienna = EventFactory(organisation=organisation, country="AT")
    order = make_order(event=vienna, ticket_type=TicketTypeFactory(event=vienna), contact_phone="0664 1234567")
    assert codes(search(access, "+43 664 1234567")) == {order.code}
    assert codes(search(access, "0664 1234567")) == {order.code}  # read in Austria as well as in Germany


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Anna Muller", "Anna Müller"),
        ("Jose Ramirez", "José Ramírez"),
        ("Lefevre", "Lefèvre"),
        ("lefèvre", unicodedata.normalize("NFD", "Lefèvre")),  # stored decomposed, typed precomposed
        (unicodedata.normalize("NFD", "Zoë Müller"), "Zoë Müller"),  # and the reverse
        ("O'Brien", "Seán O’Brien"),
        ("Brien", "Seán O'Brien"),
        ("Maria Garcia Lopez", "María García López"),
        ("Anna-Lena", "Anna-Lena Schröder-Weiß"),
        ("Schroder-Weiss", "Anna-Lena Schröder-Weiß"),
        ("王芳", "王芳"),
        ("민준", "김민준"),
        ("김민준", "김민준"),
        ("鈴木", "鈴木 一郎"),
        # Typed without the apostrophe, or pasted with invisible characters (review of issue 11).
        ("OBrien", "Siobhán O'Brien-D’Arcy"),
        ("Siobhan OBrien", "Siobhán O'Brien-D’Arcy"),
        ("Darcy", "Siobhán O'Brien-D’Arcy"),
        ("O Brien", "Siobhán O'Brien-D’Arcy"),
        ("Anna\u200bMüller", "Anna Müller"),
        ("Mül\u00adler", "Anna Müller"),
    ],
)
def test_names_as_people_type_them(sql_form, access, make_order, typed, stored):
    order = make_order(contact_name=stored)
    make_order(contact_name="Bert Brecht", contact_email="bert@example.com")
    results = search(access, typed)
    assert results.kind == "name"
    assert codes(results) == {order.code}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+33 6 18 02 21 06", "06 18 02 21 06"),  # a French mobile written nationally at a German event
        ("+44 20 7946 0907", "020 7946 0907"),
        ("+49 980 332832", "+49 (0) 0980 332832"),  # "(0)" and the trunk zero both written
        ("0980 332832", "+49 (0) 0980 332832"),
        ("+49 715 453201", "+49(0)0715453201"),
    ],
)
def test_numbers_stored_in_a_form_read_in_the_wrong_country_are_found(sql_form, access, make_order, typed, stored):
    order = make_order(contact_phone=stored)
    make_order(contact_name="Someone Else", contact_phone="+49 151 23456780")
    assert codes(search(access, typed)) == {order.code}


def test_a_customer_account_is_found_by_its_name_without_accents(sql_form, access, organisation):
    account = CustomerFactory(organisation=organisation, name="Søren Ødegård")
    assert [c.pk for c in search(access, "Soren Odegard").customers] == [account.pk]


def test_the_minimum_fits_the_script(access, make_order):
    assert search(access, "王芳").kind == "name" and search(access, "민준").kind == "name"
    assert search(access, "Li").too_short and search(access, "王").too_short


def guest_codes(access, event, q: str) -> set[str]:
    form = GuestFilterForm({"q": q}, event=event)
    return {o.code for o in event_guest_orders(access, event, form.filters()).orders}


def test_the_event_search_takes_ticket_ids_phones_and_names_as_typed(sql_form, access, event, make_order):
    anna = make_order(contact_name="Anna Müller", contact_phone="+49 151 23456789")
    kim = make_order(contact_name="김민준", contact_phone="0151 98765432")
    make_order(contact_name="Bert Brecht", contact_phone="")
    ticket = anna.tickets.get()
    assert guest_codes(access, event, ticket.public_id) == {anna.code}
    assert guest_codes(access, event, ticket.public_id.lower()) == {anna.code}
    assert guest_codes(access, event, "015123456789") == {anna.code}
    assert guest_codes(access, event, "+49 (0)151 98765432") == {kim.code}
    assert guest_codes(access, event, "anna muller") == {anna.code}
    assert guest_codes(access, event, "민준") == {kim.code}
    assert guest_codes(access, event, anna.code) == {anna.code}


def test_the_event_search_stays_within_its_event(sql_form, access, organisation, event, make_order):
    other = EventFactory(organisation=organisation)
    elsewhere = make_order(event=other, ticket_type=TicketTypeFactory(event=other), contact_phone="015123456789")
    assert guest_codes(access, event, "015123456789") == set()
    assert guest_codes(access, event, elsewhere.tickets.get().public_id) == set()


def test_the_too_short_hint_names_the_minimum_for_each_script(client, member, organisation, make_order):
    make_order(contact_name="王芳")
    client.force_login(member(Membership.Role.VIEWER))
    url = reverse("search", kwargs={"org": organisation.slug})
    assert "2 characters of a Chinese, Japanese or Korean name" in client.get(url, {"q": "Li"}).content.decode()
    assert "王芳" in client.get(url, {"q": "王芳"}).content.decode()
