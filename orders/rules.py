"""When each order action may run, and why not. One source for the ⋯ menu and for the services.

Each `refusal_*` function returns None when the action may run now, or the reason it can't,
in words the page shows ("Order is cancelled"). Services raise OrderActionError with the same
text; the menu shows the item disabled with it. Permission is checked separately
(organiser_portal.permissions), so these rules only look at the order's state.
"""

from __future__ import annotations

from .models import Order

Status = Order.Status

_STATE_REASON: dict[str, str] = {
    Status.RESERVED: "Order is not paid yet",
    Status.PROCESSING_PAYMENT: "Payment is still processing",
    Status.CONFIRMING_PAYMENT: "Payment is still being confirmed",
    Status.EXPIRED: "Order expired: the purchase did not go through",
    Status.REFUNDED: "Order is fully refunded",
    Status.CANCELLED: "Order is cancelled",
}


def _not_paid(order: Order) -> str | None:
    return None if order.status == Status.PAID else _STATE_REASON[order.status]


def refusal_resend(order: Order, *, valid_tickets: int) -> str | None:
    if reason := _not_paid(order):
        return reason
    if order.tickets_held:
        return "Tickets are held for review: use Send held tickets"
    if valid_tickets == 0:
        return "No valid ticket to send"
    return None


def refusal_download(order: Order, *, valid_tickets: int) -> str | None:
    if reason := _not_paid(order):
        return reason
    if valid_tickets == 0:
        return "No valid ticket to download"
    return None


def refusal_edit_contact(order: Order) -> str | None:
    if order.status in (Status.EXPIRED,):
        return _STATE_REASON[order.status]
    return None


def refusal_change_email(order: Order) -> str | None:
    """Changing the email in particular: a verified customer account owns its address."""
    if order.customer_id is not None and order.customer is not None and order.customer.verified:
        return "Customer account is verified: the email can't be changed"
    return refusal_edit_contact(order)


def refusal_refund(order: Order) -> str | None:
    if reason := _not_paid(order):
        return reason
    if order.refunded_total >= order.total:
        return "Everything paid has been refunded"
    return None


def refusal_cancel(order: Order) -> str | None:
    if order.can_move_to(Status.CANCELLED):
        return None
    return _STATE_REASON.get(order.status, "Order can't be cancelled now")


def refusal_personalise(order: Order, *, tickets_needing_data: int) -> str | None:
    if tickets_needing_data == 0:
        return "No ticket needs personal data"
    return _not_paid(order)


def refusal_send_held(order: Order) -> str | None:
    if reason := _not_paid(order):
        return reason
    if not order.tickets_held:
        return "No tickets are held for this order"
    return None
