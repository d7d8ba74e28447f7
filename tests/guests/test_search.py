"""The one search box: finds by every field, ranks the best match first, never leaks across organisations or regions."""

import pytest
from django.db import connection
from django.urls import reverse

from guests.search import search
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, GuestFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def access(member, organisation):
    return access_for(member(Role.VIEWER), organisation)


@pytest.fixture
def anna(make_order):
    return make_order(
        contact_name="Anna Müller", contact_email="anna.mueller@gmial.com", contact_phone="+49 151 2345678"
    )


def codes(results) -> list[str]:
    return [o.code for o in results.orders]


def test_finds_by_name_substring_case_insensitive(access, anna, make_order):
    make_order(contact_name="Bert Brecht", contact_email="bert@example.com")
    results = search(access, "müller")
    assert results.kind == "name"
    assert codes(results) == [anna.code]


def test_finds_by_email_exact_prefix_and_substring(access, anna):
    for query in ("anna.mueller@gmial.com", "ANNA.MUELLER@", "mueller@gmial"):
        assert codes(search(access, query)) == [anna.code], query


def test_finds_a_fragment_of_an_email_without_the_at_sign(access, anna):
    assert codes(search(access, "gmial.com")) == [anna.code]


def test_finds_by_phone_as_typed_or_as_digits(access, anna):
    assert codes(search(access, "+49 151 2345678")) == [anna.code]
    assert search(access, "+49 151 2345678").kind == "phone"


def test_exact_order_code_and_ticket_id_jump_to_the_order(access, anna):
    assert search(access, anna.code.lower()).jump_to == anna
    ticket = anna.tickets.get()
    assert search(access, ticket.public_id).jump_to == anna


def test_exact_email_ranks_before_a_longer_match(access, make_order):
    longer = make_order(contact_name="X", contact_email="xanna@example.com")
    exact = make_order(contact_name="Y", contact_email="anna@example.com")
    assert codes(search(access, "anna@example.com"))[0] == exact.code
    assert set(codes(search(access, "anna@example.com"))) == {exact.code, longer.code}


def test_name_ranks_exact_then_prefix_then_substring(access, make_order):
    inner = make_order(contact_name="Marianna Klein", contact_email="m@example.com")
    prefix = make_order(contact_name="Anna Schmidt", contact_email="s@example.com")
    exact = make_order(contact_name="Anna", contact_email="a@example.com")
    assert codes(search(access, "anna")) == [exact.code, prefix.code, inner.code]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="typo tolerance needs pg_trgm")
def test_tolerates_a_typo_in_the_name_on_postgresql(access, anna):
    assert anna.code in codes(search(access, "Ana Müler"))


def test_finds_customer_accounts(access, organisation):
    guest = GuestFactory(organisation=organisation, name="Carla Bruni", email="carla@example.com", phone="0301234567")
    assert search(access, "bruni").guests == [guest]
    assert search(access, "carla@example.com").guests == [guest]
    assert search(access, "0301234567").guests == [guest]


def test_paginates_without_counting(access, make_order):
    for n in range(5):
        make_order(contact_name=f"Paula {n}", contact_email=f"paula{n}@example.com")
    first = search(access, "paula", page_size=2)
    third = search(access, "paula", page=3, page_size=2)
    assert len(first.orders) == 2 and first.has_next
    assert len(third.orders) == 1 and not third.has_next


def test_too_short_query_asks_for_more(access, anna):
    results = search(access, "an")
    assert results.too_short and not results.orders


def test_never_returns_another_organisations_orders_or_guests(anna, other_organisation):
    other_event = EventFactory(organisation=other_organisation)
    GuestFactory(organisation=other_organisation, name="Anna Müller", email="anna.mueller@gmial.com")
    stranger = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    access = access_for(stranger, other_organisation)
    for query in ("Anna Müller", "anna.mueller@gmial.com", "+49 151 2345678", anna.code, anna.tickets.get().public_id):
        results = search(access, query)
        assert results.orders == [] and results.jump_to is None, query
        assert all(g.organisation_id == other_organisation.pk for g in results.guests)
    assert other_event.orders.count() == 0


def test_never_returns_orders_from_a_region_the_member_may_not_see(organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    south_event = EventFactory(organisation=organisation, region=south)
    south_order = make_order(
        event=south_event, ticket_type=TicketTypeFactory(event=south_event), contact_email="south@example.com"
    )
    guest = GuestFactory(organisation=organisation, name="Southern Guest", email="south@example.com")
    Order.objects.filter(pk=south_order.pk).update(guest=guest)
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[north]).user
    access = access_for(user, organisation)
    for query in ("south@example.com", "Anna Müller", south_order.code, "Southern"):
        results = search(access, query)
        assert results.orders == [] and results.guests == [] and results.jump_to is None, query


def test_search_page_redirects_on_exact_code_and_renders_results_otherwise(client, member, anna):
    client.force_login(member(Role.SUPPORT))
    url = reverse("search", kwargs={"org": anna.organisation.slug})

    assert client.get(url, {"q": anna.code}).url == reverse(
        "order_detail", kwargs={"org": anna.organisation.slug, "code": anna.code}
    )
    page = client.get(url, {"q": "gmial"}).content.decode()
    assert anna.code in page and "Customer accounts" not in page
    partial = client.get(url, {"q": "gmial"}, headers={"HX-Request": "true"}).content.decode()
    assert anna.code in partial and "<html" not in partial and 'id="search-results"' in partial


def test_search_page_says_no_order_means_no_purchase(client, member, organisation):
    client.force_login(member(Role.SUPPORT))
    page = client.get(reverse("search", kwargs={"org": organisation.slug}), {"q": "nobody@nowhere.example"})
    assert "No order means the purchase did not go through" in page.content.decode()
