"""Order reads are scoped to the access: organisation and regions."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from orders.selectors import order_detail, order_get, orders_visible, ticket_scans
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, MembershipFactory, RegionFactory, ScanFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def test_order_detail_collects_lines_tickets_and_email_status(member, make_order):
    order = make_order(quantity=3)
    detail = order_detail(access_for(member(Role.VIEWER), order.organisation), order.code)
    assert detail.order == order
    assert detail.quantity == 3 and len(detail.tickets) == 3 and detail.valid_ticket_count == 3
    assert [line.pk for line in detail.lines] == list(order.lines.values_list("pk", flat=True))
    assert detail.subtotal + detail.tax == order.total


def test_last_scan_is_the_newest(member, make_order):
    order = make_order()
    ticket = order.tickets.get()
    ScanFactory(ticket=ticket, access_area="Old")
    ScanFactory(ticket=ticket, access_area="New")
    detail = order_detail(access_for(member(Role.VIEWER), order.organisation), order.code)
    assert detail.tickets[0].last_scan_area == "New"


def test_every_scan_in_one_query_gives_each_tickets_newest_and_the_timeline(
    member, make_order, django_assert_num_queries
):
    from orders.selectors import _scans

    order = make_order(quantity=3)
    first, second, unscanned = order.tickets.all()
    ScanFactory(ticket=first, access_area="Old", scanned_at=timezone.now() - timedelta(hours=2))
    ScanFactory(ticket=first, access_area="Newest", result="denied", reason="already_used")
    ScanFactory(ticket=first, access_area="Middle", scanned_at=timezone.now() - timedelta(hours=1))
    same_time = timezone.now() - timedelta(minutes=5)
    ScanFactory(ticket=second, access_area="Tie, older id", scanned_at=same_time)
    ScanFactory(ticket=second, access_area="Tie, newer id", scanned_at=same_time)
    tickets = [first, second, unscanned]
    with django_assert_num_queries(1):
        entries = _scans(tickets)
    last = {t.pk: (t.last_scan_area, t.last_scan_result) for t in tickets}
    assert last == {
        first.pk: ("Newest", "denied"),
        second.pk: ("Tie, newer id", "admitted"),
        unscanned.pk: (None, None),
    }
    places = ["Newest", "Tie, newer id", "Tie, older id", "Middle", "Old"]
    assert [e.data["place"] for e in entries] == [f"{place} · Gate 1" for place in places]
    assert entries[0].sentence == f"Ticket {first.public_id} denied at Newest · Gate 1: already used"
    with django_assert_num_queries(0):
        assert _scans([]) == []

    detail = order_detail(access_for(member(Role.VIEWER), order.organisation), order.code)
    by_id = {t.pk: t for t in detail.tickets}
    assert by_id[first.pk].last_scan_result == "denied" and by_id[first.pk].last_scan_at is not None
    assert by_id[unscanned.pk].last_scan_at is None and by_id[unscanned.pk].last_scan_area is None


def test_other_organisations_order_is_404(make_order, other_organisation):
    order = make_order()
    stranger = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    access = access_for(stranger, other_organisation)
    with pytest.raises(Http404):
        order_get(access, order.code)
    assert not orders_visible(access).exists()


def test_region_limited_member_sees_only_their_regions(organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    north_event = EventFactory(organisation=organisation, region=north)
    south_event = EventFactory(organisation=organisation, region=south)
    north_order = make_order(event=north_event, ticket_type=TicketTypeFactory(event=north_event))
    south_order = make_order(event=south_event, ticket_type=TicketTypeFactory(event=south_event))
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[north]).user
    access = access_for(user, organisation)

    assert order_get(access, north_order.code) == north_order
    with pytest.raises(Http404):
        order_detail(access, south_order.code)
    with pytest.raises(Http404):
        ticket_scans(access, south_order.code, south_order.tickets.get().public_id)


def test_ticket_of_another_order_is_404(member, make_order):
    first, second = make_order(), make_order(contact_email="b@example.com")
    access = access_for(member(Role.VIEWER), first.organisation)
    with pytest.raises(Http404):
        ticket_scans(access, first.code, second.tickets.get().public_id)


def test_region_limited_member_does_not_see_orders_of_events_without_a_region(organisation, make_order):
    north = RegionFactory(organisation=organisation)
    order = make_order()  # the fixture's event has no region
    user = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[north]).user

    with pytest.raises(Http404):
        order_detail(access_for(user, organisation), order.code)
    everywhere = MembershipFactory(organisation=organisation, role=Role.SUPPORT).user
    assert order_detail(access_for(everywhere, organisation), order.code).order == order
