"""Every write to an order. One function per action, each the same six steps (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from guests.models import Customer

# Creating, linking and unlinking a customer account are order actions of the order page; they live with the
# accounts (guests.services) and are importable from here.
from guests.services import order_customer_create as order_customer_create
from guests.services import order_customer_link as order_customer_link
from guests.services import order_customer_unlink as order_customer_unlink
from notifications.models import OutgoingMessage
from notifications.services import message_queue
from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.codes import new_order_code, with_fresh_codes
from organiser_portal.models import Event, TicketType
from organiser_portal.permissions import Perm, require_perm
from organiser_portal.phones import sms_number
from tickets.models import Ticket

# Transfer and reissue replace a ticket (tickets/transfers.py): order actions of the order page, importable from here.
from tickets.transfers import ticket_reissue as ticket_reissue
from tickets.transfers import ticket_transfer as ticket_transfer
from tickets.transfers import ticket_transfer_cancel as ticket_transfer_cancel

from . import rules
from .capacity import capacity_reserve
from .errors import OrderActionError
from .models import Order, OrderLine

# The payment side lives in orders/payments.py; its functions are order services too, importable from here.
from .payments import order_expire as order_expire
from .payments import order_mark_confirming_payment as order_mark_confirming_payment
from .payments import order_mark_paid as order_mark_paid
from .payments import order_start_payment as order_start_payment
from .pricing import ticket_type_line_amounts

# Refund, retry and cancel live in orders/refund_actions.py (the money going back), importable from here too.
from .refund_actions import order_cancel as order_cancel
from .refund_actions import order_refund as order_refund
from .refund_actions import order_refund_retry as order_refund_retry
from .selectors import suppression_refusal
from .sms_limits import sms_limit_refusal, sms_number_lock
from .status import order_lock
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Order.Status


def _lock(order: Order) -> Order:
    return order_lock(order.pk)


@dataclass(frozen=True)
class LineRequest:
    ticket_type: TicketType
    quantity: int


def order_create(
    *,
    event: Event,
    contact_name: str,
    contact_email: str,
    lines: Sequence[LineRequest],
    contact_phone: str = "",
    address: str = "",
    customer: Customer | None = None,
    promo_code: str = "",
    discount_percent: Decimal = Decimal("0"),
    complimentary: bool = False,
    idempotency_key: str = "",
    created_at: datetime | None = None,
) -> Order:
    """A reserved order with its lines and totals (prices include tax; fees are per ticket; orders.pricing).

    `complimentary`: every ticket given away, total 0 (orders.pricing.ticket_type_line_amounts). `idempotency_key`:
    the key of the form that asked for it, unique in the organisation (orders.box_office finds a repeat by it).

    Raises OrderActionError for no tickets, a ticket type of another event, or more admissions than a ticket
    type's capacity has left (orders.capacity; the limited types stay locked until the transaction ends).
    """
    if not lines or any(r.quantity < 1 for r in lines):
        raise OrderActionError("An order needs at least one ticket.")
    if any(r.ticket_type.event_id != event.pk for r in lines):
        raise OrderActionError("Every ticket type must belong to the order's event.")
    fields = {
        "organisation_id": event.organisation_id,
        "event": event,
        "customer": customer,
        "contact_name": contact_name,
        "contact_email": contact_email,
        "contact_phone": contact_phone,
        "address": address,
        "currency": event.currency,
        "promo_code": promo_code,
        "complimentary": complimentary,
        "idempotency_key": idempotency_key,
        "created_at": created_at or timezone.now(),
    }
    drawn: list[str] = []

    def create() -> Order:
        drawn.append(new_order_code())
        return Order.objects.create(code=drawn[-1], **fields)

    def collided() -> bool:
        return Order.objects.filter(organisation_id=event.organisation_id, code=drawn[-1]).exists()

    with transaction.atomic():
        capacity_reserve((r.ticket_type, r.quantity) for r in lines)
        order = with_fresh_codes(create, collided=collided)
        discount_total = total = Decimal("0")
        for request in lines:
            amounts = ticket_type_line_amounts(
                request.ticket_type,
                request.quantity,
                currency=event.currency,
                discount_percent=discount_percent,
                complimentary=complimentary,
            )
            OrderLine.objects.create(
                organisation_id=order.organisation_id,
                order=order,
                ticket_type=request.ticket_type,
                quantity=request.quantity,
                unit_price=amounts.unit_price,
                discount=amounts.discount,
                booking_fee=amounts.booking_fee,
                tax=amounts.tax,
            )
            discount_total += amounts.discount
            total += amounts.gross
        order.discount_total, order.total = discount_total, total
        order.save(update_fields=["discount_total", "total"])
        timeline_record(order=order, action="order.reserved", data={"total": str(total)})
    return order


# --- Ticket delivery: resend, edit contact, send held tickets ----------------


def _valid_ticket_count(order: Order) -> int:
    return order.tickets.filter(status=Ticket.Status.VALID).count()


def email_clean(address: str) -> str:
    """The address in its stored form (organiser_portal.addresses), invisible characters removed."""
    try:
        return address_normalise(address).value
    except AddressError as error:
        raise OrderActionError(str(error)) from None


def message_by_key(order: Order, idempotency_key: str) -> OutgoingMessage | None:
    """The order's message queued under `idempotency_key` (a form's, or a bulk send's `message_key`), or None; None
    for an empty key. Read holding the order lock: then no other request can queue one under the key meanwhile."""
    if not idempotency_key:
        return None
    return OutgoingMessage.objects.filter(order=order, idempotency_key=idempotency_key).first()


def _queue_resend(
    *,
    order: Order,
    actor: User,
    recipient: str,
    idempotency_key: str,
    pdf_attached: bool | None = None,
) -> OutgoingMessage:
    """Steps 4–6 of a resend, for a caller that checked permission, holds the order lock and found no message
    under the idempotency key (`message_by_key`)."""
    if reason := rules.refusal_resend(order, valid_tickets=_valid_ticket_count(order)):
        raise OrderActionError(reason)
    message = message_queue(
        order=order,
        kind=OutgoingMessage.Kind.TICKETS_RESEND,
        recipient=recipient,
        actor=actor,
        idempotency_key=idempotency_key,
        record_timeline=False,
        pdf_attached=pdf_attached,
    )
    data = {"recipient": recipient, "other_address": recipient.lower() != order.contact_email.lower()}
    action = "tickets.resent" if message.pdf_attached else "tickets.resent_without_pdf"
    timeline_record(order=order, action=action, actor=actor, data=data)
    return message


def order_resend_tickets(
    *,
    actor: User,
    order: Order,
    recipient: str = "",
    idempotency_key: str = "",
    complaint_confirmed: bool = False,
    pdf_attached: bool | None = None,
    suppression_confirmed: bool = False,
) -> OutgoingMessage:
    """Email the order's existing valid tickets again, to the contact email or once to `recipient`: with the
    PDF attached, or with `pdf_attached=False` the link to the customer's tickets page instead (None: as the
    event's "Attach PDF tickets to the email" says).

    Creates no order, changes no status, issues no tickets and leaves the contact as it is.
    The same idempotency key (from the confirmation form) queues one message however often
    it is submitted. An address that marked this order's email as spam is sent to only with
    `complaint_confirmed`, one on the organisation's suppression list only with
    `suppression_confirmed` (OrderActionError otherwise). A bulk send does the same for a chunk of orders at
    once (orders/bulk_chunk.py).
    """
    require_perm(actor, order.organisation, Perm.RESEND, region_id=order.event.region_id)
    with transaction.atomic():
        order = _lock(order)
        address = email_clean(recipient) if recipient.strip() else order.contact_email
        if done := message_by_key(order, idempotency_key):
            return done
        complained = order.messages.filter(recipient__iexact=address, status=OutgoingMessage.Status.COMPLAINED)
        if not complaint_confirmed and complained.exists():
            raise OrderActionError(rules.refusal_resend_complained(address))
        if not (suppression_confirmed or complaint_confirmed) and (reason := suppression_refusal(order, address)):
            raise OrderActionError(reason)
        return _queue_resend(
            order=order,
            actor=actor,
            recipient=address,
            idempotency_key=idempotency_key,
            pdf_attached=pdf_attached,
        )


def order_send_tickets_sms(*, actor: User, order: Order, phone: str, idempotency_key: str = "") -> OutgoingMessage:
    """Send the link to the order's tickets page by SMS to `phone`: the order's phone or a number typed in once.

    `phone` as written (read in the event's country unless it starts with +…; organiser_portal.phones.sms_number);
    OrderActionError when it is not a mobile number, when the order can't be resent now (rules.refusal_resend), or
    past an SMS sending limit of the order or the number (orders.sms_limits: nothing written).
    The SMS goes through the outbox like an email; the timeline names who sent it and to which number. Changes no
    status, issues no tickets, leaves the contact as it is. The same idempotency key queues one SMS.
    """
    require_perm(actor, order.organisation, Perm.RESEND, region_id=order.event.region_id)
    try:
        number = sms_number(phone, order.event.phone_region)
    except ValidationError as error:
        raise OrderActionError(error.messages[0]) from None
    with transaction.atomic():
        order = _lock(order)
        if done := message_by_key(order, idempotency_key):
            return done
        if reason := rules.refusal_resend(order, valid_tickets=_valid_ticket_count(order)):
            raise OrderActionError(reason)
        sms_number_lock(organisation_id=order.organisation_id, number=number)
        if reason := sms_limit_refusal(order=order, number=number):
            raise OrderActionError(reason)
        message = message_queue(
            order=order,
            kind=OutgoingMessage.Kind.TICKETS_SMS,
            channel=OutgoingMessage.Channel.SMS,
            recipient=number,
            actor=actor,
            idempotency_key=idempotency_key,
            record_timeline=False,
        )
        timeline_record(
            order=order,
            action="tickets.sms_sent",
            actor=actor,
            data={
                "recipient": message.recipient_shown,
                "message": message.pk,
                "other_number": number != order.contact_phone_e164,
            },
        )
    return message


def order_change_contact(
    *,
    actor: User,
    order: Order,
    name: str,
    email: str,
    phone: str,
    resend_tickets: bool = False,
    idempotency_key: str = "",
) -> Order:
    """Change the order's contact name, email and phone; the timeline records old → new.

    A verified customer account owns its address: the email of its orders can't be changed.
    With resend_tickets, the tickets also go to the (new) address in the same step — this is
    "Fix and resend" on a bounced email.
    """
    require_perm(actor, order.organisation, Perm.EDIT_CONTACT, region_id=order.event.region_id)
    if resend_tickets:
        require_perm(actor, order.organisation, Perm.RESEND, region_id=order.event.region_id)
    name, phone, email = name.strip(), phone.strip(), email.strip()
    if not name:
        raise OrderActionError("The contact needs a name.")
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("event", "customer").get(pk=order.pk)
        # Only a new address meets the rule: one stored before it never blocks a name or phone edit.
        if email != order.contact_email:
            email = email_clean(email)
        new = {"contact_name": name, "contact_email": email, "contact_phone": phone}
        changed = {
            field: (getattr(order, field), value) for field, value in new.items() if getattr(order, field) != value
        }
        if changed:
            if reason := rules.refusal_edit_contact(order):
                raise OrderActionError(reason)
            if "contact_email" in changed and (reason := rules.refusal_change_email(order)):
                raise OrderActionError(reason)
            for field, (_old, value) in changed.items():
                setattr(order, field, value)
            order.save(update_fields=list(changed))
            words = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
            timeline_record(
                order=order,
                action="order.contact_changed",
                actor=actor,
                data={
                    "changes": "; ".join(
                        f"{words[f]} {old or '—'} → {value or '—'}" for f, (old, value) in changed.items()
                    ),
                    "old": {f: old for f, (old, _v) in changed.items()},
                    "new": {f: value for f, (_o, value) in changed.items()},
                },
            )
        if resend_tickets and not message_by_key(order, idempotency_key):
            _queue_resend(order=order, actor=actor, recipient=order.contact_email, idempotency_key=idempotency_key)
        return order


def order_send_held_tickets(*, actor: User, order: Order, idempotency_key: str = "") -> Order:
    """Release an order held for review: its tickets email is queued to the contact address.

    An order with nothing held is refused with the menu's reason (rules.refusal_send_held), never
    answered "sent"; the same idempotency key (a double submit of the form) is the one release again.
    A bulk send releases a chunk of orders at once the same way (orders/bulk_chunk.py).
    """
    require_perm(actor, order.organisation, Perm.SEND_HELD, region_id=order.event.region_id)
    with transaction.atomic():
        order = _lock(order)
        if message_by_key(order, idempotency_key):
            return order
        if reason := rules.refusal_release(order, valid_tickets=_valid_ticket_count(order)):
            raise OrderActionError(reason)
        order.tickets_held = False
        order.save(update_fields=["tickets_held"])
        message_queue(
            order=order,
            kind=OutgoingMessage.Kind.TICKETS,
            recipient=order.contact_email,
            actor=actor,
            idempotency_key=idempotency_key,
            record_timeline=False,
        )
        data = {"recipient": order.contact_email}
        timeline_record(order=order, action="order.held_tickets_sent", actor=actor, data=data)
        return order
