"""The ⋯ menu: each action enabled only when the order's state (orders/rules.py) and the role allow it."""

import pytest
from django.urls import reverse

from orders import rules
from orders.menu import ACTIONS, NOT_AVAILABLE_YET, ActionSpec, order_actions
from orders.models import Order
from orders.selectors import order_detail
from organiser_portal.models import Membership
from organiser_portal.permissions import Perm, access_for
from tests.factories import CustomerFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def menu(user, order):
    access = access_for(user, order.organisation)
    return {item.key: item for item in order_actions(access, order_detail(access, order.code))}


def test_menu_lists_every_action_in_order(member, make_order):
    items = menu(member(Role.OWNER), make_order())
    assert [i.label for i in items.values()] == [
        "Resend tickets",
        "Resend tickets by SMS",
        "Edit contact",
        "Download tickets (PDF)",
        "Customer's tickets page",
        "Refund",
        "Cancel",
        "Open personalisation",
        "Send held tickets",
        "Create customer account…",
        "Link to customer account…",
        "Unlink from customer account…",
    ]


def test_viewer_is_refused_every_action_by_role(member, make_order):
    items = menu(member(Role.VIEWER), make_order())
    assert all(not i.enabled for i in items.values())
    assert items["resend"].reason == "Your role (Viewer) can't resend tickets"
    assert items["download"].reason == "Your role (Viewer) can't download tickets"


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        (Role.VIEWER, "Your role (Viewer) can't see or share the customer's tickets page link"),
        (Role.SUPPORT, None),
        (Role.MANAGER, None),
        (Role.OWNER, None),
    ],
)
def test_the_tickets_page_item_gives_its_own_role_reason(client, member, make_order, role, reason):
    order = make_order()
    user = member(role)
    item = menu(user, order)["tickets_page"]
    assert (item.enabled, item.reason) == (reason is None, reason)
    client.force_login(user)
    page = client.get(reverse("order_tickets_page", kwargs={"org": order.organisation.slug, "code": order.code}))
    if reason is None:
        assert page.status_code == 200
    else:  # opening it anyway says the same words
        assert page.status_code == 403 and reason in page.content.decode().replace("&#x27;", "'")


def test_support_is_refused_refund_and_cancel_by_role_only(member, make_order):
    items = menu(member(Role.SUPPORT), make_order())
    assert items["refund"].reason == "Your role (Support agent) can't refund orders"
    assert items["cancel"].reason == "Your role (Support agent) can't cancel orders"
    assert not items["resend"].reason or "role" not in items["resend"].reason


def test_state_reasons_on_a_cancelled_order(member, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    items = menu(member(Role.OWNER), order)
    for key in ("resend", "download", "tickets_page", "refund", "cancel", "send_held"):
        assert items[key].reason == "Order is cancelled", key
        assert not items[key].enabled


def test_unpaid_order(member, make_order):
    items = menu(member(Role.MANAGER), make_order(paid=False))
    assert items["resend"].reason == "Order is not paid yet"
    assert items["cancel"].reason != "Order is not paid yet"  # a reserved order can be cancelled


def test_held_order_must_be_sent_with_send_held(member, make_order, event):
    event.send_tickets_automatically = False
    event.save()
    items = menu(member(Role.SUPPORT), make_order())
    assert items["resend"].reason == "Tickets are held for review: use Send held tickets"
    assert items["send_held"].reason in (None, NOT_AVAILABLE_YET)


def test_send_held_needs_held_tickets(member, make_order):
    assert menu(member(Role.SUPPORT), make_order())["send_held"].reason == "No tickets are held for this order"


def test_personalisation_needs_a_ticket_type_with_personal_data(member, make_order, event):
    assert menu(member(Role.SUPPORT), make_order())["personalise"].reason == "No ticket needs personal data"
    named = TicketTypeFactory(event=event, name="Named", requires_personal_data=True)
    items = menu(member(Role.SUPPORT), make_order(ticket_type=named))
    assert items["personalise"].reason in (None, NOT_AVAILABLE_YET)


def test_no_valid_ticket_refuses_resend_and_download(member, make_order):
    order = make_order()
    order.tickets.update(status="invalid", invalid_reason="cancelled")
    items = menu(member(Role.SUPPORT), order)
    assert items["resend"].reason == "No valid ticket to send"
    assert items["download"].reason == "No valid ticket to download"


def test_verified_account_email_cannot_be_changed(make_order, organisation):
    order = make_order(customer=CustomerFactory(organisation=organisation, verified=True, email="anna@example.com"))
    assert rules.refusal_change_email(order) == "Customer account is verified: the email can't be changed"
    assert rules.refusal_edit_contact(order) is None  # name and phone may still change


def test_an_allowed_action_without_a_page_yet_says_not_available_yet(member, make_order):
    order = make_order()
    access = access_for(member(Role.SUPPORT), order.organisation)
    detail = order_detail(access, order.code)
    built = ActionSpec("x", "Built", Perm.VIEW, "order_detail", lambda d: None)
    unbuilt = ActionSpec("y", "Unbuilt", Perm.VIEW, "no_such_url_name", lambda d: None)

    items = order_actions(access, detail, actions=[built, unbuilt])

    assert items[0].enabled and items[0].url == f"/o/{order.organisation.slug}/orders/{order.code}/"
    assert not items[1].enabled and items[1].reason == NOT_AVAILABLE_YET


def test_every_menu_action_names_a_permission_the_owner_has(member, make_order):
    assert {spec.perm for spec in ACTIONS} <= set(Perm)
