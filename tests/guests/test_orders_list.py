"""The Orders list ("Ticketing → Orders"): every order the user lists across events, newest first, the guest
list's filters and keyset paging, scoped through Access."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guests.selectors import GuestFilters, orders_list
from orders.models import Order
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def orders_url(slug: str = "festival") -> str:
    return reverse("orders", kwargs={"org": slug})


@pytest.fixture
def two_events(organisation, make_order):
    """Orders at two events, created an hour apart, alternating events: newest is "Guest 5"."""
    now = timezone.now()
    first = EventFactory(organisation=organisation, name="Spring Gala")
    second = EventFactory(organisation=organisation, name="Autumn Ball")
    orders = []
    for n in range(6):
        event = first if n % 2 else second
        order = make_order(
            event=event,
            ticket_type=TicketTypeFactory(event=event),
            contact_name=f"Guest {n}",
            contact_email=f"guest{n}@example.com",
        )
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(hours=6 - n))
        orders.append(Order.objects.get(pk=order.pk))
    return orders


def test_every_event_newest_first_with_its_event(organisation, member, two_events):
    access = access_for(member(Role.VIEWER), organisation)
    page = orders_list(access, GuestFilters())
    assert [o.contact_name for o in page.orders] == [f"Guest {n}" for n in range(5, -1, -1)]
    assert {o.event.name for o in page.orders} == {"Spring Gala", "Autumn Ball"}
    assert page.shown_count == 6 and not page.count_capped


def test_keyset_pages_reach_every_order_once_and_come_back(organisation, member, two_events):
    access = access_for(member(Role.VIEWER), organisation)
    seen, after = [], None
    while True:
        page = orders_list(access, GuestFilters(), after=after, page_size=4)
        seen += [o.pk for o in page.orders]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [o.pk for o in reversed(two_events)]
    back = orders_list(access, GuestFilters(), before=page.prev_cursor, page_size=4)
    assert [o.pk for o in back.orders] == seen[:4]


def test_the_guest_lists_filters_apply(organisation, member, two_events):
    access = access_for(member(Role.VIEWER), organisation)
    Order.objects.filter(pk=two_events[1].pk).update(email_status="bounced")
    Order.objects.filter(pk=two_events[2].pk).update(tickets_held=True)
    Order.objects.filter(pk=two_events[3].pk).update(status="cancelled")

    def names(**filters) -> list[str]:
        return [o.contact_name for o in orders_list(access, GuestFilters(**filters)).orders]

    assert names(email_status="bounced") == ["Guest 1"]
    assert names(held=True) == ["Guest 2"]
    assert names(status="cancelled") == ["Guest 3"]
    assert names(q="guest4@") == ["Guest 4"]
    assert names(q=two_events[0].code.lower()) == ["Guest 0"]
    assert names(sort="oldest")[:2] == ["Guest 0", "Guest 1"]


def test_the_count_never_reads_past_its_cap(organisation, member, two_events):
    access = access_for(member(Role.VIEWER), organisation)
    with CaptureQueriesContext(connection) as captured:
        page = orders_list(access, GuestFilters(), count_cap=3)
    assert page.count_capped and page.shown_count == 3
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts)


def test_the_page_shows_the_filters_rows_and_pages(client, member, two_events):
    client.force_login(member(Role.SUPPORT))
    response = client.get(orders_url(), {"status": "paid"})
    assert response.status_code == 200
    text = response.content.decode()
    for label in (
        "Search orders",
        "Order status",
        "Email status",
        "Held for review",
        "Autumn Ball",
        two_events[5].code,
    ):
        assert label in text, label
    assert "Ticket type" not in text  # ticket types are an event's
    guests = reverse("event_guests", kwargs={"org": "festival", "event_id": two_events[5].event.public_id})
    assert f'href="{guests}"' in text


def test_htmx_answers_with_the_table_alone(client, member, two_events):
    client.force_login(member(Role.VIEWER))
    response = client.get(orders_url(), {"q": "guest3"}, headers={"HX-Request": "true", "HX-Target": "order-table"})
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="order-table">') and "Guest 3" in text and "Guest 2" not in text


def test_the_page_costs_a_fixed_number_of_queries(client, member, two_events, django_assert_max_num_queries):
    client.force_login(member(Role.VIEWER))
    client.get(orders_url())
    with django_assert_max_num_queries(6):  # session, user, membership, count, page, ticket counts
        client.get(orders_url())


def test_another_organisations_orders_are_never_listed_and_its_list_is_a_404(
    client, member, two_events, other_organisation, make_order
):
    foreign = EventFactory(organisation=other_organisation)
    make_order(event=foreign, ticket_type=TicketTypeFactory(event=foreign), contact_name="Foreign Guest")
    client.force_login(member(Role.OWNER))
    assert "Foreign Guest" not in client.get(orders_url()).content.decode()
    assert client.get(orders_url("other")).status_code == 404


def test_a_region_limited_member_lists_only_their_regions(client, organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    for name, region in (("Nord Guest", north), ("Sued Guest", south), ("Regionless Guest", None)):
        event = EventFactory(organisation=organisation, region=region)
        make_order(event=event, ticket_type=TicketTypeFactory(event=event), contact_name=name)
    client.force_login(MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north]).user)
    text = client.get(orders_url()).content.decode()
    assert "Nord Guest" in text and "Sued Guest" not in text and "Regionless Guest" not in text


@pytest.mark.parametrize(
    "cursor", ["garbage", "2026-01-01T00:00:00~0", "2026-01-01T00:00:00~5", "x~99999999999999999999"]
)
def test_a_cursor_no_page_wrote_is_a_first_page(client, member, two_events, cursor):
    client.force_login(member(Role.VIEWER))
    response = client.get(orders_url(), {"after": cursor})
    assert response.status_code == 200 and two_events[5].code in response.content.decode()


def test_the_header_links_to_orders_and_customers(client, member, two_events):
    client.force_login(member(Role.VIEWER))
    text = client.get(reverse("my_events", kwargs={"org": "festival"})).content.decode()
    assert f'href="{orders_url()}"' in text and 'title="Ticketing → Orders">Orders</a>' in text
    assert f'href="{reverse("customers", kwargs={"org": "festival"})}"' in text
    active = client.get(orders_url()).content.decode()
    assert f'href="{orders_url()}" aria-current="page"' in active
