"""The Refund and Cancel pages, Retry, the refund poll, the ⋯ menu, and the stuck-refund flags, through the views."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.errors import OrderActionError
from orders.menu import order_actions
from orders.models import Order, Refund
from orders.payment_providers import provider_for
from orders.selectors import order_detail
from orders.services import (
    LineRequest,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_refund,
    order_start_payment,
)
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal


@pytest.fixture
def paid_order(event):
    def make(*, quantity=3, provider="sandbox", event=event, method="Card"):
        tt = TicketTypeFactory(event=event, price=D("50.00"), booking_fee=D("2.50"), tax_rate=D("19"))
        order = order_create(
            event=event, contact_name="Ana Lima", contact_email="ana@example.com", lines=[LineRequest(tt, quantity)]
        )
        order_start_payment(order=order, provider=provider, reference="pi_3Q", method=method)
        order_mark_confirming_payment(order=order)
        return Order.objects.get(pk=order_mark_paid(order=order).pk)

    return make


def url(name, order, **kwargs):
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code, **kwargs})


def text(response) -> str:
    """The page as a person reads it: tags dropped, spaces collapsed."""
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"[ \t\r\n]+", " ", words).replace(" ,", ",").replace(" .", ".")


@pytest.fixture
def manager_client(client, member):
    client.force_login(member(Role.MANAGER))
    return client


def test_refund_one_ticket_review_then_confirm(manager_client, paid_order):
    order = paid_order()
    first, second, third = order.tickets.order_by("id").values_list("public_id", flat=True)
    page = text(manager_client.get(url("order_refund", order)))
    assert "Every ticket still valid" in page and second in page and "Review refund" in page
    assert "Sandbox · Card · pi_3Q" in page  # the payment it goes back to

    choice = {
        "what": "tickets",
        "tickets": [second],
        "reason": "Illness",
        "notify_customer": "on",
        "idempotency_key": "k",
    }
    review = text(manager_client.post(url("order_refund", order), {**choice, "step": "review"}))
    assert "Confirm the refund" in review and "Refund 50.00\xa0EUR" in review
    assert "including 7.98\xa0EUR tax" in review  # 50.00 × 19 / 119 = 7.983…
    assert "2.50\xa0EUR kept by the organiser" in review
    assert "These become Invalid · refunded" in review and second in review.split("Afterwards")[0]
    assert not Refund.objects.exists()  # the review asks nothing yet

    done = manager_client.post(url("order_refund", order), {**choice, "step": "confirm"})
    assert done.status_code == 302 and done["Location"] == url("order_detail", order)
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.idempotency_key) == (D("50.00"), "Illness", "k")
    assert Ticket.objects.get(public_id=second).display_status == "Invalid · refunded"
    again = manager_client.post(url("order_refund", order), {**choice, "step": "confirm"})  # a double submit
    assert again.status_code == 302 and Refund.objects.count() == 1


def test_refund_form_errors_change_nothing(manager_client, paid_order):
    order = paid_order()
    page = text(
        manager_client.post(
            url("order_refund", order),
            {"what": "amount", "amount": "12.345", "reason": "", "step": "review", "idempotency_key": "k"},
        )
    )
    assert "EUR amounts take at most 2 decimals" in page and "Give a reason for the refund." in page
    page = text(
        manager_client.post(
            url("order_refund", order),
            {"what": "amount", "amount": "999", "reason": "x", "step": "confirm", "idempotency_key": "k"},
        )
    )
    assert "At most 157.50\xa0EUR can still be refunded, not 999.00\xa0EUR" in page
    page = text(
        manager_client.post(
            url("order_refund", order), {"what": "tickets", "reason": "x", "step": "review", "idempotency_key": "k"}
        )
    )
    assert "Choose the tickets to refund." in page
    assert not Refund.objects.exists()


def test_records_only_provider_shows_its_hint_and_needs_a_note(manager_client, paid_order):
    order = paid_order(provider="paypal", method="PayPal")
    hint = provider_for(order.payments.get()).refund_hint
    assert hint
    page = text(manager_client.get(url("order_refund", order)))
    assert hint in page and "How the money went back" in page
    page = text(
        manager_client.post(
            url("order_refund", order), {"what": "all", "reason": "x", "step": "review", "idempotency_key": "k"}
        )
    )
    assert "Say how the money went back" in page


def test_cancel_page_warns_about_used_tickets_then_cancels(manager_client, paid_order):
    order = paid_order()
    used = order.tickets.order_by("id").first()
    Ticket.objects.filter(pk=used.pk).update(used_at=timezone.now())
    page = text(manager_client.get(url("order_cancel", order)))
    assert f"Already used at the door: {used.public_id}" in page
    assert "Refund the tickets: 150.00\xa0EUR" in page and "booking fee 7.50\xa0EUR kept" in page
    data = {"refund": "all", "reason": "Guest asked", "notify_customer": "on", "idempotency_key": "c"}
    page = text(manager_client.post(url("order_cancel", order), data))
    assert f"Already used at the door: {used.public_id}. Confirm to cancel the order anyway." in page
    order.refresh_from_db()
    assert order.status == "paid"
    done = manager_client.post(url("order_cancel", order), {**data, "used_confirmed": "on"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == "cancelled" and order.refunds.get().amount == D("150.00")
    page = text(manager_client.get(url("order_cancel", order)))
    assert "Order is cancelled" in page and "Cancel order " + order.code not in page


def test_support_agent_sees_refund_and_cancel_disabled_and_is_refused(client, member, paid_order):
    order = paid_order()
    agent = member(Role.SUPPORT)
    client.force_login(agent)
    items = {
        i.key: i
        for i in order_actions(
            access_for(agent, order.organisation), order_detail(access_for(agent, order.organisation), order.code)
        )
    }
    assert items["refund"].reason == "Your role (Support agent) can't refund orders" and not items["refund"].enabled
    assert items["cancel"].reason == "Your role (Support agent) can't cancel orders" and not items["cancel"].enabled
    for name in ("order_refund", "order_cancel"):
        response = client.post(
            url(name, order), {"what": "all", "reason": "x", "step": "confirm", "idempotency_key": "k"}
        )
        assert response.status_code == 403
    assert not Refund.objects.exists() and Order.objects.get(pk=order.pk).status == "paid"


def test_manager_menu_has_refund_and_cancel(member, paid_order):
    order = paid_order()
    manager = member(Role.MANAGER)
    access = access_for(manager, order.organisation)
    items = {i.key: i for i in order_actions(access, order_detail(access, order.code))}
    assert items["refund"].url == url("order_refund", order) and items["cancel"].url == url("order_cancel", order)


def test_another_organisation_and_another_region_are_404(client, organisation, other_organisation, paid_order):
    region, elsewhere = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    order = paid_order(event=EventFactory(organisation=organisation, region=region))
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[elsewhere]).user
    for user in (outsider, limited):
        client.force_login(user)
        for name in ("order_refund", "order_cancel"):
            assert client.get(url(name, order)).status_code == 404
            assert (
                client.post(
                    url(name, order), {"what": "all", "reason": "x", "step": "confirm", "idempotency_key": "k"}
                ).status_code
                == 404
            )
    assert not Refund.objects.exists()


def test_retry_button_and_poll(manager_client, paid_order, member):
    order = paid_order()
    refund = order_refund(actor=member(Role.MANAGER), order=order, amount=D("13.13"), reason="x", idempotency_key="r")
    Refund.objects.filter(pk=refund.pk).update(status="failed", error="Card expired", status_changed_at=timezone.now())
    Order.objects.filter(pk=order.pk).update(refunding_total=0)
    page = text(manager_client.get(url("order_detail", order)))
    assert "Refund error" in page and "Card expired" in page and "Retry" in page
    assert "?refunds=" not in page  # nothing in flight: no poll

    retry_url = url("order_refund_retry", order, refund_id=refund.pk)
    assert manager_client.post(retry_url, {"idempotency_key": "r:1"}).status_code == 302
    assert manager_client.post(retry_url, {"idempotency_key": "r:1"}).status_code == 302  # a double click
    refund.refresh_from_db()
    assert (refund.status, refund.attempt) == ("requested", 2)

    response = manager_client.get(url("order_detail", order))
    assert "Refunding items" in text(response)
    shown = f"{refund.pk}.requested.2"
    assert f"?refunds={shown}" in response.content.decode()
    poll = url("order_refresh", order) + f"?refunds={shown}"
    assert manager_client.get(poll).status_code == 204
    Refund.objects.filter(pk=refund.pk).update(status="confirming")
    moved = manager_client.get(poll)
    raw = moved.content.decode()
    assert "Confirming refund" in text(moved)
    assert 'id="payments" hx-swap-oob="true"' in raw and 'id="order-status" hx-swap-oob="true"' in raw


def test_stuck_refund_flagged_on_the_order_in_the_header_and_in_the_orders_filter(manager_client, paid_order, member):
    order, other = paid_order(), paid_order()
    refund = order_refund(actor=member(Role.MANAGER), order=order, amount=D("5"), reason="x", idempotency_key="s")
    Refund.objects.filter(pk=refund.pk).update(
        status="confirming", status_changed_at=timezone.now() - timedelta(hours=25)
    )
    page = text(manager_client.get(url("order_detail", order)))
    assert "Confirming refund” for more than 24 hours" in page and "Stuck: confirming since" in page
    assert "1 refund stuck" in page
    orders = text(manager_client.get(reverse("orders", kwargs={"org": order.organisation.slug}) + "?refund_stuck=on"))
    assert order.code in orders and other.code not in orders and "Refund stuck" in orders
    Refund.objects.filter(pk=refund.pk).update(status_changed_at=timezone.now() - timedelta(hours=23))
    assert "refund stuck" not in text(manager_client.get(url("order_detail", order)))


def test_a_payment_whose_provider_is_not_enabled_says_so_in_the_menu(manager_client, member, paid_order, settings):
    order = paid_order()
    settings.PAYMENT_PROVIDERS = ["manual", "paypal"]  # the sandbox switched off
    manager = member(Role.MANAGER)
    access = access_for(manager, order.organisation)
    items = {i.key: i for i in order_actions(access, order_detail(access, order.code))}
    reason = "The payment's provider (sandbox) is unknown here: refund it where it was paid"
    assert items["refund"].reason == reason and not items["refund"].enabled
    assert reason in text(manager_client.get(url("order_refund", order)))
    with pytest.raises(OrderActionError, match=re.escape(reason)):
        order_refund(actor=manager, order=order, amount=D("1"), reason="x", idempotency_key="k")


@pytest.mark.parametrize(
    ("what", "extra", "conflict"),
    [
        ("all", {}, "You ticked 1 ticket but chose “Every ticket still valid”"),
        ("amount", {"amount": "10"}, "You ticked 1 ticket but chose “An amount”"),
        ("all", {"tickets": [], "amount": "10"}, "You typed an amount (10) but chose “Every ticket still valid”"),
    ],
)
@pytest.mark.parametrize("step", ["review", "confirm"])
def test_ticked_tickets_or_a_typed_amount_the_choice_would_ignore_are_refused(
    manager_client, paid_order, what, extra, conflict, step
):
    order = paid_order()
    second = order.tickets.order_by("id").values_list("public_id", flat=True)[1]
    choice = {"what": what, "tickets": [second], "reason": "Illness", "idempotency_key": "k", "step": step}
    page = text(manager_client.post(url("order_refund", order), {**choice, **extra}))
    assert conflict in page
    assert "Confirm the refund" not in page and "Review refund" in page  # the form again, no figures
    assert not Refund.objects.exists()
    assert set(order.tickets.values_list("status", flat=True)) == {"valid"}


@pytest.mark.parametrize(
    ("ticked", "words"),
    [
        (
            1,
            "You ticked 1 ticket but chose “Every ticket still valid”, which would ignore it: "
            "choose “Some tickets” to refund only that one, or untick it.",
        ),
        (
            2,
            "You ticked 2 tickets but chose “Every ticket still valid”, which would ignore them: "
            "choose “Some tickets” to refund only those, or untick them.",
        ),
    ],
)
def test_the_conflict_error_says_how_to_resolve_it(manager_client, paid_order, ticked, words):
    order = paid_order()
    ids = list(order.tickets.order_by("id").values_list("public_id", flat=True)[:ticked])
    choice = {"what": "all", "tickets": ids, "reason": "x", "idempotency_key": "k", "step": "review"}
    assert words in text(manager_client.post(url("order_refund", order), choice))


def test_a_ticket_posted_twice_counts_once_and_is_refunded_once(manager_client, paid_order):
    order = paid_order()
    second = order.tickets.order_by("id").values_list("public_id", flat=True)[1]
    choice = {"tickets": [second, second], "reason": "x", "idempotency_key": "k"}
    conflict = text(manager_client.post(url("order_refund", order), {**choice, "what": "all", "step": "review"}))
    assert "You ticked 1 ticket but chose" in conflict and not Refund.objects.exists()
    review = text(manager_client.post(url("order_refund", order), {**choice, "what": "tickets", "step": "review"}))
    assert "Refund 1 of 3 tickets: it becomes Invalid · refunded" in review
    done = manager_client.post(url("order_refund", order), {**choice, "what": "tickets", "step": "confirm"})
    assert done.status_code == 302 and Refund.objects.get().amount == D("50.00")


@pytest.mark.parametrize(
    ("choice", "scope"),
    [
        ({"what": "all"}, "Refund the whole order: every ticket (3) becomes Invalid · refunded."),
        ({"what": "tickets", "tickets": [1]}, "Refund 1 of 3 tickets: it becomes Invalid · refunded; the other 2"),
        ({"what": "tickets", "tickets": [0, 2]}, "Refund 2 of 3 tickets: they become Invalid · refunded; the other"),
        ({"what": "amount", "amount": "5"}, "Refund an amount only: no ticket changes (3 tickets stay valid)."),
    ],
)
def test_the_review_says_plainly_what_will_be_refunded(manager_client, paid_order, choice, scope):
    order = paid_order()
    ids = list(order.tickets.order_by("id").values_list("public_id", flat=True))
    if "tickets" in choice:
        choice = {**choice, "tickets": [ids[i] for i in choice["tickets"]]}
    page = text(
        manager_client.post(
            url("order_refund", order), {**choice, "reason": "x", "idempotency_key": "k", "step": "review"}
        )
    )
    assert "Confirm the refund" in page and scope in page.split("Amount back")[0]


def test_the_review_after_an_earlier_refund_does_not_call_the_rest_the_whole_order(manager_client, member, paid_order):
    order = paid_order()
    first = order.tickets.order_by("id").first()
    order_refund(
        actor=member(Role.MANAGER), order=order, tickets=[first.public_id], reason="x", idempotency_key="first"
    )
    page = text(
        manager_client.post(
            url("order_refund", order), {"what": "all", "reason": "x", "idempotency_key": "k", "step": "review"}
        )
    )
    assert "Refund every ticket still valid: every ticket (2) becomes Invalid · refunded." in page
