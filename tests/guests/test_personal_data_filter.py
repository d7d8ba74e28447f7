"""The "Personal data missing" filter of an event's guest list and of the Orders list: orders with a valid ticket
still lacking attendee details its type requires, found through the partial index, not the whole ticket table."""

import html

import pytest
from django.db import connection
from django.urls import reverse

from guests.forms import GuestFilterForm
from guests.selectors import GuestFilters, event_guest_orders
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.tickets.personal import personal_event, personal_order
from tickets.models import Ticket
from tickets.personalisation import AttendeeDetails, ticket_personalise

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def orders(make_order, member, organisation):
    summit = personal_event(organisation)
    agent = member(Role.SUPPORT)
    missing = personal_order(make_order, summit, quantity=1, contact_name="Mia Missing")
    complete = personal_order(make_order, summit, quantity=1, contact_name="Carl Complete")
    ticket = complete.tickets.get()
    ticket_personalise(
        actor=agent,
        order=complete,
        details={ticket.public_id: AttendeeDetails("Carl", "carl@example.com", {"shirt": "S", "born": ""})},
    )
    plain = make_order(event=summit, ticket_type=summit.ticket_types.get(name="Party add-on"), contact_name="Pia Plain")
    return summit, missing, complete, plain


def test_the_filter_keeps_the_orders_missing_details(client, member, organisation, orders):
    summit, missing, _complete, _plain = orders
    client.force_login(member(Role.VIEWER))
    for url in (
        reverse("event_guests", kwargs={"org": organisation.slug, "event_id": summit.public_id}),
        reverse("orders", kwargs={"org": organisation.slug}),
    ):
        everything = html.unescape(client.get(url).content.decode())
        assert all(name in everything for name in ("Mia Missing", "Carl Complete", "Pia Plain"))
        page = html.unescape(client.get(url, {"data_missing": "on"}).content.decode())
        assert "Mia Missing" in page and "Carl Complete" not in page and "Pia Plain" not in page
        assert 'id="id_data_missing" checked' in page


def test_an_invalid_ticket_missing_details_is_not_listed(member, organisation, orders):
    summit, missing, _complete, _plain = orders
    Ticket.objects.filter(order=missing).update(status=Ticket.Status.INVALID, invalid_reason="cancelled")
    access = access_for(member(Role.VIEWER), organisation)
    assert event_guest_orders(access, summit, GuestFilters(data_missing=True)).orders == []


def test_the_filter_is_named_among_the_active_ones():
    form = GuestFilterForm({"data_missing": "on"}, event=None)
    assert form.filters().data_missing and form.active_filters() == ("Personal data missing",)


def test_the_filter_reads_the_partial_index(member, organisation, orders):
    summit, *_rest = orders
    access = access_for(member(Role.VIEWER), organisation)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few test rows: ask what the planner can use
        page = event_guest_orders(access, summit, GuestFilters(data_missing=True))
        sql, params = Ticket.objects.filter(
            order_id=page.orders[0].pk, personal_data_missing=True, status="valid"
        ).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_data_missing" in plan
