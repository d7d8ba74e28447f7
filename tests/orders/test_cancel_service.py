"""order_cancel: every ticket Invalid · cancelled with its entry, an optional refund and email, refused with the menu's words."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from notifications.emails import build_email
from notifications.models import OutgoingMessage
from orders import rules
from orders.errors import OrderActionError
from orders.models import Order, Refund, TimelineEntry
from orders.services import (
    LineRequest,
    order_cancel,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_refund,
    order_start_payment,
)
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal


def entries(order: Order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


@pytest.fixture
def paid_order(event):
    def make(*, quantity=3, event=event, paid=True):
        tt = TicketTypeFactory(event=event, price=D("50.00"), booking_fee=D("2.50"), tax_rate=D("19"))
        order = order_create(
            event=event, contact_name="Ben Okafor", contact_email="ben@example.com", lines=[LineRequest(tt, quantity)]
        )
        if paid:
            order_start_payment(order=order, provider="sandbox", reference="pi_9")
            order_mark_confirming_payment(order=order)
            order = order_mark_paid(order=order)
        return Order.objects.get(pk=order.pk)

    return make


@pytest.fixture
def manager(member):
    return member(Role.MANAGER)


def test_cancel_invalidates_every_ticket_with_its_entry(paid_order, manager):
    order = paid_order()
    before = entries(order)
    order_cancel(actor=manager, order=order, reason="Guest asked", idempotency_key="c1")
    order.refresh_from_db()
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert set(order.tickets.values_list("status", "invalid_reason")) == {("invalid", "cancelled")}
    assert entries(order) == [
        *before,
        "ticket.cancelled",
        "ticket.cancelled",
        "ticket.cancelled",
        "order.cancelled",
        "email.queued",
    ]
    cancelled = TimelineEntry.objects.filter(order=order, action="ticket.cancelled")
    assert {e.data["ticket"] for e in cancelled} == set(order.tickets.values_list("public_id", flat=True))
    assert all(e.actor == manager for e in cancelled)
    assert not Refund.objects.filter(order=order).exists()
    (message,) = order.messages.filter(kind=OutgoingMessage.Kind.CANCELLATION_NOTICE)
    email = build_email(
        OutgoingMessage.objects.select_related("order__event", "order__organisation").get(pk=message.pk)
    )
    assert "cancelled" in email.subject and "no longer valid" in email.body


def test_cancel_with_refund_and_without_email(paid_order, manager):
    order = paid_order()
    order_cancel(
        actor=manager, order=order, refund=True, reason="Event moved", notify_customer=False, idempotency_key="c"
    )
    order.refresh_from_db()
    (refund,) = Refund.objects.filter(order=order)
    assert (refund.amount, refund.booking_fee_kept, refund.status) == (D("150.00"), D("7.50"), "requested")
    assert refund.tickets.count() == 3 and not refund.notify_customer
    assert order.refunding_total == D("150.00") and order.status == "cancelled"
    # The cancellation wins: the tickets say cancelled, not refunded.
    assert set(order.tickets.values_list("invalid_reason", flat=True)) == {"cancelled"}
    assert entries(order).count("refund.requested") == 1 and "ticket.refunded" not in entries(order)
    assert not order.messages.filter(kind=OutgoingMessage.Kind.CANCELLATION_NOTICE).exists()


def test_cancel_keeps_already_refunded_tickets_as_refunded(paid_order, manager):
    order = paid_order()
    first = order.tickets.order_by("id").first()
    order_refund(actor=manager, order=order, tickets=[first.public_id], reason="x", idempotency_key="r")
    order_cancel(actor=manager, order=order, refund=True, reason="Guest asked", idempotency_key="c")
    reasons = list(order.tickets.order_by("id").values_list("invalid_reason", flat=True))
    assert reasons == ["refunded", "cancelled", "cancelled"]
    assert [r.amount for r in Refund.objects.filter(order=order).order_by("id")] == [D("50.00"), D("100.00")]


def test_cancel_reserved_order_cancels_its_payment(paid_order, manager):
    order = paid_order(paid=False)
    order_start_payment(order=order, provider="sandbox")
    order_cancel(actor=manager, order=order, notify_customer=False, idempotency_key="c")
    order.refresh_from_db()
    assert order.status == "cancelled" and order.payments.get().status == "cancelled"


def test_used_ticket_needs_confirming(paid_order, manager):
    order = paid_order()
    used = order.tickets.order_by("id").first()
    Ticket.objects.filter(pk=used.pk).update(used_at=timezone.now())
    with pytest.raises(OrderActionError, match=f"Already used at the door: {used.public_id}. Confirm"):
        order_cancel(actor=manager, order=order, idempotency_key="c")
    order.refresh_from_db()
    assert order.status == "paid" and not order.tickets.filter(status="invalid").exists()
    order_cancel(actor=manager, order=order, used_confirmed=True, idempotency_key="c")
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_double_submit_cancels_once(paid_order, manager):
    order = paid_order()
    order_cancel(actor=manager, order=order, refund=True, reason="x", idempotency_key="same")
    again = order_cancel(actor=manager, order=order, refund=True, reason="x", idempotency_key="same")
    assert again.status == "cancelled"
    assert entries(order).count("order.cancelled") == 1 and entries(order).count("ticket.cancelled") == 3
    assert Refund.objects.filter(order=order).count() == 1
    assert order.messages.filter(kind=OutgoingMessage.Kind.CANCELLATION_NOTICE).count() == 1
    with pytest.raises(OrderActionError, match="^Order is cancelled$"):
        order_cancel(actor=manager, order=order, idempotency_key="another")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("expired", "Order expired: the purchase did not go through"),
        ("refunded", "Order is fully refunded"),
        ("cancelled", "Order is cancelled"),
    ],
)
def test_wrong_state_refused_with_the_menus_text(paid_order, manager, status, reason):
    order = paid_order()
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    assert rules.refusal_cancel(order) == reason
    with pytest.raises(OrderActionError) as refused:
        order_cancel(actor=manager, order=order, idempotency_key="c")
    assert str(refused.value) == reason
    assert not order.tickets.filter(status="invalid").exists()


def test_refund_on_an_unpaid_order_is_refused(paid_order, manager):
    order = paid_order(paid=False)
    with pytest.raises(OrderActionError, match="No refund possible: Order is not paid yet"):
        order_cancel(actor=manager, order=order, refund=True, idempotency_key="c")
    order.refresh_from_db()
    assert order.status == "reserved"


def test_support_agent_refused(paid_order, member):
    order = paid_order()
    with pytest.raises(PermissionDenied, match=r"Your role \(Support agent\) can't cancel orders"):
        order_cancel(actor=member(Role.SUPPORT), order=order, idempotency_key="c")
    order.refresh_from_db()
    assert order.status == "paid"


def test_another_organisation_and_another_region_are_404(paid_order, organisation, other_organisation):
    region, elsewhere = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    order = paid_order(event=EventFactory(organisation=organisation, region=region))
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[elsewhere]).user
    for actor in (outsider, limited):
        with pytest.raises(Http404):
            order_cancel(actor=actor, order=order, idempotency_key=f"c{actor.pk}")
    order.refresh_from_db()
    assert order.status == "paid"
