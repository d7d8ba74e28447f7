"""⋯ Resend tickets by SMS: the number read and shown in international form before anything is sent, then one SMS
through the outbox, a timeline entry naming who sent it to which number; bad numbers are a form error; support may,
a viewer may not, another organisation's order is a 404."""

import pytest
from django.urls import reverse

from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.services import order_send_tickets_sms
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


def sms_messages(order: Order):
    return order.messages.filter(channel=OutgoingMessage.Channel.SMS)


@pytest.fixture
def agent(member):
    return member(Role.SUPPORT)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def test_the_order_phone_is_shown_then_confirmed_then_sent_once(agent_client, agent, make_order):
    order = make_order(contact_phone="0151 23456789")
    page = agent_client.get(url("order_resend_sms", order))
    assert page.status_code == 200 and "+49 1512 3456789" in page.content.decode()
    token = page.context["form"]["idempotency_key"].value()

    check = agent_client.post(url("order_resend_sms", order), {"send_to": "order", "idempotency_key": token})
    html = check.content.decode()
    assert check.status_code == 200 and "Send SMS to +49 1512 3456789" in html
    assert not sms_messages(order).exists()  # nothing sent before the confirmation

    confirmed = {"send_to": "order", "confirm": "on", "idempotency_key": token}
    for _ in range(2):  # a double click
        response = agent_client.post(url("order_resend_sms", order), confirmed)
        assert response.status_code == 302 and response["Location"] == url("order_detail", order)
    (message,) = sms_messages(order)
    assert (message.kind, message.recipient, message.created_by) == ("tickets_sms", "+4915123456789", agent)
    entry = TimelineEntry.objects.get(order=order, action="tickets.sms_sent")
    assert entry.actor == agent and entry.data["recipient"] == "+49 1512 3456789"
    assert entry.data["other_number"] is False


def test_a_number_typed_in_once_leaves_the_contact_as_it_is(agent_client, make_order):
    order = make_order(contact_phone="0151 23456789")
    fields = {"send_to": "other", "other_phone": "+43 664 1234567", "idempotency_key": "k1"}
    assert "Send SMS to +43 664 1234567" in agent_client.post(url("order_resend_sms", order), fields).content.decode()
    agent_client.post(url("order_resend_sms", order), {**fields, "confirm": "on"})
    assert sms_messages(order).get().recipient == "+436641234567"
    order.refresh_from_db()
    assert order.contact_phone == "0151 23456789"
    assert TimelineEntry.objects.get(order=order, action="tickets.sms_sent").data["other_number"] is True


def test_change_the_number_goes_back_to_the_first_step(agent_client, make_order):
    order = make_order(contact_phone="0151 23456789")
    fields = {
        "send_to": "other",
        "other_phone": "+43 664 1234567",
        "confirm": "on",
        "change": "1",
        "idempotency_key": "k",
    }
    response = agent_client.post(url("order_resend_sms", order), fields)
    assert 'value="+43 664 1234567"' in response.content.decode() and not sms_messages(order).exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"send_to": "other", "other_phone": "12"}, "12 is not a valid phone number"),
        ({"send_to": "other", "other_phone": "0151 2345"}, "is not a valid phone number"),
        ({"send_to": "other", "other_phone": "call me"}, "is not a valid phone number"),
        ({"send_to": "other", "other_phone": ""}, "Enter the mobile number"),
        ({"send_to": "other", "other_phone": "030 1234567"}, "+49 30 1234567 is not a mobile number"),
        ({"send_to": "order"}, "The order has no phone number"),
    ],
)
def test_a_bad_number_is_a_form_error_and_sends_nothing(agent_client, make_order, fields, error):
    order = make_order(contact_phone="")
    for confirm in ({}, {"confirm": "on"}):
        response = agent_client.post(url("order_resend_sms", order), {**fields, **confirm, "idempotency_key": "k"})
        assert response.status_code == 200 and error in response.content.decode()
    assert not sms_messages(order).exists()
    assert not TimelineEntry.objects.filter(order=order, action="tickets.sms_sent").exists()


def test_the_service_refuses_a_bad_number_too(agent, make_order):
    order = make_order()
    with pytest.raises(OrderActionError, match="not a mobile number"):
        order_send_tickets_sms(actor=agent, order=order, phone="+49 30 1234567")
    assert not sms_messages(order).exists()


def test_an_order_that_cant_be_resent_is_refused(agent_client, make_order):
    order = make_order(contact_phone="0151 23456789")
    order.tickets.update(status="invalid", invalid_reason="refunded")
    response = agent_client.post(
        url("order_resend_sms", order), {"send_to": "order", "confirm": "on", "idempotency_key": "k"}
    )
    assert "No valid ticket to send" in response.content.decode() and not sms_messages(order).exists()


def test_a_viewer_may_not_and_sees_the_menu_item_disabled(client, member, make_order):
    order = make_order(contact_phone="0151 23456789")
    client.force_login(member(Role.VIEWER))
    assert client.get(url("order_resend_sms", order)).status_code == 403
    response = client.post(
        url("order_resend_sms", order), {"send_to": "order", "confirm": "on", "idempotency_key": "k"}
    )
    assert response.status_code == 403 and not sms_messages(order).exists()
    item = next(i for i in client.get(url("order_detail", order)).context["actions"] if i.key == "resend_sms")
    assert not item.enabled


def test_support_sees_the_menu_item(agent_client, make_order):
    order = make_order(contact_phone="0151 23456789")
    item = next(i for i in agent_client.get(url("order_detail", order)).context["actions"] if i.key == "resend_sms")
    assert item.enabled and item.url == url("order_resend_sms", order)


def test_another_organisations_order_is_a_404(client, make_order, other_organisation):
    event = EventFactory(organisation=other_organisation)
    theirs = Order.objects.get(pk=make_order(event=event, ticket_type=TicketTypeFactory(event=event)).pk)
    outsider = MembershipFactory(organisation=theirs.organisation, role=Role.OWNER).user
    mine = make_order(contact_phone="0151 23456789")
    client.force_login(outsider)
    response = client.post(url("order_resend_sms", mine), {"send_to": "order", "confirm": "on", "idempotency_key": "k"})
    assert response.status_code == 404 and not sms_messages(mine).exists()


def test_the_order_page_shows_the_sms_like_an_email(agent_client, agent, make_order):
    order = make_order(contact_phone="0151 23456789")
    message = order_send_tickets_sms(actor=agent, order=order, phone="0151 23456789")
    OutgoingMessage.objects.filter(pk=message.pk).update(status="bounced", status_reason="Undelivered · Twilio 30005")
    html = agent_client.get(url("order_detail", order)).content.decode()
    assert "Tickets link" in html and "(SMS)" in html and "+49 1512 3456789" in html
    assert "Undelivered · Twilio 30005" in html
    assert "Tickets link sent by SMS to +49 1512 3456789" in html and agent.email in html
