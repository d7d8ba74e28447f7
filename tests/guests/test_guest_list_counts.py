"""The guest list's match count: capped, and skipped under a text search (which would read the whole event)."""

import pytest
from django.http import Http404

from guests.selectors import GuestFilters, event_guest_orders
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, MembershipFactory, RegionFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def _count_queries(queries) -> int:
    return sum(1 for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)"))


def test_a_text_search_is_not_counted_and_says_more_than_a_page(member, make_order, event, django_assert_num_queries):
    for i in range(3):
        make_order(contact_name=f"Schmidt {i}", contact_email=f"s{i}@example.com")
    make_order(contact_name="Other Person", contact_email="o@example.com")
    access = access_for(member(Role.VIEWER), event.organisation)

    with django_assert_num_queries(2) as queries:  # the page and its ticket counts, no COUNT
        first = event_guest_orders(access, event, GuestFilters(q="schmidt"), page_size=2)
    assert _count_queries(queries) == 0
    assert len(first.orders) == 2 and first.next_cursor
    assert first.count_capped and first.shown_count == 2  # "More than 2"

    second = event_guest_orders(access, event, GuestFilters(q="schmidt"), after=first.next_cursor, page_size=2)
    assert len(second.orders) == 1 and second.prev_cursor and not second.next_cursor
    assert second.count_capped and second.shown_count == 2  # still more than a page in all

    whole = event_guest_orders(access, event, GuestFilters(q="schmidt"), page_size=5)
    assert not whole.count_capped and whole.shown_count == 3  # one page: the exact number


def test_filters_without_text_are_counted_exactly(member, make_order, event):
    bounced = [make_order(contact_email=f"b{i}@example.com") for i in range(3)]
    make_order(contact_email="fine@example.com")
    Order.objects.filter(pk__in=[o.pk for o in bounced]).update(email_status="bounced")
    access = access_for(member(Role.VIEWER), event.organisation)

    page = event_guest_orders(access, event, GuestFilters(email_status="bounced"), page_size=2)
    assert page.shown_count == 3 and not page.count_capped
    assert {o.pk for o in page.orders} <= {o.pk for o in bounced}


def test_page_shows_more_than_n_for_a_search_and_the_count_otherwise(client, member, make_order, event):
    for i in range(3):
        make_order(contact_name=f"Weber {i}", contact_email=f"w{i}@example.com")
    client.force_login(member(Role.VIEWER))
    url = f"/o/{event.organisation.slug}/events/{event.public_id}/guests/"
    assert "3 orders" in client.get(url).content.decode()
    assert "3 orders match" in client.get(url, {"q": "weber"}).content.decode()


def test_another_organisations_or_regions_event_is_404(member, organisation, other_organisation):
    access = access_for(member(Role.OWNER), organisation)
    with pytest.raises(Http404):
        event_guest_orders(access, EventFactory(organisation=other_organisation), GuestFilters())
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    limited = access_for(
        MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north]).user, organisation
    )
    assert (
        event_guest_orders(limited, EventFactory(organisation=organisation, region=north), GuestFilters()).orders == []
    )
    with pytest.raises(Http404):
        event_guest_orders(limited, EventFactory(organisation=organisation, region=south), GuestFilters())


@pytest.mark.parametrize(("found", "words"), [(1, "1 order matches"), (2, "2 orders match")])
@pytest.mark.parametrize("listing", ["guest list", "orders list"])
def test_the_match_count_agrees_with_its_number(client, member, make_order, event, found, words, listing):
    for i in range(found):
        make_order(contact_name=f"Weber {i}", contact_email=f"w{i}@example.com")
    make_order(contact_name="Other Person", contact_email="o@example.com")
    client.force_login(member(Role.VIEWER))
    slug = event.organisation.slug
    url = f"/o/{slug}/events/{event.public_id}/guests/" if listing == "guest list" else f"/o/{slug}/orders/"
    html = client.get(url, {"q": "weber"}).content.decode()
    assert words in html
    assert ("1 order match<" not in html) and ("1 orders" not in html)
