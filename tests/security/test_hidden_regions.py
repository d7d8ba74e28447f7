"""What a region-limited member must not learn about the other regions (the attack on the session-6 features):
a customer account whose orders are all elsewhere can't be linked through the box office nor named by "Create
customer account", and the suppression list shows only the addresses of their regions' orders."""

from decimal import Decimal

import pytest
from django.urls import reverse

from guests.errors import CustomerAccountError
from guests.services import order_customer_create
from notifications.models import Suppression
from orders.box_office import PaidAtBoxOffice, box_office_order_create
from orders.errors import OrderActionError
from orders.models import Order
from orders.services import LineRequest
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def two_regions(organisation, make_order):
    """An account with an order in the North only, and a South event with a guest-checkout order."""
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    north_event = EventFactory(organisation=organisation, region=north)
    south_event = EventFactory(organisation=organisation, region=south)
    north_type = TicketTypeFactory(event=north_event, price=Decimal("10.00"))
    south_type = TicketTypeFactory(event=south_event, price=Decimal("10.00"))
    hidden = CustomerFactory(organisation=organisation, name="Pénélope Mace", email="penelope@example.com")
    make_order(event=north_event, ticket_type=north_type, customer=hidden, contact_email=hidden.email)
    guest = make_order(event=south_event, ticket_type=south_type, contact_email="walkin@example.com")
    return {
        "north": north,
        "south": south,
        "south_event": south_event,
        "south_type": south_type,
        "hidden": hidden,
        "guest": guest,
    }


def test_the_box_office_cant_link_an_account_of_another_region(two_regions, member):
    south_manager = member(Role.MANAGER, regions=[two_regions["south"]])
    with pytest.raises(OrderActionError, match="No customer account has the email penelope@example.com"):
        box_office_order_create(
            actor=south_manager,
            event=two_regions["south_event"],
            lines=[LineRequest(two_regions["south_type"], 1)],
            contact_name="Walk In",
            contact_email="walkin@example.com",
            customer_email="penelope@example.com",
            payment=PaidAtBoxOffice("Cash"),
            idempotency_key="hidden-account",
        )
    assert not Order.objects.filter(customer=two_regions["hidden"], event=two_regions["south_event"]).exists()


def test_create_customer_account_doesnt_name_an_account_the_member_cant_see(two_regions, member):
    south_agent = member(Role.SUPPORT, regions=[two_regions["south"]])
    with pytest.raises(CustomerAccountError) as refusal:
        order_customer_create(
            actor=south_agent, order=two_regions["guest"], name="Walk In", email="penelope@example.com"
        )
    assert "Pénélope" not in str(refusal.value) and refusal.value.existing is None
    assert "regions you don't see" in str(refusal.value)
    everyone = member(Role.SUPPORT)
    with pytest.raises(CustomerAccountError, match="Pénélope Mace") as named:
        order_customer_create(actor=everyone, order=two_regions["guest"], name="Walk In", email="penelope@example.com")
    assert named.value.existing == two_regions["hidden"]


def test_the_suppression_list_shows_a_region_limited_member_their_regions_only(two_regions, member, client):
    north_order = Order.objects.get(customer=two_regions["hidden"])
    Suppression.objects.create(
        organisation=north_order.organisation,
        address="penelope@example.com",
        reason="bounced",
        source_message=north_order.messages.get(),
    )
    url = reverse("suppressions", kwargs={"org": north_order.organisation.slug})
    client.force_login(member(Role.SUPPORT, regions=[two_regions["south"]]))
    assert "penelope@example.com" not in client.get(url).content.decode()
    client.force_login(member(Role.SUPPORT, regions=[two_regions["north"]]))
    assert "penelope@example.com" in client.get(url).content.decode()
