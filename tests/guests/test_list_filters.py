"""The filters of an event's guest list and of the Orders list (guests/forms.py GuestFilterForm): a name found
by its words in any order and punctuation, an invalid value ignored alone and named, the wording of what they
say, and an empty list under a chosen region that leads to a search that shows the orders."""

import html
import re

import pytest
from django.urls import reverse

from guests.forms import GuestFilterForm
from organiser_portal.matching import QUERY_MAX_CHARS, QUERY_MAX_WORDS
from organiser_portal.models import Membership
from tests.factories import EventFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role

NAMES = ("Eva-Maria Zorbach", "Anna Müller", "Karl-Ernst Walter", "Eva Schmidt", "Maria Anna Berg", "Karl Walter")


@pytest.fixture
def guests(make_order, event):
    return {name: make_order(contact_name=name, contact_email=f"guest{n}@example.com") for n, name in enumerate(NAMES)}


@pytest.fixture(params=["event guest list", "orders list"])
def list_url(request, event):
    if request.param == "orders list":
        return reverse("orders", kwargs={"org": event.organisation.slug})
    return reverse("event_guests", kwargs={"org": event.organisation.slug, "event_id": event.public_id})


def listed(page) -> set[str]:
    text = html.unescape(page.content.decode())
    return {name for name in NAMES if f">{name}<" in text or f"{name}</" in text}


def box(page) -> str:
    """The value in the list's search box (not the header's)."""
    match = re.search(r'<input[^>]*id="id_q"[^>]*value="([^"]*)"', page.content.decode())
    assert match, "no search box"
    return html.unescape(match.group(1))


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("Eva Maria", {"Eva-Maria Zorbach"}),
        ("Muller Anna", {"Anna Müller"}),
        ("Müller, Anna", {"Anna Müller"}),
        ("Karl Ernst Walter", {"Karl-Ernst Walter"}),
        ("walter karl", {"Karl-Ernst Walter", "Karl Walter"}),
        ("Anna", {"Anna Müller", "Maria Anna Berg"}),
        ("guest2@example", {"Karl-Ernst Walter"}),  # the whole text inside the email address
        ("Eva Zorbach Schmidt", set()),  # every word must be in the name
    ],
)
def test_the_text_finds_every_word_of_a_name_in_any_order(client, member, guests, list_url, q, found):
    client.force_login(member(Role.VIEWER))
    page = client.get(list_url, {"q": q})
    assert page.status_code == 200
    assert listed(page) == found


def test_an_invalid_status_is_ignored_alone_and_named(client, member, guests, list_url):
    client.force_login(member(Role.VIEWER))
    page = client.get(list_url, {"q": "Muller", "status": "bogus"})
    assert page.status_code == 200
    assert listed(page) == {"Anna Müller"}  # the search still applies
    assert box(page) == "Muller"
    assert "Ignored “bogus”: not an order status." in html.unescape(page.content.decode())


def test_a_valid_filter_stays_beside_an_invalid_one(client, member, guests, list_url):
    client.force_login(member(Role.VIEWER))
    page = client.get(list_url, {"status": "refunded", "email_status": "nonsense", "sort": "sideways"})
    assert page.status_code == 200
    assert listed(page) == set()  # every order is paid: the status filter still applies
    text = html.unescape(page.content.decode())
    assert "Ignored “nonsense”: not an email status." in text and "Ignored “sideways”: not a sort order." in text


@pytest.mark.parametrize("typed", ["99999", "abc", "99999999999999999999999"])
def test_an_unknown_ticket_type_is_ignored_alone_and_named(client, member, guests, event, typed):
    other_type = TicketTypeFactory(event=EventFactory(organisation=event.organisation))
    client.force_login(member(Role.VIEWER))
    url = reverse("event_guests", kwargs={"org": event.organisation.slug, "event_id": event.public_id})
    for value in (typed, str(other_type.pk)):  # another event's ticket type is not this event's either
        page = client.get(url, {"q": "Eva", "ticket_type": value})
        assert page.status_code == 200
        assert listed(page) == {"Eva-Maria Zorbach", "Eva Schmidt"}
        assert f"Ignored “{value}”: not a ticket type of this event." in html.unescape(page.content.decode())


def test_no_notice_when_every_value_is_valid(client, member, guests, list_url):
    client.force_login(member(Role.VIEWER))
    page = client.get(list_url, {"q": "Anna", "status": "paid", "email_status": "", "sort": "oldest"})
    assert listed(page) == {"Anna Müller", "Maria Anna Berg"}
    assert "Ignored" not in page.content.decode() and "limited to" not in page.content.decode()


