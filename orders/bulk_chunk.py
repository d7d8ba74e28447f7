"""One chunk of a bulk send (orders/bulk.py): about a hundred orders resent or released in a few statements.

What `order_resend_tickets` / `order_send_held_tickets` do for one order, for a chunk of them at once and with
the same outcome per order: the orders locked (one statement, by id: order rows first, then message rows, the
house lock order of docs/reliability.md), each re-checked by the same rules (rules.py) and the same complaint and
suppression checks, their messages inserted under the job's idempotency key (so a re-run after a killed worker
finds them and queues nothing twice), their timeline entries, "Order email status" and released holds written,
and the messages handed over after commit with the job's pacing. About ten queries per chunk, not ten per order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count

from notifications.models import MessageStatus, OutgoingMessage
from notifications.selectors import suppressions_for
from notifications.services import MessageRequest, messages_queue_many
from organiser_portal.permissions import Perm, require_perm
from tickets.models import Ticket

from . import rules
from .models import BulkSend, Order
from .selectors import suppression_reason
from .timeline import timeline_record_many

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Action = BulkSend.Action


@dataclass
class ChunkOutcome:
    """What a chunk did: orders whose email is queued (now, or by an earlier run of the job), and the ones skipped
    ({code, reason}, in the chunk's order)."""

    done: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


def bulk_chunk_send(*, bulk: BulkSend, actor: User, order_ids: list[int]) -> ChunkOutcome:
    """Send the job's `action` to `order_ids` (the job's next chunk, in its sending order) as `actor`.

    Call inside the job's transaction (its row locked); commits nothing itself. The n-th email the job sends is
    due at `first_send_at + n × 60 / per_minute` s, n counting from `bulk.done`. Orders not of the job's event
    (deleted meanwhile) are passed over. Raises PermissionDenied / Http404 when `actor` may no longer send for
    the event (organiser_portal.permissions), before anything is written.
    """
    event = bulk.event
    perm = Perm.SEND_HELD if bulk.action == Action.SEND_HELD else Perm.RESEND
    require_perm(actor, event.organisation, perm, region_id=event.region_id)
    locked = Order.objects.select_for_update(of=("self",)).filter(event_id=event.pk, pk__in=order_ids).order_by("pk")
    by_id = {o.pk: o for o in locked}
    for each in by_id.values():
        each.event = event  # the job's, read with it: no join in the lock
    key = bulk.message_key
    queued = set(
        OutgoingMessage.objects.filter(order_id__in=by_id, idempotency_key=key).values_list("order_id", flat=True)
    )
    fresh = [i for i in order_ids if i in by_id and i not in queued]
    refusal = _refusals(bulk, [by_id[i] for i in fresh])
    interval = timedelta(seconds=60 / max(bulk.per_minute, 1))
    outcome = ChunkOutcome()
    requests: list[MessageRequest] = []
    for order_id in order_ids:
        order = by_id.get(order_id)
        if order is None:
            continue
        if order_id not in queued:
            if reason := refusal.get(order_id):
                outcome.skipped.append({"code": order.code, "reason": reason})
                continue
            due = bulk.first_send_at + interval * (bulk.done + outcome.done)
            requests.append(MessageRequest(order=order, recipient=order.contact_email, not_before=due))
        outcome.done += 1
    _send(bulk, actor, requests)
    return outcome


def _refusals(bulk: BulkSend, orders: list[Order]) -> dict[int, str]:
    """Why each order that can't be sent now can't, by order id: the checks of the single services, in their
    order and words (a complaint, then the suppression list, then rules.py for a resend; rules.py for a release)."""
    if not orders:
        return {}
    valid = dict(
        Ticket.objects.filter(order_id__in=[o.pk for o in orders], status=Ticket.Status.VALID)
        .values("order_id")
        .annotate(n=Count("pk"))
        .values_list("order_id", "n")
    )
    if bulk.action == Action.SEND_HELD:
        release = {o.pk: rules.refusal_release(o, valid_tickets=valid.get(o.pk, 0)) for o in orders}
        return {pk: reason for pk, reason in release.items() if reason}
    complained = {
        (order_id, recipient.upper())
        for order_id, recipient in OutgoingMessage.objects.filter(
            order_id__in=[o.pk for o in orders], status=MessageStatus.COMPLAINED
        ).values_list("order_id", "recipient")
    }  # recipient__iexact compares UPPER() on PostgreSQL
    suppressed = suppressions_for(bulk.organisation_id, [o.contact_email for o in orders])
    reasons: dict[int, str] = {}
    for order in orders:
        address = order.contact_email
        if (order.pk, address.upper()) in complained:
            reasons[order.pk] = rules.refusal_resend_complained(address)
        elif listed := suppressed.get(address.lower()):
            reasons[order.pk] = suppression_reason(listed)
        elif reason := rules.refusal_resend(order, valid_tickets=valid.get(order.pk, 0)):
            reasons[order.pk] = reason
    return reasons


def _send(bulk: BulkSend, actor: User, requests: list[MessageRequest]) -> None:
    """Queue the chunk's messages and write what the single services write beside them."""
    if not requests:
        return
    entries: list[tuple[Order, str, dict[str, Any]]]
    if bulk.action == Action.SEND_HELD:
        released = [r.order.pk for r in requests]
        Order.objects.filter(pk__in=released).update(tickets_held=False)
        for r in requests:
            r.order.tickets_held = False
        kind, action = OutgoingMessage.Kind.TICKETS, "order.held_tickets_sent_in_bulk"
        entries = [(r.order, action, {"recipient": r.recipient, "bulk": bulk.pk}) for r in requests]
    else:
        kind, action = OutgoingMessage.Kind.TICKETS_RESEND, "tickets.resent_in_bulk"
        entries = [
            (r.order, action, {"recipient": r.recipient, "other_address": False, "bulk": bulk.pk}) for r in requests
        ]
    messages_queue_many(requests=requests, kind=kind, actor=actor, idempotency_key=bulk.message_key)
    timeline_record_many(entries=entries, actor=actor)
