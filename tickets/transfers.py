"""Replacing a ticket: transfer it to another person, cancel that transfer, reissue it with a new code.

Each is an order action of the six steps (DESIGN.md §4): the actor's Perm.TRANSFER on the order's organisation
and region (another organisation or region: 404); the order row locked, then the ticket rows (the scanner
locks the ticket row alone, so a scan and a transfer of one ticket take turns and never deadlock); a double
submit (same idempotency key, or a transfer already cancelled) returns what was done; a wrong state raises
OrderActionError with the text the page shows (tickets.transfer_rules); the change and its timeline entry in
one transaction; the email to the holder through the outbox, sent after commit.

The replaced ticket is never changed but for its status: it stays in the order, invalid, with its ticket ID and
QR secret, so the door still knows the old code and answers "invalid" (transferred) or "reissued" with no
extra query (tickets.services._verdict). The new ticket is issued on the same order line and ticket type, with
a new ticket ID and secret, and takes the old one's share of the line (orders.refund_quote.ticket_shares).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from orders.errors import OrderActionError
from orders.models import Order
from orders.status import order_lock
from orders.timeline import timeline_record
from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.codes import new_secret, new_ticket_id, with_fresh_codes
from organiser_portal.permissions import Perm, require_perm

from .models import Ticket, TicketReplacement
from .personalisation import details_missing, personal_data_fields
from .transfer_rules import refusal_reissue, refusal_transfer, refusal_transfer_cancel, reissue_recipient

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Kind, State = TicketReplacement.Kind, TicketReplacement.Status
Reason = Ticket.InvalidReason


def _require(actor: User, order: Order) -> None:
    require_perm(actor, order.organisation, Perm.TRANSFER, region_id=order.event.region_id)


def replacement_email_key(replacement: TicketReplacement) -> str:
    """The idempotency key of the email that carries a replacement's new ticket: "transfer:<id>" or
    "reissue:<id>" (notifications.emails finds the ticket by it)."""
    return f"{replacement.kind}:{replacement.pk}"


def _issue(old: Ticket, *, name: str, email: str, data: dict) -> Ticket:
    """A new valid ticket on `old`'s order line and type, with a fresh ticket ID and secret."""
    new = Ticket(
        organisation_id=old.organisation_id,
        event_id=old.event_id,
        order_id=old.order_id,
        line_id=old.line_id,
        ticket_type_id=old.ticket_type_id,
        attendee_name=name,
        attendee_email=email,
        attendee_data=data,
    )
    # The new holder's details may not be all the type asks for: the order page and lists flag it.
    new.ticket_type = old.ticket_type
    new.personal_data_missing = details_missing(new, personal_data_fields([old.ticket_type_id])[old.ticket_type_id])

    def create() -> Ticket:
        new.pk, new._state.adding = None, True
        new.public_id, new.secret = new_ticket_id(), new_secret()
        new.save(force_insert=True)
        return new

    def collided() -> bool:
        return Ticket.objects.filter(Q(public_id=new.public_id) | Q(secret=new.secret)).exists()

    return with_fresh_codes(create, collided=collided)


def _set_status(ticket: Ticket, status: str, reason: str) -> None:
    ticket.status, ticket.invalid_reason = status, reason
    ticket.save(update_fields=["status", "invalid_reason", "updated_at"])


def _locked(order: Order, ticket: Ticket, key: str) -> tuple[Order, Ticket, TicketReplacement | None]:
    """The order and the ticket, locked in that order, and the replacement `key` made already (a double submit)."""
    order = order_lock(order.pk)
    done = None
    if key:
        done = TicketReplacement.objects.filter(order=order, idempotency_key=key).first()
    return order, Ticket.objects.select_for_update().get(pk=ticket.pk), done


def _replace(
    *, actor: User, order: Order, old: Ticket, kind: str, new: Ticket, reason: str, key: str
) -> TicketReplacement:
    _set_status(old, Ticket.Status.INVALID, reason)
    return TicketReplacement.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        kind=kind,
        old_ticket=old,
        new_ticket=new,
        holder_name=new.attendee_name if kind == Kind.TRANSFER else "",
        holder_email=new.attendee_email if kind == Kind.TRANSFER else "",
        created_by=actor,
        idempotency_key=key,
    )


def _clean_email(address: str) -> str:
    try:
        return address_normalise(address).value
    except AddressError as error:
        raise OrderActionError(str(error)) from None


