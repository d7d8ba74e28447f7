"""The delivery action pages: resend, edit contact, fix and resend (bounce banner), send held, PDF downloads."""

from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from notifications.models import MessageStatus
from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def url(name: str, order: Order, **kwargs) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code, **kwargs})


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Role.SUPPORT))
    return client


def test_resend_page_shows_the_address_and_tickets_then_a_double_submit_queues_one(agent_client, make_order):
    order = make_order(quantity=2)
    page = agent_client.get(url("order_resend", order))
    assert page.status_code == 200
    html = page.content.decode()
    assert "anna@example.com" in html
    for ticket in order.tickets.all():
        assert ticket.public_id in html
    token = page.context["form"]["idempotency_key"].value()
    for _ in range(2):
        response = agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": token})
        assert response.status_code == 302 and response["Location"] == url("order_detail", order)
    assert order.messages.filter(kind="tickets_resend").count() == 1


def test_resend_to_another_address_needs_one(agent_client, make_order):
    order = make_order()
    response = agent_client.post(url("order_resend", order), {"send_to": "other", "idempotency_key": "t"})
    assert response.status_code == 200 and "Enter the address" in response.content.decode()
    agent_client.post(
        url("order_resend", order), {"send_to": "other", "other_email": "b@example.com", "idempotency_key": "t"}
    )
    assert order.messages.get(kind="tickets_resend").recipient == "b@example.com"


def test_resend_refusal_is_shown(agent_client, make_order):
    order = make_order()
    order.tickets.update(status="invalid", invalid_reason="refunded")
    page = agent_client.get(url("order_resend", order))
    assert "No valid ticket to send" in page.content.decode()
    response = agent_client.post(url("order_resend", order), {"send_to": "contact", "idempotency_key": "t"})
    assert "No valid ticket to send" in response.content.decode()


@pytest.mark.parametrize(
    "name", ["order_resend", "order_edit_contact", "order_send_held", "order_download", "order_fix_and_resend"]
)
def test_viewer_is_refused_and_another_organisation_gets_404(client, make_order, member, other_organisation, name):
    order = make_order()
    client.force_login(member(Role.VIEWER))
    assert client.get(url(name, order)).status_code == 403
    assert client.post(url(name, order), {"idempotency_key": "t", "send_to": "contact"}).status_code == 403
    client.force_login(MembershipFactory(organisation=other_organisation, role=Role.OWNER).user)
    assert client.get(url(name, order)).status_code == 404


def test_edit_contact_and_resend_in_one_step(agent_client, make_order):
    order = make_order()
    data = {
        "contact_name": "Anna Müller",
        "contact_email": "anna.new@example.com",
        "contact_phone": "",
        "resend_tickets": "on",
        "idempotency_key": "t1",
    }
    assert agent_client.post(url("order_edit_contact", order), data).status_code == 302
    order.refresh_from_db()
    assert order.contact_email == "anna.new@example.com"
    assert order.messages.get(kind="tickets_resend").recipient == "anna.new@example.com"


def test_verified_email_field_is_locked_with_the_reason(agent_client, make_order, organisation):
    from tests.factories import CustomerFactory

    order = make_order(customer=CustomerFactory(organisation=organisation, email="anna@example.com", verified=True))
    page = agent_client.get(url("order_edit_contact", order)).content.decode()
    assert "Customer account is verified: the email can&#x27;t be changed" in page
    agent_client.post(
        url("order_edit_contact", order),
        {"contact_name": "Anna", "contact_email": "evil@example.com", "contact_phone": "", "idempotency_key": "t"},
    )
    order.refresh_from_db()
    assert order.contact_email == "anna@example.com" and order.contact_name == "Anna"


def test_bounce_banner_suggests_the_fix_and_applies_it(agent_client, make_order):
    order = make_order(contact_email="anna@gmial.com")
    message = order.messages.get()
    message.status, message.status_reason = MessageStatus.BOUNCED, "550 5.1.1 mailbox does not exist"
    message.save()
    Order.objects.filter(pk=order.pk).update(email_status="bounced")
    html = agent_client.get(url("order_detail", order)).content.decode()
    assert 'id="bounce-banner"' in html and "anna@gmail.com" in html and "Fix and resend" in html
    response = agent_client.post(
        url("order_fix_and_resend", order), {"contact_email": "anna@gmail.com", "idempotency_key": "fix"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.contact_email == "anna@gmail.com" and order.email_status == "queued"
    assert order.messages.latest("created_at").recipient == "anna@gmail.com"
    assert 'id="bounce-banner"' not in agent_client.get(url("order_detail", order)).content.decode()


def test_send_held_page(agent_client, make_order, organisation):
    event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    page = agent_client.get(url("order_send_held", order))
    assert "anna@example.com" in page.content.decode()
    token = page.context["form"]["idempotency_key"].value()
    assert agent_client.post(url("order_send_held", order), {"idempotency_key": token}).status_code == 302
    order.refresh_from_db()
    assert not order.tickets_held and order.messages.count() == 1


def test_download_the_order_pdf(agent_client, make_order):
    order = make_order(quantity=2)
    response = agent_client.get(url("order_download", order))
    assert response["Content-Type"] == "application/pdf"
    assert f"tickets-{order.code}.pdf" in response["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(response.content)).pages)
    assert all(t.public_id in text for t in order.tickets.all())


def test_download_refused_without_valid_tickets(agent_client, make_order):
    order = make_order()
    order.tickets.update(status="invalid", invalid_reason="cancelled")
    response = agent_client.get(url("order_download", order))
    assert response.status_code == 409 and "No valid ticket to download" in response.content.decode()


def test_per_ticket_pdf(agent_client, make_order, client, member):
    order = make_order(quantity=2)
    first, second = order.tickets.all()
    response = agent_client.get(url("ticket_pdf", order, ticket_id=first.public_id))
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    assert first.public_id in text and second.public_id not in text
    second.status, second.invalid_reason = "invalid", "transferred"
    second.save()
    response = agent_client.get(url("ticket_pdf", order, ticket_id=second.public_id))
    assert response.status_code == 409 and "invalid · transferred" in response.content.decode()
    assert agent_client.get(url("ticket_pdf", order, ticket_id="NOPE")).status_code == 404
    client.force_login(member(Role.VIEWER))
    assert client.get(url("ticket_pdf", order, ticket_id=first.public_id)).status_code == 403


def test_menu_links_the_delivery_actions(agent_client, make_order):
    order = make_order()
    html = agent_client.get(url("order_detail", order)).content.decode()
    assert url("order_resend", order) in html and url("order_edit_contact", order) in html
    assert url("order_download", order) in html