def test_a_long_search_text_searches_its_first_characters_and_says_so(client, member, guests, list_url):
    client.force_login(member(Role.VIEWER))
    q = "Zorbach " + "x" * 300
    page = client.get(list_url, {"q": q, "status": "bogus"})
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert f"The search text is limited to {QUERY_MAX_WORDS} words and {QUERY_MAX_CHARS} characters" in text
    assert "Ignored “bogus”" in text
    assert box(page) == q[:QUERY_MAX_CHARS]


def test_the_form_keeps_the_valid_filters():
    form = GuestFilterForm({"q": "  Anna   Müller ", "status": "bogus", "held": "on", "sort": "oldest"}, event=None)
    filters = form.filters()
    assert (filters.q, filters.status, filters.held, filters.sort) == ("Anna Müller", "", True, "oldest")
    assert form.notices() == ("Ignored “bogus”: not an order status.",)
    long = GuestFilterForm({"q": "a " * 300}, event=None)
    assert long.filters().q == " ".join(["a"] * QUERY_MAX_WORDS)
    assert long.notices()[0].startswith("The search text is limited to")
    assert GuestFilterForm(event=None).filters().q == ""  # unbound: no filters, no error


def test_the_search_box_says_what_it_takes(client, member, event, list_url):
    client.force_login(member(Role.VIEWER))
    page = client.get(list_url).content.decode()
    assert 'placeholder="Name, email, phone, order code or ticket ID"' in page


@pytest.mark.parametrize(
    ("params", "said", "unsaid"),
    [
        ({"q": "Nobody"}, "matches “Nobody”. Try the whole email address", "filters"),
        ({"status": "refunded"}, "matches these filters: Order status: Refunded. Clear a filter", "“"),
        (
            {"q": "Nobody", "held": "on"},
            "matches “Nobody” with these filters: Held for review. Clear a filter, or search",
            "Try the whole",
        ),
    ],
    ids=["search only", "filters only", "both"],
)
def test_the_orders_lists_empty_text_says_what_was_asked(client, member, guests, event, params, said, unsaid):
    client.force_login(member(Role.VIEWER))
    page = client.get(reverse("orders", kwargs={"org": event.organisation.slug}), params)
    row = re.search(r'<td colspan="8" class="py-3">(.*?)</td>', page.content.decode(), re.S)
    assert row, "no empty row"
    text = " ".join(html.unescape(row.group(1)).split())
    assert said in text and unsaid not in text


def test_an_empty_guest_list_under_a_region_leads_to_a_search_that_shows_the_orders(
    client, member, organisation, make_order
):
    north = RegionFactory(organisation=organisation, name="North")
    south = RegionFactory(organisation=organisation, name="South")
    north_fest = EventFactory(organisation=organisation, region=north, name="North Fest")
    south_fest = EventFactory(organisation=organisation, region=south, name="South Fest")
    make_order(event=north_fest, ticket_type=TicketTypeFactory(event=north_fest), contact_name="Gast Nord")
    make_order(event=south_fest, ticket_type=TicketTypeFactory(event=south_fest), contact_name="Gast Süd")
    client.force_login(member(Role.SUPPORT))
    region_url = reverse("region_choose", kwargs={"org": "festival"})
    assert client.post(region_url, {"region": north.pk}).status_code == 302

    guests_url = reverse("event_guests", kwargs={"org": "festival", "event_id": north_fest.public_id})
    text = html.unescape(client.get(guests_url, {"q": "Gast Sud"}).content.decode())
    assert "finds orders for “Gast Sud” outside North, the region you chose" in text
    # The button posts to the region choice, clearing it, and returns to the search of every event.
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', text, re.S)
    form = next(f for f in forms if "Search all regions" in f[1])
    assert form[0] == region_url
    next_url = re.search(r'name="next" value="([^"]+)"', form[1]).group(1)
    assert 'name="region" value=""' in form[1]
    back = client.post(region_url, {"region": "", "next": next_url})
    assert back.status_code == 302
    assert "Gast Süd" in client.get(back.url).content.decode()

    # An order the search under the region shows anyway gets the plain link.
    other_north = EventFactory(organisation=organisation, region=north, name="North Winter")
    make_order(event=other_north, ticket_type=TicketTypeFactory(event=other_north), contact_name="Gast Winter")
    assert client.post(region_url, {"region": north.pk}).status_code == 302
    text = html.unescape(client.get(guests_url, {"q": "Gast Winter"}).content.decode())
    assert "finds orders for “Gast Winter”: " in text and "Search all regions" not in text
