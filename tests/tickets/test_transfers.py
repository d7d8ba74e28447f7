"""Transfer, cancel a transfer, reissue (tickets.transfers): what each does to the tickets, the timeline and the
outbox; a double submit does nothing twice; a wrong state, a role without Perm.TRANSFER, another organisation
or region are refused and change nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from notifications.emails import PermanentSendError, build_email
from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.refund_quote import ticket_shares
from orders.services import order_cancel, ticket_reissue, ticket_transfer, ticket_transfer_cancel
from orders.timeline import describe
from organiser_portal.models import Membership
from tests.factories import EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory
from tickets.models import Ticket, TicketReplacement

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def support(member):
    return member(Role.SUPPORT)


@pytest.fixture
def order(make_order) -> Order:
    return make_order(quantity=2)


def entries(order: Order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


def first_ticket(order: Order) -> Ticket:
    return order.tickets.order_by("id")[0]


def message_for_sending(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.select_related("order__event", "order__organisation").get(pk=message.pk)


def transfer(support, ticket, key="k1", **kwargs):
    kwargs.setdefault("name", "Ben Okafor")
    kwargs.setdefault("email", "ben@example.com")
    return ticket_transfer(actor=support, ticket=ticket, idempotency_key=key, **kwargs)


# --- Transfer ---------------------------------------------------------------------------------------------


def test_a_transfer_invalidates_the_ticket_and_issues_a_new_one_to_the_new_holder(support, order):
    old = first_ticket(order)
    before, email_status = entries(order), order.email_status

    replacement = transfer(support, old)

    old.refresh_from_db()
    new = replacement.new_ticket
    assert old.display_status == "Invalid · transferred"
    assert new.display_status == "Valid · unused"
    assert (new.public_id, new.secret) != (old.public_id, old.secret) and len(new.public_id) == len(old.public_id)
    assert (new.order_id, new.line_id, new.ticket_type_id, new.event_id) == (
        old.order_id,
        old.line_id,
        old.ticket_type_id,
        old.event_id,
    )
    assert (new.attendee_name, new.attendee_email) == ("Ben Okafor", "ben@example.com")
    assert (replacement.kind, replacement.status, replacement.old_ticket, replacement.created_by) == (
        "transfer",
        "active",
        old,
        support,
    )
    assert entries(order) == [*before, "ticket.transfer_created", "email.queued"]
    entry = TimelineEntry.objects.get(order=order, action="ticket.transfer_created")
    assert entry.actor == support
    assert describe(entry.action, entry.data) == (
        f"Item transfer created: ticket {old.public_id} to Ben Okafor <ben@example.com>, new ticket {new.public_id}"
    )
    (message,) = order.messages.filter(kind=OutgoingMessage.Kind.TICKET_TRANSFER)
    assert message.recipient == "ben@example.com" and message.created_by == support
    email = build_email(message_for_sending(message))
    assert email.to == ["ben@example.com"] and new.public_id in email.subject
    ((filename, content, mimetype),) = email.attachments
    assert filename == f"tickets-{order.code}-{new.public_id}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    order.refresh_from_db()
    assert order.email_status == email_status  # the holder's email is not the order's tickets email


def test_the_new_ticket_takes_the_old_ones_share_of_the_line(support, order):
    old, other = order.tickets.order_by("id")
    shares_before = {s.ticket.pk: s.price for s in ticket_shares(order)}
    new = transfer(support, old).new_ticket
    shares = {s.ticket.pk: s.price for s in ticket_shares(order)}
    assert shares == {other.pk: shares_before[other.pk], new.pk: shares_before[old.pk]}


def test_a_double_submit_transfers_once(support, order):
    old = first_ticket(order)
    first = transfer(support, old)
    again = transfer(support, old, name="Somebody Else", email="else@example.com")
    assert again.pk == first.pk
    assert TicketReplacement.objects.count() == 1 and order.tickets.count() == 3
    assert entries(order).count("ticket.transfer_created") == 1
    assert order.messages.filter(kind="ticket_transfer").count() == 1


def test_a_transferred_ticket_cant_be_transferred_again(support, order):
    old = first_ticket(order)
    transfer(support, old)
    with pytest.raises(
        OrderActionError, match=f"Ticket {old.public_id} is invalid · transferred: it can't be transferred"
    ):
        transfer(support, old, key="k2")


def test_a_used_ticket_is_refused_with_the_reason(support, order):
    old = first_ticket(order)
    Ticket.objects.filter(pk=old.pk).update(used_at=timezone.now())
    before = entries(order)
    with pytest.raises(
        OrderActionError, match=f"Ticket {old.public_id} has been used at the door: it can't be transferred"
    ):
        transfer(support, old)
    assert entries(order) == before and order.tickets.count() == 2 and not TicketReplacement.objects.exists()


def test_an_invalid_ticket_and_an_unpaid_order_are_refused(support, member, order, make_order):
    old = first_ticket(order)
    Ticket.objects.filter(pk=old.pk).update(status="invalid", invalid_reason="refunded")
    with pytest.raises(OrderActionError, match="is invalid · refunded: it can't be transferred"):
        transfer(support, old)
    cancelled = make_order()
    order_cancel(actor=member(Role.MANAGER), order=cancelled, idempotency_key="c")
    with pytest.raises(OrderActionError, match="Order is cancelled"):
        transfer(support, first_ticket(cancelled))
    reserved = make_order(paid=False)
    assert not reserved.tickets.exists()
    assert not TicketReplacement.objects.exists()


@pytest.mark.parametrize(
    ("name", "email", "error"),
    [("  ", "ben@example.com", "Enter the new holder's name."), ("Ben", "ben@", "is not a valid email address")],
)
def test_bad_input_changes_nothing(support, order, name, email, error):
    before = entries(order)
    with pytest.raises(OrderActionError, match=error):
        transfer(support, first_ticket(order), name=name, email=email)
    assert entries(order) == before and order.tickets.count() == 2


def test_a_viewer_is_refused_with_the_role_reason(member, order):
    with pytest.raises(PermissionDenied, match=r"Your role \(Viewer\) can't transfer or reissue tickets"):
        transfer(member(Role.VIEWER), first_ticket(order))
    with pytest.raises(PermissionDenied):
        ticket_reissue(actor=member(Role.VIEWER), ticket=first_ticket(order), send_email=False)
    assert not TicketReplacement.objects.exists()


def test_another_organisation_and_another_region_are_404(make_order, organisation, other_organisation):
    region, elsewhere = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    event = EventFactory(organisation=organisation, region=region)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(organisation=organisation, role=Role.SUPPORT, regions=[elsewhere]).user
    for actor in (outsider, limited):
        with pytest.raises(Http404):
            transfer(actor, first_ticket(order))
        with pytest.raises(Http404):
            ticket_reissue(actor=actor, ticket=first_ticket(order), send_email=True)
    assert not TicketReplacement.objects.exists()


# --- Cancel a transfer ------------------------------------------------------------------------------------


def test_cancelling_a_transfer_restores_the_original(support, order):
    old = first_ticket(order)
    replacement = transfer(support, old)
    before = entries(order)

    cancelled = ticket_transfer_cancel(actor=support, replacement=replacement)

    old.refresh_from_db()
    new = Ticket.objects.get(pk=replacement.new_ticket_id)
    assert old.display_status == "Valid · unused"
    assert new.display_status == "Invalid · transfer cancelled"
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", support) and cancelled.cancelled_at
    assert entries(order) == [*before, "ticket.transfer_cancelled"]
    entry = TimelineEntry.objects.get(order=order, action="ticket.transfer_cancelled")
    assert describe(entry.action, entry.data) == (
        f"Item transfer cancelled: ticket {old.public_id} valid again, {new.public_id} invalid"
    )
    assert {s.ticket.pk for s in ticket_shares(order)} == set(
        order.tickets.filter(status="valid").values_list("pk", flat=True)
    )
    # A second cancel (a double submit) changes nothing; the original can be transferred again.
    ticket_transfer_cancel(actor=support, replacement=replacement)
    assert entries(order).count("ticket.transfer_cancelled") == 1
    again = transfer(support, old, key="k2", name="Cleo Park", email="cleo@example.com")
    assert again.new_ticket.attendee_name == "Cleo Park"


def test_the_email_of_a_transfer_cancelled_before_it_went_out_is_not_sent(support, order):
    replacement = transfer(support, first_ticket(order))
    ticket_transfer_cancel(actor=support, replacement=replacement)
    message = order.messages.get(kind="ticket_transfer")
    with pytest.raises(PermanentSendError, match="invalid · transfer cancelled: not sent"):
        build_email(message_for_sending(message))


def test_a_transfer_whose_new_ticket_was_used_cant_be_cancelled(support, order):
    replacement = transfer(support, first_ticket(order))
    new = replacement.new_ticket
    Ticket.objects.filter(pk=new.pk).update(used_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(
        OrderActionError,
        match=f"The new ticket {new.public_id} has been used at the door: the transfer can't be cancelled",
    ):
        ticket_transfer_cancel(actor=support, replacement=replacement)
    replacement.refresh_from_db()
    assert replacement.status == "active"
    assert set(order.tickets.values_list("status", flat=True)) == {"valid", "invalid"}


def test_a_transfer_whose_new_ticket_was_passed_on_cant_be_cancelled(support, order):
    first = transfer(support, first_ticket(order))
    transfer(support, first.new_ticket, key="k2", name="Cleo Park", email="cleo@example.com")
    with pytest.raises(OrderActionError, match="is invalid · transferred: the transfer can't be cancelled"):
        ticket_transfer_cancel(actor=support, replacement=first)


def test_a_viewer_cant_cancel_a_transfer(support, member, order):
    replacement = transfer(support, first_ticket(order))
    with pytest.raises(PermissionDenied, match="can't transfer or reissue tickets"):
        ticket_transfer_cancel(actor=member(Role.VIEWER), replacement=replacement)
    replacement.refresh_from_db()
    assert replacement.status == "active"


# --- Reissue ----------------------------------------------------------------------------------------------


def test_a_reissue_gives_a_new_id_and_code_for_the_same_attendee_and_can_send_it(support, order):
    old = first_ticket(order)
    Ticket.objects.filter(pk=old.pk).update(attendee_email="anna.m@example.com", attendee_data={"company": "ACME"})
    old.refresh_from_db()
    before = entries(order)

    reissue = ticket_reissue(actor=support, ticket=old, send_email=True, idempotency_key="r1")

    old.refresh_from_db()
    new = reissue.new_ticket
    assert old.display_status == "Invalid · reissued" and new.display_status == "Valid · unused"
    assert new.public_id != old.public_id and new.secret != old.secret
    assert (new.attendee_name, new.attendee_email, new.attendee_data) == (
        old.attendee_name,
        "anna.m@example.com",
        {"company": "ACME"},
    )
    assert entries(order) == [*before, "ticket.reissued", "email.queued"]
    entry = TimelineEntry.objects.get(order=order, action="ticket.reissued")
    assert describe(entry.action, entry.data).startswith(f"Ticket {old.public_id} reissued as {new.public_id}")
    (message,) = order.messages.filter(kind=OutgoingMessage.Kind.TICKET_REISSUE)
    assert message.recipient == "anna.m@example.com"
    email = build_email(message_for_sending(message))
    assert "Your new ticket" in email.subject
    assert email.attachments[0][0] == f"tickets-{order.code}-{new.public_id}.pdf"
    # A double submit reissues once.
    assert ticket_reissue(actor=support, ticket=old, send_email=True, idempotency_key="r1").pk == reissue.pk
    assert order.tickets.count() == 3 and order.messages.filter(kind="ticket_reissue").count() == 1


def test_a_reissue_without_the_email_sends_nothing(support, order):
    ticket_reissue(actor=support, ticket=first_ticket(order), send_email=False, idempotency_key="r1")
    assert not order.messages.filter(kind="ticket_reissue").exists()
    assert entries(order)[-1] == "ticket.reissued"


def test_a_used_or_invalid_ticket_cant_be_reissued(support, order):
    used, invalid = order.tickets.order_by("id")
    Ticket.objects.filter(pk=used.pk).update(used_at=timezone.now())
    Ticket.objects.filter(pk=invalid.pk).update(status="invalid", invalid_reason="cancelled")
    with pytest.raises(
        OrderActionError, match=f"Ticket {used.public_id} has been used at the door: it can't be reissued"
    ):
        ticket_reissue(actor=support, ticket=used, send_email=True)
    with pytest.raises(OrderActionError, match="is invalid · cancelled: it can't be reissued"):
        ticket_reissue(actor=support, ticket=invalid, send_email=True)
    assert order.tickets.count() == 2 and not order.messages.filter(kind="ticket_reissue").exists()
