"""The Contact card's own Edit button: shown to the roles that may edit the contact, when the order allows it."""

import pytest
from django.urls import reverse

from orders.models import Order
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db
Role = Membership.Role


def contact_card(client, order) -> str:
    text = client.get(reverse("order_detail", kwargs={"org": "festival", "code": order.code})).content.decode()
    start = text.index('id="contact"')
    return text[start : text.index("</section>", start)]


@pytest.mark.parametrize(
    ("role", "shown"), [(Role.VIEWER, False), (Role.SUPPORT, True), (Role.MANAGER, True), (Role.OWNER, True)]
)
def test_the_edit_button_follows_the_role(client, member, make_order, role, shown):
    order = make_order()
    client.force_login(member(role))
    card = contact_card(client, order)
    edit = reverse("order_edit_contact", kwargs={"org": "festival", "code": order.code})
    assert (f'href="{edit}" aria-label="Edit contact"' in card) is shown
    assert (">Edit</a>" in card) is shown


def test_no_edit_button_when_the_order_refuses_the_edit(client, member, make_order):
    order = make_order(paid=False)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)
    client.force_login(member(Role.SUPPORT))
    assert ">Edit</a>" not in contact_card(client, order)


def test_the_button_opens_the_edit_form(client, member, make_order):
    order = make_order()
    client.force_login(member(Role.SUPPORT))
    edit = reverse("order_edit_contact", kwargs={"org": "festival", "code": order.code})
    assert f'hx-get="{edit}"' in contact_card(client, order)
    form = client.get(edit)
    assert form.status_code == 200 and order.contact_email in form.content.decode()
