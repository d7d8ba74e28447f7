"""The order page's ⋯ actions menu: which actions exist, and for each whether it may run now and why not.

The template only renders the list `order_actions` returns. To switch an action on, give its
URL pattern the name in ACTIONS below (a page that takes `org` and `code` kwargs: the
confirmation form, or the download itself); the item becomes a link as soon as the name resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from organiser_portal.permissions import Access, Perm
from tickets.models import Ticket, TicketReplacement
from tickets.transfer_rules import refusal_reissue, refusal_transfer, refusal_transfer_cancel

from . import rules
from .models import Payment
from .payment_providers import UnknownProvider, provider_for
from .selectors import OrderDetail
from .sms_limits import order_sms_refusal

NOT_AVAILABLE_YET = "Not available yet"


def refund_payment(detail: OrderDetail) -> Payment | None:
    """The payment a refund goes back through: the order's latest confirmed one."""
    return next((p for p in reversed(detail.payments) if p.status == Payment.Status.CONFIRMED), None)


def refund_refusal(detail: OrderDetail) -> str | None:
    """Why the order can't be refunded now (orders/rules.py), or its payment's provider isn't enabled here."""
    if reason := rules.refusal_refund(detail.order, payments=detail.payments):
        return reason
    payment = refund_payment(detail)
    if payment is not None:
        try:
            provider_for(payment)
        except UnknownProvider:
            return rules.refusal_unknown_provider(payment)
    return None


def resend_sms_refusal(detail: OrderDetail) -> str | None:
    """Why no tickets SMS can go now: the resend rules, then the per-order SMS limits in the dialog's words
    (orders/sms_limits.py), counted on the messages the page has read: no query. The per-number limit depends on
    the number typed, so only the dialog checks it."""
    if reason := rules.refusal_resend(detail.order, valid_tickets=detail.valid_ticket_count):
        return reason
    return order_sms_refusal(order=detail.order, sms_sent_at=detail.sms_sent_at) or None


@dataclass(frozen=True)
class ActionSpec:
    key: str
    label: str
    perm: Perm
    url_name: str  # the page that starts the action; until it exists the item says "not available yet"
    refusal: Callable[[OrderDetail], str | None]  # the rule from orders/rules.py: None when allowed now


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "resend",
        "Resend tickets",
        Perm.RESEND,
        "order_resend",
        lambda d: rules.refusal_resend(d.order, valid_tickets=d.valid_ticket_count),
    ),
    ActionSpec(
        "resend_sms",
        "Resend tickets by SMS",
        Perm.RESEND,
        "order_resend_sms",
        resend_sms_refusal,
    ),
    ActionSpec(
        "edit_contact",
        "Edit contact",
        Perm.EDIT_CONTACT,
        "order_edit_contact",
        lambda d: rules.refusal_edit_contact(d.order),
    ),
    ActionSpec(
        "download",
        "Download tickets (PDF)",
        Perm.DOWNLOAD_PDF,
        "order_download",
        lambda d: rules.refusal_download(d.order, valid_tickets=d.valid_ticket_count),
    ),
    ActionSpec(
        "tickets_page",
        "Customer's tickets page",
        Perm.SHARE_TICKETS_PAGE,
        "order_tickets_page",
        lambda d: rules.refusal_tickets_page(d.order),
    ),
    ActionSpec(
        "refund",
        "Refund",
        Perm.REFUND,
        "order_refund",
        refund_refusal,
    ),
    ActionSpec(
        "cancel",
        "Cancel",
        Perm.CANCEL,
        "order_cancel",
        lambda d: rules.refusal_cancel(d.order),
    ),
    ActionSpec(
        "personalise",
        "Open personalisation",
        Perm.PERSONALISE,
        "order_personalise",
        lambda d: rules.refusal_personalise(d.order, tickets_needing_data=d.tickets_needing_data),
    ),
    ActionSpec(
        "send_held",
        "Send held tickets",
        Perm.SEND_HELD,
        "order_send_held",
        lambda d: rules.refusal_send_held(d.order),
    ),
    ActionSpec(
        "customer_create",
        "Create customer account…",
        Perm.LINK_CUSTOMERS,
        "order_customer_create",
        lambda d: rules.refusal_link_customer(d.order),
    ),
    ActionSpec(
        "customer_link",
        "Link to customer account…",
        Perm.LINK_CUSTOMERS,
        "order_customer_link",
        lambda d: rules.refusal_link_customer(d.order),
    ),
    ActionSpec(
        "customer_unlink",
        "Unlink from customer account…",
        Perm.LINK_CUSTOMERS,
        "order_customer_unlink",
        lambda d: rules.refusal_unlink_customer(d.order),
    ),
)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url: str | None  # set only when the item is enabled
    reason: str | None  # why it is disabled; None when enabled

    @property
    def enabled(self) -> bool:
        return self.url is not None


def _url(spec: ActionSpec, access: Access, detail: OrderDetail) -> str | None:
    try:
        return reverse(spec.url_name, kwargs={"org": access.organisation.slug, "code": detail.order.code})
    except NoReverseMatch:
        return None


def order_actions(access: Access, detail: OrderDetail, *, actions: Sequence[ActionSpec] = ACTIONS) -> list[MenuItem]:
    """Every action, in menu order: enabled with its URL, or disabled with the reason a person reads.

    The role comes first (a viewer should not be told the order's state is the obstacle), then
    the order's state and tickets (orders/rules.py), then whether the action is built yet.
    """
    items = []
    for spec in actions:
        url = None
        reason = access.refusal(spec.perm) or spec.refusal(detail)
        if reason is None and (url := _url(spec, access, detail)) is None:
            reason = NOT_AVAILABLE_YET
        items.append(MenuItem(spec.key, spec.label, url, reason))
    return items


# --- A ticket's own actions, on its row of the tickets table (tickets.transfers) -----------------------------


def ticket_actions(
    access: Access, detail: OrderDetail, ticket: Ticket, transfer: TicketReplacement | None
) -> list[MenuItem]:
    """The ticket row's menu: Transfer…, Reissue…, and Cancel transfer… on the new ticket of an active transfer
    (`transfer`), each enabled with its URL or disabled with the reason (the role first, then tickets.transfer_rules)."""
    order = detail.order
    specs: list[tuple[str, str, str, str | None]] = [
        ("transfer", "Transfer to another person…", "ticket_transfer", refusal_transfer(order, ticket)),
        ("reissue", "Reissue (new QR code)…", "ticket_reissue", refusal_reissue(order, ticket)),
    ]
    if transfer is not None:
        refusal = refusal_transfer_cancel(order, transfer, ticket)
        specs.append(("transfer_cancel", "Cancel transfer…", "ticket_transfer_cancel", refusal))
    role = access.refusal(Perm.TRANSFER)
    items = []
    for key, label, url_name, refusal in specs:
        reason = role or refusal
        url = None
        if reason is None:
            kwargs = {"org": access.organisation.slug, "code": order.code, "ticket_id": ticket.public_id}
            url = reverse(url_name, kwargs=kwargs)
        items.append(MenuItem(key, label, url, reason))
    return items
