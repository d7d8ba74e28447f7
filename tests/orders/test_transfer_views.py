"""A ticket row's actions on the order page: Transfer, Cancel transfer, Reissue. The row's menu (enabled, or
disabled with the reason), each page with and without htmx, and who may open it (viewer: 403 with the role's
reason; another organisation or region: 404)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.services import ticket_transfer
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.models import Ticket, TicketReplacement

pytestmark = pytest.mark.django_db
Role = Membership.Role
HTMX = {"HX-Request": "true"}


def url(name: str, order: Order, ticket: Ticket | None = None) -> str:
    kwargs = {"org": order.organisation.slug, "code": order.code}
    if ticket is not None:
        kwargs["ticket_id"] = ticket.public_id
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def support(member):
    return member(Role.SUPPORT)


@pytest.fixture
def agent_client(client, support):
    client.force_login(support)
    return client


@pytest.fixture
def order(make_order):
    return make_order(quantity=2)


def first_ticket(order: Order) -> Ticket:
    return order.tickets.order_by("id")[0]


def test_each_ticket_row_offers_transfer_and_reissue(agent_client, order):
    page = agent_client.get(url("order_detail", order)).content.decode()
    for ticket in order.tickets.all():
        assert f'Ticket actions<span class="visually-hidden"> for {ticket.public_id}' in page
        assert f'hx-get="{url("ticket_transfer", order, ticket)}" hx-target="#action-dialog-body"' in page
        assert f'href="{url("ticket_reissue", order, ticket)}"' in page


def test_a_viewer_sees_the_row_actions_disabled_with_the_role_reason(client, member, order):
    client.force_login(member(Role.VIEWER))
    page = client.get(url("order_detail", order)).content.decode()
    assert url("ticket_transfer", order, first_ticket(order)) not in page
    assert page.count("Your role (Viewer) can&#x27;t transfer or reissue tickets") == 4  # 2 tickets × 2 actions


def test_a_used_ticket_shows_why_it_cant_be_transferred(agent_client, order):
    used = first_ticket(order)
    Ticket.objects.filter(pk=used.pk).update(used_at=timezone.now())
    page = agent_client.get(url("order_detail", order)).content.decode()
    assert url("ticket_transfer", order, used) not in page
    assert f"Ticket {used.public_id} has been used at the door: it can&#x27;t be transferred" in page
    response = agent_client.get(url("ticket_transfer", order, used))
    assert response.status_code == 200
    html = response.content.decode()
    assert "it can&#x27;t be transferred" in html and "<form" not in html.split('id="ticket-transfer"')[1]


def test_a_transfer_through_the_page_without_javascript(agent_client, order):
    ticket = first_ticket(order)
    page = agent_client.get(url("ticket_transfer", order, ticket)).content.decode()
    assert "<html" in page and "Transfer ticket " + ticket.public_id in page and "hx-post" not in page
    form = {"name": "Ben Okafor", "email": "ben@example.com", "idempotency_key": "k1"}

    response = agent_client.post(url("ticket_transfer", order, ticket), form)
    assert response.status_code == 302 and response["Location"] == url("order_detail", order)
    again = agent_client.post(url("ticket_transfer", order, ticket), form)  # a double submit
    assert again.status_code == 302
    transfer = TicketReplacement.objects.get()
    page = agent_client.get(url("order_detail", order)).content.decode()
    assert f"new ticket {transfer.new_ticket.public_id} queued for ben@example.com" in page
    assert "Item transfer created" in page and "Invalid · transferred" in page
    assert f'href="{url("ticket_transfer_cancel", order, transfer.new_ticket)}"' in page
    assert order.tickets.count() == 3


def test_a_form_error_changes_nothing(agent_client, order):
    ticket = first_ticket(order)
    response = agent_client.post(
        url("ticket_transfer", order, ticket), {"name": "Ben", "email": "ben@", "idempotency_key": "k"}, headers=HTMX
    )
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    assert not TicketReplacement.objects.exists()


def test_a_transfer_and_its_cancellation_in_place(agent_client, support, order):
    ticket = first_ticket(order)
    partial = agent_client.get(url("ticket_transfer", order, ticket), headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<section class="card action-dialog"') and "<html" not in partial
    response = agent_client.post(
        url("ticket_transfer", order, ticket),
        {"name": "Ben Okafor", "email": "ben@example.com", "idempotency_key": "k1"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'id="tickets" hx-swap-oob="true"' in html and 'id="timeline" hx-swap-oob="true"' in html
    assert "Item transfer created" in html
    new = TicketReplacement.objects.get().new_ticket

    cancel_url = url("ticket_transfer_cancel", order, new)
    assert (
        f"Ticket {new.public_id} was issued to Ben Okafor"
        in agent_client.get(cancel_url, headers=HTMX).content.decode()
    )
    html = agent_client.post(cancel_url, {"idempotency_key": "c1"}, headers=HTMX).content.decode()
    assert "Item transfer cancelled" in html and "Invalid · transfer cancelled" in html
    assert agent_client.post(cancel_url, {"idempotency_key": "c1"}).status_code == 302  # a double submit: done already
    ticket.refresh_from_db()
    assert ticket.is_valid and order.timeline.filter(action="ticket.transfer_cancelled").count() == 1


def test_cancel_transfer_is_404_for_a_ticket_no_transfer_issued(agent_client, order):
    assert agent_client.get(url("ticket_transfer_cancel", order, first_ticket(order))).status_code == 404


def test_a_used_new_ticket_shows_why_its_transfer_cant_be_cancelled(agent_client, support, order):
    new = ticket_transfer(actor=support, ticket=first_ticket(order), name="Ben", email="ben@example.com").new_ticket
    Ticket.objects.filter(pk=new.pk).update(used_at=timezone.now())
    page = agent_client.get(url("order_detail", order)).content.decode()
    reason = f"The new ticket {new.public_id} has been used at the door: the transfer can&#x27;t be cancelled"
    assert reason in page and f'href="{url("ticket_transfer_cancel", order, new)}"' not in page
    assert reason in agent_client.get(url("ticket_transfer_cancel", order, new)).content.decode()


def test_a_reissue_through_the_page(agent_client, order):
    ticket = first_ticket(order)
    page = agent_client.get(url("ticket_reissue", order, ticket)).content.decode()
    assert "Email the new ticket to its holder" in page and "One email to anna@example.com" in page
    response = agent_client.post(
        url("ticket_reissue", order, ticket), {"send_email": "on", "idempotency_key": "r1"}, headers=HTMX
    )
    new = TicketReplacement.objects.get(kind="reissue").new_ticket
    html = response.content.decode()
    assert f"Ticket {ticket.public_id} reissued as {new.public_id} and queued for anna@example.com." in html
    assert "Invalid · reissued" in html
    assert order.messages.filter(kind="ticket_reissue", recipient="anna@example.com").count() == 1


@pytest.mark.parametrize("name", ["ticket_transfer", "ticket_reissue"])
def test_viewer_is_refused_with_the_reason_and_nothing_changes(client, member, order, name):
    client.force_login(member(Role.VIEWER))
    ticket = first_ticket(order)
    response = client.get(url(name, order, ticket))
    assert response.status_code == 403
    assert "Your role (Viewer) can&#x27;t transfer or reissue tickets" in response.content.decode()
    form = {"name": "Ben", "email": "ben@example.com", "send_email": "on", "idempotency_key": "k"}
    assert client.post(url(name, order, ticket), form).status_code == 403
    assert not TicketReplacement.objects.exists()


@pytest.mark.parametrize("name", ["ticket_transfer", "ticket_reissue"])
def test_another_organisation_and_another_region_are_404(client, make_order, organisation, other_organisation, name):
    region, elsewhere = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    event = EventFactory(organisation=organisation, region=region)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    ticket = order.tickets.get()
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[elsewhere]).user
    form = {"name": "Ben", "email": "ben@example.com", "send_email": "on", "idempotency_key": "k"}
    for user in (outsider, limited):
        client.force_login(user)
        assert client.get(url(name, order, ticket)).status_code == 404
        assert client.post(url(name, order, ticket), form).status_code == 404
    assert not TicketReplacement.objects.exists()


def test_an_unknown_ticket_is_404(agent_client, order):
    missing = Ticket(public_id="NOSUCHTKT")
    assert agent_client.get(url("ticket_transfer", order, missing)).status_code == 404
