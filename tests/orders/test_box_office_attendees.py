"""Box-office orders for ticket types that ask for personal data: the review asks each ticket's attendee details
with the personalisation form's fields and checks, what is given is saved with the sale (a timeline entry per
ticket), a ticket left blank stays "missing personal data" and the page says so, a refused value writes nothing."""

import html
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from orders.box_office import PaidAtBoxOffice, box_office_order_create
from orders.models import Order, TimelineEntry
from orders.services import LineRequest
from organiser_portal.models import Membership
from tests.factories import TicketTypeFactory
from tickets.models import PersonalDataField, Ticket
from tickets.personalisation import AttendeeDetails, PersonalisationError, ticket_personalise_at_sale

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal


def text(response) -> str:
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", words)


@pytest.fixture
def standing(event):
    return TicketTypeFactory(event=event, name="Standing", price=D("40.00"), booking_fee=D("0"), capacity=None)


@pytest.fixture
def vip(event):
    tt = TicketTypeFactory(event=event, name="VIP", price=D("120.00"), booking_fee=D("0"), requires_personal_data=True)
    PersonalDataField.objects.create(
        organisation=event.organisation, ticket_type=tt, key="company", label="Company", required=True, position=0
    )
    PersonalDataField.objects.create(
        organisation=event.organisation,
        ticket_type=tt,
        key="shirt",
        label="T-shirt size",
        kind=PersonalDataField.Kind.CHOICE,
        choices=["S", "M", "L"],
        position=1,
    )
    return tt


@pytest.fixture
def new_url(organisation, event):
    return reverse("order_new", kwargs={"org": organisation.slug, "event_id": event.public_id})


def filled(standing, vip, **changes) -> dict:
    data = {
        "idempotency_key": "key-1",
        "step": "review",
        f"quantity_{standing.pk}": "1",
        f"quantity_{vip.pk}": "2",
        "contact_name": "Ada Lovelace",
        "contact_email": "ada@example.com",
        "contact_phone": "",
        "customer_email": "",
        "payment": "paid",
        "method": "Cash",
        "reference": "",
        "note": "",
    }
    return {**data, **changes}


def attendee(vip, number: int, name="", email="", company="", shirt="") -> dict:
    prefix = f"ticket-{vip.pk}n{number}-"
    return {f"{prefix}name": name, f"{prefix}email": email, f"{prefix}company": company, f"{prefix}shirt": shirt}


def test_the_review_asks_each_ticket_of_a_type_needing_personal_data(client, member, event, standing, vip, new_url):
    client.force_login(member(Role.SUPPORT))
    review = client.post(new_url, filled(standing, vip))
    page = text(review)
    assert "Attendee details" in page and "2 tickets ask for the attendee's details" in page
    assert "Ticket 1 · VIP" in page and "Ticket 2 · VIP" in page and "· Standing" not in page
    # Personalisation's blocks, numbered: the tickets have no IDs yet, so nothing is "missing" so far.
    assert 'id="attendee-1"' in review.content.decode() and 'id="attendee-2"' in review.content.decode()
    assert "Details missing" not in page
    assert "Attendee name *" in page and "Company *" in page and "T-shirt size" in page
    assert Order.objects.count() == 0


def test_the_details_given_are_saved_with_the_sale_and_a_blank_ticket_stays_missing(
    client, member, event, standing, vip, new_url
):
    client.force_login(member(Role.SUPPORT))
    post = {
        **filled(standing, vip, step="confirm"),
        **attendee(vip, 1, "Grace Hopper", "grace@example.com", "Navy", "M"),
        **attendee(vip, 2),  # left blank: filled in later
    }
    done = client.post(new_url, post, follow=True)
    order = Order.objects.get()
    assert "1 ticket still needs attendee details: fill them in with “Open personalisation”." in text(done)
    given, blank = order.tickets.filter(ticket_type=vip).order_by("pk")
    assert (given.attendee_name, given.attendee_email, given.attendee_data) == (
        "Grace Hopper",
        "grace@example.com",
        {"company": "Navy", "shirt": "M"},
    )
    assert given.personal_data_missing is False
    assert (blank.attendee_name, blank.personal_data_missing) == ("", True)
    assert order.tickets.get(ticket_type=standing).personal_data_missing is False
    entry = TimelineEntry.objects.get(order=order, action="ticket.personalised")
    assert entry.data["ticket"] == given.public_id and "Grace Hopper" in entry.data["changes"]


