"""When each order action may run, and why not. One source for the ⋯ menu and for the services.

Each `refusal_*` function returns None when the action may run now, or the reason it can't,
in words the page shows ("Order is cancelled"). Services raise OrderActionError with the same
text; the menu shows the item disabled with it. Permission is checked separately
(organiser_portal.permissions), so these rules only look at the order's state.
"""

from __future__ import annotations

from collections.abc import Sequence

from notifications.refusals import for_content, for_sender, mentions_content

from .models import Order, OrderEmailStatus, Payment, Refund

Status = Order.Status

_STATE_REASON: dict[str, str] = {
    Status.RESERVED: "Order is not paid yet",
    Status.PROCESSING_PAYMENT: "Payment is still processing",
    Status.CONFIRMING_PAYMENT: "Payment is still being confirmed",
    Status.EXPIRED: "Order expired: the purchase did not go through",
    Status.REFUNDED: "Order is fully refunded",
    Status.CANCELLED: "Order is cancelled",
}


NO_VALID_TICKET = "No valid ticket to send"
COMPLIMENTARY_NO_REFUND = "Complimentary order: nothing was paid, so nothing can be refunded"


def _not_paid(order: Order) -> str | None:
    return None if order.status == Status.PAID else _STATE_REASON[order.status]


def refusal_not_paid(order: Order) -> str | None:
    """Why an action on a paid order's tickets can't run in the order's state ("Order is cancelled"), or None."""
    return _not_paid(order)


def refusal_resend(order: Order, *, valid_tickets: int) -> str | None:
    if reason := _not_paid(order):
        return reason
    if order.tickets_held:
        return "Tickets are held for review: use Send held tickets"
    if valid_tickets == 0:
        return NO_VALID_TICKET
    return None


def refusal_resend_complained(address: str) -> str:
    """Why a resend to `address`, which marked this order's tickets email as spam, waits for the agent to confirm
    that the guest asked for it (the bulk send skips it with the same words)."""
    return f"{address} marked the tickets email as spam: confirm that the guest asked for it to resend anyway."


def refusal_tickets_page(order: Order) -> str | None:
    """The customer's tickets page link (shown, made new): only a paid order has tickets to show."""
    return _not_paid(order)


def refused_for_sender(email_status: str, reason: str) -> bool:
    """Whether the latest tickets email bounced or was rejected because the receiving server refused mail from
    the organisation's sending domain (SPF, DKIM, DMARC, reputation): neither the address's fault nor the
    content's, and resending won't help until the sending domain's settings are fixed."""
    return email_status in (OrderEmailStatus.BOUNCED, OrderEmailStatus.REJECTED) and for_sender(reason)


def refused_for_content(email_status: str, reason: str) -> bool:
    """Whether the latest tickets email bounced, was rejected or failed for what it carried (a blocked PDF
    attachment, a content or policy filter: SMTP 5.7.x) rather than for its address, from its status and
    the email service's reason. The order page then advises sending without the PDF, not fixing the address."""
    return email_status in (
        OrderEmailStatus.BOUNCED,
        OrderEmailStatus.REJECTED,
        OrderEmailStatus.FAILED,
    ) and for_content(reason)


def offer_without_pdf(email_status: str, reason: str) -> bool:
    """Whether the resend dialog offers the tickets email without the PDF (the tickets page link instead),
    from the latest tickets email's status and reason: rejected, or bounced or failed for its content."""
    if email_status == OrderEmailStatus.REJECTED:
        return True
    return email_status in (OrderEmailStatus.BOUNCED, OrderEmailStatus.FAILED) and mentions_content(reason)


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


def refusal_refund(order: Order, *, payments: Sequence[Payment] | None = None) -> str | None:
    """Whether money can go back now. `payments`: the order's payments when the caller has them (the page);
    a refund goes back through a confirmed one."""
    if reason := _not_paid(order):
        return reason
    if order.complimentary:
        return COMPLIMENTARY_NO_REFUND
    if order.refunded_total >= order.total:
        return "Everything paid has been refunded"
    if order.refunded_total + order.refunding_total >= order.total:
        return "Everything paid is already on its way back"
    if payments is not None and not any(p.status == Payment.Status.CONFIRMED for p in payments):
        return "No confirmed payment to refund to"
    return None


def refusal_unknown_provider(payment: Payment) -> str:
    """Why a payment whose provider isn't enabled here (orders.payment_providers.UnknownProvider) can't refund."""
    return f"The payment's provider ({payment.provider}) is unknown here: refund it where it was paid"


def refusal_cancel(order: Order) -> str | None:
    if order.can_move_to(Status.CANCELLED):
        return None
    return _STATE_REASON.get(order.status, "Order can't be cancelled now")


def refusal_refund_retry(refund: Refund) -> str | None:
    """Whether a refund can be tried again: only one that ended in "Refund error"."""
    if refund.status == Refund.Status.FAILED:
        return None
    if refund.status == Refund.Status.SUCCEEDED:
        return "The refund went through: nothing to retry"
    return "The refund is still on its way: nothing to retry"


# A refund's status in the support articles' words, on the order page and its Refund section.
REFUND_STATE_WORDS: dict[str, str] = {
    Refund.Status.REQUESTED: "Refunding items",
    Refund.Status.PROCESSING: "Refunding items",
    Refund.Status.CONFIRMING: "Confirming refund",
    Refund.Status.SUCCEEDED: "Item refunded",
    Refund.Status.FAILED: "Refund error",
}


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


def refusal_release(order: Order, *, valid_tickets: int) -> str | None:
    """Send held tickets, with the order's count of valid tickets: `refusal_send_held`, then a ticket to send."""
    if reason := refusal_send_held(order):
        return reason
    return NO_VALID_TICKET if valid_tickets == 0 else None


# --- Customer accounts (guests.services): create, link, unlink ---------------------------------------------


def refusal_link_customer(order: Order) -> str | None:
    """Whether the order can get a customer account (created or linked): only a guest checkout can."""
    if order.customer_id is not None:
        return "Order is linked to a customer account already: unlink it first"
    return None


def refusal_unlink_customer(order: Order) -> str | None:
    if order.customer_id is None:
        return "Guest checkout: no customer account to unlink"
    return None
