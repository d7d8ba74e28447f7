"""The order timeline: the one writer, and the words a support agent reads for each action code.

Action codes are namespaced (`order.paid`, `email.bounced`, …). Every code a service writes
has a sentence here; the order page renders entries through `describe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .models import Order, TimelineEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ActorKind = TimelineEntry.ActorKind

# action code → sentence; {placeholders} are filled from the entry's data.
ACTIONS: dict[str, str] = {
    "order.reserved": "Order reserved",
    "order.expired": "Order expired: {reason}",
    "order.processing_payment": "Payment processing",
    "order.confirming_payment": "Confirming payment",
    "order.paid": "Order paid",
    "order.refunded": "Order fully refunded",
    "order.cancelled": "Order cancelled",
    "order.imported": "Order imported from {source}",
    "order.box_office_created": "Box-office order created: {total} paid, {payment}",
    "order.complimentary_created": "Complimentary order created (no charge): {reason}",
    "order.contact_changed": "Contact changed: {changes}",
    "order.tickets_held": "Tickets held for review: the event does not send tickets automatically",
    "order.imported_held": "Order imported from {source}; tickets held for review: the import did not send them",
    "order.held_tickets_sent": "Held tickets released and sent to {recipient}",
    "order.customer_created": "Customer account created for {customer} and linked to this order",
    "order.customer_linked": "Linked to customer account {customer}",
    "order.customer_unlinked": "Unlinked from customer account {customer}: now a guest checkout",
    "order.customer_merged": "Customer account {merged} merged into {customer}: this order moved to it",
    "order.held_tickets_sent_in_bulk": "Held tickets released and sent to {recipient} in bulk send {bulk}",
    "refund.requested": "Refund of {amount} requested",
    "refund.processing": "Refunding items: {amount}",
    "refund.confirming": "Confirming refund of {amount}",
    "refund.succeeded": "Item refunded: {amount} back to the buyer",
    "refund.failed": "Refund error: {error}",
    "ticket.refunded": "Ticket {ticket} invalid: refunded",
    "ticket.cancelled": "Item cancelled: ticket {ticket}",
    "ticket.invalidated": "Ticket {ticket} invalidated",
    "ticket.transfer_created": "Item transfer created: ticket {ticket} to {to}, new ticket {new_ticket}",
    "ticket.transfer_cancelled": "Item transfer cancelled: ticket {ticket} valid again, {new_ticket} invalid",
    "ticket.reissued": "Ticket {ticket} reissued as {new_ticket}: its old code is refused at the door",
    "ticket.personalised": "Attendee details of ticket {ticket} changed: {changes}",
    "tickets.resent": "Tickets resent to {recipient}",
    "tickets.resent_without_pdf": "Tickets resent to {recipient} without the PDF: with the link to the tickets page",
    "tickets.sms_sent": "Tickets link sent by SMS to {recipient}",
    "tickets_page.new_link": "New tickets page link made: the links sent before no longer work",
    "tickets_page.links_requested": "Find my tickets: the links to {orders} current order(s) emailed to {recipient}",
    "tickets.resent_in_bulk": "Tickets resent to {recipient} in bulk send {bulk}",
    "email.suppression_removed": "{address} taken off the suppression list ({why}): {reason}",
    "email.queued": "{kind} email queued for {recipient}",
    "email.sent": "{kind} email sent to {recipient}",
    "email.resent_unconfirmed": "{kind} email sent to {recipient} once more: the email service never confirmed it",
    "email.delivered": "{kind} email delivered to {recipient}",
    "email.deferred": "{kind} email to {recipient} deferred: {reason}",
    "email.bounced": "{kind} email to {recipient} bounced: {reason}",
    "email.rejected": "{kind} email to {recipient} rejected: {reason}",
    "email.failed": "{kind} email to {recipient} failed: {reason}",
    "email.complained": "{recipient} marked the {kind} email as spam",
    "email.autoreplied": "Automatic reply (e.g. out of office) from {recipient} to the {kind} email: {reason}",
    "sms.queued": "{kind} SMS queued for {recipient}",
    "sms.sent": "{kind} SMS sent to {recipient}",
    "sms.resent_unconfirmed": "{kind} SMS sent to {recipient} once more: the SMS provider never confirmed it",
    "sms.delivered": "{kind} SMS delivered to {recipient}",
    "sms.deferred": "{kind} SMS to {recipient} delayed: {reason}",
    "sms.bounced": "{kind} SMS to {recipient} undelivered: {reason}",
    "sms.rejected": "{kind} SMS to {recipient} rejected: {reason}",
    "sms.failed": "{kind} SMS to {recipient} failed: {reason}",
    "sms.complained": "{recipient} reported the {kind} SMS as spam",
    "sms.autoreplied": "Automatic reply from {recipient} to the {kind} SMS: {reason}",
    # Door scans are read from the Scan rows (ScanEntry), never written as entries: the scanner path stays lean.
    "scan.admitted": "Ticket {ticket} admitted at {place}",
    "scan.denied": "Ticket {ticket} denied at {place}: {reason}",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def describe(action: str, data: dict[str, Any]) -> str:
    """The sentence for one timeline entry; unknown codes are shown as they are."""
    template = ACTIONS.get(action)
    if template is None:
        return action
    return template.format_map(_Blank({k: v for k, v in data.items() if v not in (None, "")}))


def timeline_record(
    *,
    order: Order,
    action: str,
    actor: User | None = None,
    actor_kind: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one entry. Call it inside the transaction that makes the change it records."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown timeline action {action!r}: add its sentence to orders.timeline.ACTIONS")
    kind = actor_kind or (ActorKind.USER if actor is not None else ActorKind.SYSTEM)
    return TimelineEntry.objects.create(
        organisation_id=order.organisation_id,
        order=order,
        actor=actor,
        actor_kind=kind,
        action=action,
        data=data or {},
    )


def timeline_record_many(*, entries: list[tuple[Order, str, dict[str, Any]]], actor: User | None) -> None:
    """Append one entry per (order, action, data), all by `actor`, in one INSERT: `timeline_record` for a batch
    (a bulk send's chunk). Call inside the transaction that makes the changes they record."""
    for _order, action, _data in entries:
        if action not in ACTIONS:
            raise ValueError(f"Unknown timeline action {action!r}: add its sentence to orders.timeline.ACTIONS")
    kind = ActorKind.USER if actor is not None else ActorKind.SYSTEM
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            organisation_id=order.organisation_id, order=order, actor=actor, actor_kind=kind, action=action, data=data
        )
        for order, action, data in entries
    )


@dataclass(frozen=True)
class ScanEntry:
    """A door scan as the order's timeline shows it, beside the TimelineEntry rows (same attributes the page
    reads): made from a Scan when the page is read, so a check-in writes no timeline row."""

    created_at: datetime
    action: str  # "scan.admitted" or "scan.denied"
    data: dict[str, Any] = field(default_factory=dict)  # ticket, place, reason (the words shown)
    device: str = ""
    actor: None = None

    @property
    def sentence(self) -> str:
        return describe(self.action, self.data)

    def get_actor_kind_display(self) -> str:
        return f"Scanner {self.device}" if self.device else "Scanner"


def scan_entry(
    *, ticket: str, scanned_at: datetime, result: str, reason: str, area: str, point: str, device: str
) -> ScanEntry:
    """The timeline's line for one scan of ticket `ticket` (its ticket ID); `reason` in words ("Already used")."""
    place = " · ".join(name for name in (area, point) if name) or "the door"
    data = {"ticket": ticket, "place": place, "reason": reason.lower()}
    return ScanEntry(scanned_at, f"scan.{result}", data, device)