def test_a_started_block_needs_its_required_details_and_nothing_is_written(
    client, member, event, standing, vip, new_url
):
    client.force_login(member(Role.SUPPORT))
    post = {
        **filled(standing, vip, step="confirm"),
        **attendee(vip, 1, "Grace Hopper", "grace@", "", "XXL"),
        **attendee(vip, 2),
    }
    response = client.post(new_url, post)
    page = text(response)
    assert response.status_code == 200 and "Confirm the order" in page  # the review again, with the errors
    assert "Enter a valid email address." in page and "This field is required." in page
    assert "Select a valid choice." in page
    assert 'value="Grace Hopper"' in response.content.decode()
    assert Order.objects.count() == Ticket.objects.count() == 0


def test_every_ticket_left_blank_is_as_before(client, member, event, standing, vip, new_url):
    client.force_login(member(Role.SUPPORT))
    done = client.post(new_url, filled(standing, vip, step="confirm"), follow=True)
    order = Order.objects.get()
    assert "2 tickets still need attendee details" in text(done)
    assert order.tickets.filter(personal_data_missing=True).count() == 2
    assert not TimelineEntry.objects.filter(order=order, action="ticket.personalised").exists()


def test_no_type_asking_for_personal_data_asks_nothing(client, member, event, standing, new_url):
    client.force_login(member(Role.SUPPORT))
    page = text(client.post(new_url, filled(standing, standing)))
    assert "Confirm the order" in page and "Attendee details" not in page


def sell(actor, event, vip, attendees):
    return box_office_order_create(
        actor=actor,
        event=event,
        lines=[LineRequest(vip, 2)],
        contact_name="Ada Lovelace",
        contact_email="ada@example.com",
        payment=PaidAtBoxOffice("Cash"),
        idempotency_key=uuid.uuid4().hex,
        attendees=attendees,
    )


def test_the_service_checks_the_details_again_and_writes_nothing_on_refusal(member, event, vip):
    agent = member(Role.SUPPORT)
    bad = AttendeeDetails("Grace Hopper", "not-an-address", {"company": "Navy"})
    with pytest.raises(PersonalisationError) as refused:
        sell(agent, event, vip, {vip.pk: [bad, None]})
    assert list(refused.value.errors.values()) == [{"email": "Enter a valid email address."}]
    assert Order.objects.count() == Ticket.objects.count() == 0


def test_details_are_taken_at_the_door_after_the_freeze(member, event, vip):
    event.personal_data_frozen_days = 7
    event.starts_at = timezone.now() + timedelta(hours=2)
    event.save()
    agent = member(Role.SUPPORT)  # may not change frozen details, but gives them with the sale
    good = AttendeeDetails("Grace Hopper", "grace@example.com", {"company": "Navy"})
    order = sell(agent, event, vip, {vip.pk: [None, good]})
    first, second = order.tickets.order_by("pk")
    assert (first.personal_data_missing, second.personal_data_missing) == (True, False)
    assert second.attendee_name == "Grace Hopper"


def test_details_at_sale_need_the_right_to_create_orders(member, event, vip):
    order = sell(member(Role.SUPPORT), event, vip, {vip.pk: [None, None]})
    good = AttendeeDetails("Grace Hopper", "grace@example.com", {"company": "Navy"})
    ticket = order.tickets.order_by("pk").first()
    with pytest.raises(PermissionDenied):
        ticket_personalise_at_sale(actor=member(Role.VIEWER), order=order, details={ticket.public_id: good})
    ticket.refresh_from_db()
    assert (ticket.personal_data_missing, ticket.attendee_name) == (True, "")
