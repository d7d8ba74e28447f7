"""Resending to an address on the suppression list: the dialog warns why it will probably fail again and offers
the alternatives; the agent may still send after ticking the confirmation."""

import pytest
from django.urls import reverse

from notifications.models import Suppression
from orders.errors import OrderActionError
from orders.services import order_resend_tickets
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db
Role = Membership.Role


def resend_url(order) -> str:
    return reverse("order_resend", kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def bounced_order(make_order):
    order = make_order(contact_email="anna@exmaple.com", contact_phone="+49 170 1234567")
    Suppression.objects.create(
        organisation=order.organisation, address="Anna@Exmaple.com", reason="bounced", detail="550 no such user"
    )
    return order


def test_the_dialog_warns_and_offers_the_alternatives(client, member, bounced_order):
    client.force_login(member(Role.SUPPORT))
    html = client.get(resend_url(bounced_order)).content.decode()
    assert 'id="suppression-warning"' in html
    assert "hard-bounced" in html and "550 no such user" in html and "will most likely bounce again" in html
    assert "fix the address" in html and "send once to another address" in html and "send by SMS" in html
    assert "Take it off the suppression list" in html


def test_without_the_box_nothing_is_sent_with_it_the_tickets_go(client, member, bounced_order):
    client.force_login(member(Role.SUPPORT))
    data = {"send_to": "contact", "idempotency_key": "k1"}
    response = client.post(resend_url(bounced_order), data)
    assert response.status_code == 200 and "is on the suppression list" in response.content.decode()
    assert not bounced_order.messages.filter(kind="tickets_resend").exists()
    response = client.post(resend_url(bounced_order), {**data, "confirm_suppressed": "on"})
    assert response.status_code == 302
    assert bounced_order.messages.filter(kind="tickets_resend").count() == 1


def test_a_typed_address_on_the_list_is_warned_about_too(client, member, make_order):
    order = make_order()
    Suppression.objects.create(organisation=order.organisation, address="old@example.com", reason="complained")
    client.force_login(member(Role.SUPPORT))
    data = {"send_to": "other", "other_email": "old@example.com", "idempotency_key": "k"}
    response = client.post(resend_url(order), data)
    assert "marked an email as spam" in response.content.decode()
    assert not order.messages.filter(kind="tickets_resend").exists()


def test_the_service_refuses_without_the_confirmation(member, bounced_order):
    agent = member(Role.SUPPORT)
    with pytest.raises(OrderActionError, match="hard-bounced"):
        order_resend_tickets(actor=agent, order=bounced_order)
    message = order_resend_tickets(actor=agent, order=bounced_order, suppression_confirmed=True)
    assert message.recipient == "anna@exmaple.com"


def test_a_removed_suppression_warns_no_more(client, member, bounced_order):
    Suppression.objects.update(removed_at="2026-01-01T00:00:00Z")
    client.force_login(member(Role.SUPPORT))
    assert 'id="suppression-warning"' not in client.get(resend_url(bounced_order)).content.decode()