def ticket_transfer(
    *, actor: User, ticket: Ticket, name: str, email: str, idempotency_key: str = ""
) -> TicketReplacement:
    """Transfer `ticket` to another person: it becomes "Invalid · transferred" and a new ticket (new ticket ID and
    secret, same order line and ticket type) is issued to `name` <`email`> and emailed to them with its PDF.

    Returns the TicketReplacement (old_ticket → new_ticket). OrderActionError for an empty name, an address no
    email service would deliver to, an order that is not paid, a ticket that is invalid or used at the door.
    The same `idempotency_key` returns the first transfer and changes nothing.
    """
    order = ticket.order
    _require(actor, order)
    name = " ".join(name.split())
    if not name:
        raise OrderActionError("Enter the new holder's name.")
    email = _clean_email(email)
    with transaction.atomic():
        order, old, done = _locked(order, ticket, idempotency_key)
        if done is not None:
            return done
        if reason := refusal_transfer(order, old):
            raise OrderActionError(reason)
        new = _issue(old, name=name, email=email, data={})  # the old holder's details are not the new one's
        replacement = _replace(
            actor=actor,
            order=order,
            old=old,
            kind=Kind.TRANSFER,
            new=new,
            reason=Reason.TRANSFERRED,
            key=idempotency_key,
        )
        timeline_record(
            order=order,
            action="ticket.transfer_created",
            actor=actor,
            data={"ticket": old.public_id, "new_ticket": new.public_id, "to": f"{name} <{email}>"},
        )
        message_queue(
            order=order,
            kind=OutgoingMessage.Kind.TICKET_TRANSFER,
            recipient=email,
            actor=actor,
            idempotency_key=replacement_email_key(replacement),
        )
    return replacement


def ticket_transfer_cancel(*, actor: User, replacement: TicketReplacement) -> TicketReplacement:
    """Undo a transfer while its new ticket is unused: the new ticket becomes "Invalid · transfer cancelled",
    the original valid again (as it was: unused). A transfer cancelled already is returned unchanged.
    OrderActionError when the new ticket was used at the door or is no longer valid, or the order is not paid."""
    order = replacement.order
    _require(actor, order)
    with transaction.atomic():
        order = order_lock(order.pk)
        replacement = TicketReplacement.objects.select_for_update().get(pk=replacement.pk)
        if replacement.status == State.CANCELLED:
            return replacement
        tickets = Ticket.objects.select_for_update().in_bulk([replacement.old_ticket_id, replacement.new_ticket_id])
        old, new = tickets[replacement.old_ticket_id], tickets[replacement.new_ticket_id]
        if reason := refusal_transfer_cancel(order, replacement, new):
            raise OrderActionError(reason)
        _set_status(new, Ticket.Status.INVALID, Reason.TRANSFER_CANCELLED)
        _set_status(old, Ticket.Status.VALID, Reason.NONE)
        replacement.status, replacement.cancelled_by = State.CANCELLED, actor
        replacement.cancelled_at = new.updated_at
        replacement.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        replacement.old_ticket, replacement.new_ticket = old, new
        timeline_record(
            order=order,
            action="ticket.transfer_cancelled",
            actor=actor,
            data={"ticket": old.public_id, "new_ticket": new.public_id, "to": replacement.holder_name},
        )
    return replacement


def ticket_reissue(*, actor: User, ticket: Ticket, send_email: bool, idempotency_key: str = "") -> TicketReplacement:
    """Reissue `ticket` (its QR code was shared): it becomes "Invalid · reissued", so its old code (and its typed
    ticket ID, printed under the QR) is denied at the door with the reason "reissued"; a new ticket with a new
    ticket ID and secret and the same attendee takes its place. A new ID as well as a new secret, because the
    door also admits a typed ticket ID, which the leaked picture shows. With `send_email` the new ticket goes to
    its holder (reissue_recipient) through the outbox.

    OrderActionError for an order that is not paid, a ticket that is invalid or used at the door (a used
    ticket admits no one again; a new code would). The same `idempotency_key` returns the first reissue.
    """
    order = ticket.order
    _require(actor, order)
    with transaction.atomic():
        order, old, done = _locked(order, ticket, idempotency_key)
        if done is not None:
            return done
        if reason := refusal_reissue(order, old):
            raise OrderActionError(reason)
        new = _issue(old, name=old.attendee_name, email=old.attendee_email, data=old.attendee_data)
        replacement = _replace(
            actor=actor, order=order, old=old, kind=Kind.REISSUE, new=new, reason=Reason.REISSUED, key=idempotency_key
        )
        recipient = reissue_recipient(order, new) if send_email else ""
        timeline_record(
            order=order,
            action="ticket.reissued",
            actor=actor,
            data={"ticket": old.public_id, "new_ticket": new.public_id, "recipient": recipient},
        )
        if send_email:
            message_queue(
                order=order,
                kind=OutgoingMessage.Kind.TICKET_REISSUE,
                recipient=recipient,
                actor=actor,
                idempotency_key=replacement_email_key(replacement),
            )
    return replacement
