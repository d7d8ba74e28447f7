"""order_refund and order_refund_retry: what a refund request does, once, and what it refuses with the menu's words."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from notifications.emails import build_email
from notifications.models import OutgoingMessage
from orders import rules
from orders.errors import OrderActionError
from orders.models import Order, Refund, TimelineEntry
from orders.refund_emails import refund_email_queue
from orders.refunds import refund_move
from orders.services import (
    LineRequest,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_refund,
    order_refund_retry,
    order_start_payment,
)
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
D = Decimal


def entries(order: Order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


@pytest.fixture
def paid_order(event):
    """paid_order(quantity=3, provider="sandbox") → a paid EUR order: 3 × 50.00 (19 % tax) + 2.50 booking fee each."""

    def make(*, quantity=3, provider="sandbox", event=event):
        tt = TicketTypeFactory(event=event, price=D("50.00"), booking_fee=D("2.50"), tax_rate=D("19"))
        order = order_create(
            event=event, contact_name="Anna Müller", contact_email="anna@example.com", lines=[LineRequest(tt, quantity)]
        )
        order_start_payment(order=order, provider=provider, reference="pi_123")
        order_mark_confirming_payment(order=order)
        return order_mark_paid(order=order, processing_fee=D("1.10"))

    return make


@pytest.fixture
def manager(member):
    return member(Role.MANAGER)


def _ids(order: Order) -> list[str]:
    return list(order.tickets.order_by("id").values_list("public_id", flat=True))


def test_refund_one_ticket(paid_order, manager, django_capture_on_commit_callbacks):
    order = paid_order()
    first, second, third = _ids(order)
    before = entries(order)
    with django_capture_on_commit_callbacks() as callbacks:
        refund = order_refund(actor=manager, order=order, tickets=[second], reason="Illness", idempotency_key="k1")
    order.refresh_from_db()
    assert (refund.status, refund.amount, refund.booking_fee_kept, refund.attempt) == (
        "requested",
        D("50.00"),
        D("2.50"),
        1,
    )
    assert refund.payment == order.payments.get() and refund.requested_by == manager and refund.status_changed_at
    assert list(refund.tickets.values_list("public_id", flat=True)) == [second]
    assert (order.status, order.refunding_total, order.refunded_total) == ("paid", D("50.00"), D("0"))
    statuses = dict(order.tickets.values_list("public_id", "invalid_reason"))
    assert statuses == {first: "", second: "refunded", third: ""}
    assert entries(order) == [*before, "refund.requested", "ticket.refunded"]
    requested = TimelineEntry.objects.get(order=order, action="refund.requested")
    assert requested.actor == manager and requested.data["amount"] == "€50.00" and requested.data["tickets"] == [second]
    assert len(callbacks) == 1  # the provider is asked after commit, not before


def test_refund_with_the_booking_fee_and_all_tickets(paid_order, manager):
    order = paid_order(quantity=2)
    refund = order_refund(
        actor=manager,
        order=order,
        all_tickets=True,
        include_booking_fee=True,
        reason="Event moved",
        idempotency_key="k",
    )
    order.refresh_from_db()
    assert (refund.amount, refund.booking_fee_kept, refund.booking_fee_refunded) == (D("105.00"), D("0"), True)
    assert order.refunding_total == order.total == D("105.00")
    assert set(order.tickets.values_list("invalid_reason", flat=True)) == {"refunded"}
    assert entries(order).count("ticket.refunded") == 2


def test_custom_amount_changes_no_ticket(paid_order, manager):
    order = paid_order()
    refund = order_refund(actor=manager, order=order, amount=D("12.34"), reason="Goodwill", idempotency_key="k")
    assert refund.amount == D("12.34") and not refund.tickets.exists()
    assert set(order.tickets.values_list("status", flat=True)) == {"valid"}


def test_double_submit_makes_one_refund(paid_order, manager, django_capture_on_commit_callbacks):
    order = paid_order()
    first = _ids(order)[0]
    order_refund(actor=manager, order=order, tickets=[first], reason="Illness", idempotency_key="same")
    with django_capture_on_commit_callbacks() as callbacks:
        again = order_refund(actor=manager, order=order, tickets=[first], reason="Illness", idempotency_key="same")
    order.refresh_from_db()
    assert Refund.objects.filter(order=order).count() == 1 and again.idempotency_key == "same"
    assert order.refunding_total == D("50.00")
    assert entries(order).count("refund.requested") == 1 and entries(order).count("ticket.refunded") == 1
    assert callbacks == []  # nothing goes to the provider twice


def test_same_tickets_twice_with_another_key_is_refused(paid_order, manager):
    order = paid_order()
    first = _ids(order)[0]
    order_refund(actor=manager, order=order, tickets=[first], reason="Illness", idempotency_key="a")
    with pytest.raises(OrderActionError, match=f"Already {first} invalid · refunded"):
        order_refund(actor=manager, order=order, tickets=[first], reason="Illness", idempotency_key="b")
    assert Refund.objects.filter(order=order).count() == 1


def test_never_more_than_refundable(paid_order, manager):
    order = paid_order(quantity=1)  # 52.50
    order_refund(actor=manager, order=order, amount=D("40.00"), reason="Goodwill", idempotency_key="a")
    with pytest.raises(OrderActionError, match=r"At most 12\.50\xa0EUR can still be refunded"):
        order_refund(actor=manager, order=order, amount=D("12.51"), reason="Goodwill", idempotency_key="b")
    with pytest.raises(OrderActionError, match="more than the 12.50\xa0EUR still refundable"):
        order_refund(
            actor=manager, order=order, all_tickets=False, tickets=_ids(order), reason="x", idempotency_key="c"
        )
    # And the database holds it whatever gets past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunding_total=D("52.51"))


def test_everything_on_its_way_back_refuses_with_the_menus_reason(paid_order, manager):
    order = paid_order(quantity=1)
    order_refund(
        actor=manager, order=order, all_tickets=True, include_booking_fee=True, reason="x", idempotency_key="a"
    )
    order.refresh_from_db()
    reason = rules.refusal_refund(order)
    assert reason == "Everything paid is already on its way back"
    with pytest.raises(OrderActionError, match=reason):
        order_refund(actor=manager, order=order, amount=D("1"), reason="x", idempotency_key="b")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("reserved", "Order is not paid yet"),
        ("cancelled", "Order is cancelled"),
        ("refunded", "Order is fully refunded"),
    ],
)
def test_wrong_state_refused_with_the_menus_text(paid_order, manager, status, reason):
    order = paid_order(quantity=1)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    assert rules.refusal_refund(order) == reason
    with pytest.raises(OrderActionError) as refused:
        order_refund(actor=manager, order=order, amount=D("1"), reason="x", idempotency_key="k")
    assert str(refused.value) == reason
    assert not Refund.objects.exists()


def test_a_reason_is_required(paid_order, manager):
    with pytest.raises(OrderActionError, match="Give a reason for the refund"):
        order_refund(actor=manager, order=paid_order(), amount=D("1"), reason="  ", idempotency_key="k")


def test_records_only_provider_needs_a_note(paid_order, manager):
    order = paid_order(provider="manual")
    with pytest.raises(OrderActionError, match="Add a note saying how the money went back"):
        order_refund(actor=manager, order=order, amount=D("10"), reason="Illness", idempotency_key="k")
    refund = order_refund(
        actor=manager, order=order, amount=D("10"), reason="Illness", note="Cash at the box office", idempotency_key="k"
    )
    assert refund.reason == "Illness · Cash at the box office"


def test_support_agent_and_viewer_refused(paid_order, member):
    order = paid_order()
    for role in (Role.SUPPORT, Role.VIEWER):
        with pytest.raises(PermissionDenied, match="can't refund orders"):
            order_refund(actor=member(role), order=order, amount=D("1"), reason="x", idempotency_key=f"k-{role}")
    assert not Refund.objects.exists()


def test_another_organisation_and_another_region_are_404(paid_order, organisation, other_organisation):
    region, elsewhere = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    order = paid_order(event=EventFactory(organisation=organisation, region=region))
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[elsewhere]).user
    for actor in (outsider, limited):
        with pytest.raises(Http404):
            order_refund(actor=actor, order=order, amount=D("1"), reason="x", idempotency_key=f"k{actor.pk}")
    assert not Refund.objects.exists()
    inside = MembershipFactory(organisation=organisation, role=Role.MANAGER, regions=[region]).user
    assert order_refund(actor=inside, order=order, amount=D("1"), reason="x", idempotency_key="in").amount == D("1.00")


# --- retry --------------------------------------------------------------------------------------------------


def _failed(order: Order, manager) -> Refund:
    refund = order_refund(actor=manager, order=order, tickets=_ids(order)[:1], reason="x", idempotency_key="r")
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        refund = Refund.objects.select_related("order").get(pk=refund.pk)
        refund.order = locked
        refund_move(refund, Refund.Status.FAILED, error="Card expired")
    return Refund.objects.get(pk=refund.pk)


def test_retry_a_failed_refund(paid_order, manager, django_capture_on_commit_callbacks):
    order = paid_order()
    refund = _failed(order, manager)
    order.refresh_from_db()
    assert (refund.status, order.refunding_total) == ("failed", D("0"))
    with django_capture_on_commit_callbacks() as callbacks:
        retried = order_refund_retry(actor=manager, refund=refund, idempotency_key=refund.attempt_key)
    order.refresh_from_db()
    assert (retried.status, retried.attempt, retried.attempt_key) == ("requested", 2, "r:2")
    assert order.refunding_total == D("50.00")
    assert entries(order)[-2:] == ["refund.failed", "refund.requested"]
    assert len(callbacks) == 1


def test_retry_double_submit_retries_once(paid_order, manager):
    refund = _failed(paid_order(), manager)
    key = refund.attempt_key
    order_refund_retry(actor=manager, refund=refund, idempotency_key=key)
    again = order_refund_retry(actor=manager, refund=refund, idempotency_key=key)
    assert again.attempt == 2
    assert entries(refund.order).count("refund.requested") == 2  # the request and one retry


def test_retry_refused_unless_failed_and_for_support(paid_order, manager, member):
    order = paid_order()
    refund = order_refund(actor=manager, order=order, amount=D("5"), reason="x", idempotency_key="k")
    with pytest.raises(OrderActionError, match="The refund is still on its way: nothing to retry"):
        order_refund_retry(actor=manager, refund=refund, idempotency_key=refund.attempt_key)
    failed = _failed(paid_order(), manager)
    with pytest.raises(PermissionDenied):
        order_refund_retry(actor=member(Role.SUPPORT), refund=failed, idempotency_key=failed.attempt_key)


# --- the refund email ---------------------------------------------------------------------------------------


def test_refund_email_queued_once_and_tells_the_amount(paid_order, manager):
    order = paid_order()
    refund = order_refund(actor=manager, order=order, tickets=_ids(order)[:1], reason="x", idempotency_key="k")
    refund_email_queue(refund)
    refund_email_queue(refund)
    (message,) = order.messages.filter(kind=OutgoingMessage.Kind.REFUND_NOTICE)
    assert message.recipient == "anna@example.com" and message.status == "queued"
    email = build_email(
        OutgoingMessage.objects.select_related("order__event", "order__organisation").get(pk=message.pk)
    )
    assert "€50.00" in email.subject and "€50.00" in email.body
    assert _ids(order)[0] in email.body and "The booking fee of €2.50 is not refunded" in email.body
