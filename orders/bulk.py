"""Bulk sends on an event's guest list: send held tickets, or resend tickets, to many orders in one confirmed step.

`bulk_send_plan` says what a selection would do (how many orders, how many distinct addresses, which orders
are skipped and why) without changing anything; `bulk_send_start` confirms it as a BulkSend row and hands it
to a task after commit; `bulk_send_run` (the task) queues the orders' emails a chunk at a time
(orders/bulk_chunk.py: the same checks and writes as `order_send_held_tickets` / `order_resend_tickets`, for
about a hundred orders in a few statements), each chunk committing with the job's progress.

Pacing: the emails don't all go at once. The n-th email of a job is due at `first_send_at + n × 60 /
per_minute` seconds (BULK_SEND_PER_MINUTE): its outbox message carries that time as `next_attempt_at`, which
the claim respects, and its task is handed over with that countdown. So a large batch reaches the email
service at a steady rate instead of tripping its limits, and the rest of the portal's emails (a single
resend, a refund notice) are never stuck behind it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.pacing import queue_task
from notifications.selectors import suppressions_for
from organiser_portal.models import Event
from organiser_portal.permissions import Perm, require_perm
from tickets.models import Ticket

from . import rules
from .bulk_chunk import bulk_chunk_send
from .errors import OrderActionError
from .models import BulkSend, Order

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

BULK_SEND_TASK = "orders.tasks.bulk_send_run"
CHUNK = 100  # orders per transaction: the progress a killed task loses at most, and never sends twice
SHOW_SKIPPED = 200  # skipped orders listed by code on the confirmation and the job's page

Action = BulkSend.Action
ACTION_PERM: dict[str, Perm] = {Action.SEND_HELD: Perm.SEND_HELD, Action.RESEND: Perm.RESEND}


@dataclass(frozen=True)
class Skip:
    code: str
    reason: str


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk send of a selection would do; nothing is changed by making one."""

    action: str
    order_ids: list[int]  # to send, newest order first
    addresses: int  # distinct addresses among them (any case)
    skipped: list[Skip]

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """Each reason for skipping with how many orders it leaves out, the most common first."""
        return Counter(s.reason for s in self.skipped).most_common()


def _require(actor: User, event: Event, action: str) -> None:
    if action not in ACTION_PERM:
        raise OrderActionError("Choose what to send: held tickets or a resend.")
    require_perm(actor, event.organisation, ACTION_PERM[action], region_id=event.region_id)


def bulk_send_plan(*, actor: User, event: Event, action: str, order_ids: Sequence[int]) -> BulkPlan:
    """Which of `order_ids` (orders of `event`; others are ignored) a bulk `action` would send, and why each
    other one is skipped, in the words of the order page's menu (rules.py): cancelled, refunded, not paid, no
    valid ticket, nothing held ("send held"), held for review, an address that complained or one on the suppression
    list ("resend").

    Two queries whatever the size. Raises Http404 (another organisation, a region outside the membership),
    PermissionDenied (a role that may not send), OrderActionError (an unknown action, or more orders than
    BULK_SEND_MAX_ORDERS).
    """
    _require(actor, event, action)
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if len(ids) > settings.BULK_SEND_MAX_ORDERS:
        raise OrderActionError(
            f"{len(ids):,} orders are more than one bulk send takes ({settings.BULK_SEND_MAX_ORDERS:,}): "
            "narrow the filters."
        )
    valid = Count("tickets", filter=Q(tickets__status=Ticket.Status.VALID))
    complained = OutgoingMessage.objects.filter(
        order=OuterRef("pk"), status=OutgoingMessage.Status.COMPLAINED, recipient__iexact=OuterRef("contact_email")
    )
    orders = list(
        Order.objects.filter(event=event, pk__in=ids)
        .annotate(valid_tickets=valid, complained=Exists(complained))
        .only("pk", "code", "status", "tickets_held", "contact_email", "created_at")
        .order_by("-created_at", "-id")
    )
    suppressed = (
        suppressions_for(event.organisation_id, [o.contact_email for o in orders]) if action == Action.RESEND else {}
    )
    send: list[Order] = []
    skipped: list[Skip] = []
    for order in orders:
        reason = _refusal(order, action, suppressed)
        if reason:
            skipped.append(Skip(order.code, reason))
        else:
            send.append(order)
    addresses = len({o.contact_email.lower() for o in send})
    return BulkPlan(action=action, order_ids=[o.pk for o in send], addresses=addresses, skipped=skipped)


def _refusal(order: Order, action: str, suppressed: dict) -> str | None:
    valid_tickets: int = order.valid_tickets  # type: ignore[attr-defined]
    if action == Action.SEND_HELD:
        return rules.refusal_release(order, valid_tickets=valid_tickets)
    if reason := rules.refusal_resend(order, valid_tickets=valid_tickets):
        return reason
    if order.complained:  # type: ignore[attr-defined]
        return "The address marked the tickets email as spam: resend it from the order if the guest asks"
    if listed := suppressed.get(order.contact_email.lower()):
        return f"Address on the suppression list ({listed.get_reason_display().lower()}): resend it from the order"
    return None


def bulk_send_start(
    *, actor: User, event: Event, action: str, order_ids: Sequence[int], idempotency_key: str
) -> BulkSend:
    """Confirm a bulk send of the selection as planned now (`bulk_send_plan`), and hand it to the task after commit.

    The same idempotency key (a double submit of the confirmation) returns the job it made. A plan with nothing
    to send is refused (OrderActionError), as is everything `bulk_send_plan` refuses.
    """
    key = idempotency_key.strip()[:80]
    if not key:
        raise OrderActionError("The confirmation expired: open it again.")
    plan = bulk_send_plan(actor=actor, event=event, action=action, order_ids=order_ids)
    done = BulkSend.objects.filter(organisation_id=event.organisation_id, idempotency_key=key).first()
    if done is not None:
        return done
    if not plan.order_ids:
        raise OrderActionError("None of the chosen orders can be sent: see why each is skipped.")
    try:
        with transaction.atomic():
            bulk = BulkSend.objects.create(
                organisation_id=event.organisation_id,
                event=event,
                action=action,
                order_ids=plan.order_ids,
                total=len(plan.order_ids),
                skipped=len(plan.skipped),
                skipped_orders=[{"code": s.code, "reason": s.reason} for s in plan.skipped],
                addresses=plan.addresses,
                per_minute=settings.BULK_SEND_PER_MINUTE,
                idempotency_key=key,
                created_by=actor,
            )
            transaction.on_commit(lambda: bulk_send_hand_over(bulk_send_id=bulk.pk))
    except IntegrityError:  # the same key submitted twice at once: the other request made the job
        return BulkSend.objects.get(organisation_id=event.organisation_id, idempotency_key=key)
    return bulk


def bulk_send_hand_over(*, bulk_send_id: int) -> None:
    """Hand the job to a worker (by the task's name: services don't import tasks). With tasks in process it runs
    on the pacing thread, so the confirmation page answers at once and the progress bar has something to show."""
    try:
        queue_task(BULK_SEND_TASK, bulk_send_id)
    except Exception:
        log.warning("Could not queue bulk send %s; it waits until it is handed over again", bulk_send_id, exc_info=True)


def bulk_send_run(*, bulk_send_id: int, chunk: int = CHUNK) -> BulkSend:
    """Work through the job from where it stands, a chunk at a time (orders/bulk_chunk.py), as the member who
    confirmed it, with the job's idempotency key and its due time (the pacing). Safe to run twice and after a
    crash: each chunk commits its emails together with the job's progress, and a message already queued under
    the job's key is found, not queued again. An order that can't be sent any more (cancelled meanwhile …) is
    skipped with the reason; a member who lost the right to send stops the job (failed, with the reason).
    """
    bulk = BulkSend.objects.get(pk=bulk_send_id)
    if bulk.finished:
        return bulk
    # The pacing counts from the first run's start, not from the confirmation (the task may have waited).
    BulkSend.objects.filter(pk=bulk.pk, status=BulkSend.Status.QUEUED).update(
        status=BulkSend.Status.RUNNING, first_send_at=timezone.now()
    )
    while True:
        with transaction.atomic():
            bulk = (
                BulkSend.objects.select_for_update(of=("self",))
                .select_related("event__organisation", "created_by")
                .get(pk=bulk_send_id)
            )
            if bulk.finished:
                return bulk
            if bulk.position >= bulk.total:
                bulk.status, bulk.finished_at = BulkSend.Status.DONE, timezone.now()
                bulk.save(update_fields=["status", "finished_at"])
                return bulk
            try:
                _run_chunk(bulk, bulk.order_ids[bulk.position : bulk.position + chunk])
            except (PermissionDenied, Http404) as error:
                who = bulk.created_by.get_username() if bulk.created_by else "The member who started it"
                bulk.status, bulk.finished_at = BulkSend.Status.FAILED, timezone.now()
                bulk.error = f"{who} may no longer send tickets for this event: {error}"[:300]
                bulk.save(update_fields=["status", "finished_at", "error"])
                return bulk


def _run_chunk(bulk: BulkSend, ids: list[int]) -> None:
    """Send one chunk (the job's row locked; orders/bulk_chunk.py) and save the progress in the same transaction."""
    if bulk.created_by is None:
        raise PermissionDenied("their account was deleted")
    outcome = bulk_chunk_send(bulk=bulk, actor=bulk.created_by, order_ids=ids)
    bulk.position += len(ids)
    bulk.done += outcome.done
    bulk.skipped += len(outcome.skipped)
    bulk.skipped_orders.extend(outcome.skipped)
    bulk.save(update_fields=["position", "done", "skipped", "skipped_orders"])


def bulk_send_fail(*, bulk_send_id: int, error: str) -> None:
    """The task gave up on the job (an error it could not get past): say so on the job, keep what was queued."""
    BulkSend.objects.filter(pk=bulk_send_id).exclude(status__in=[BulkSend.Status.DONE, BulkSend.Status.FAILED]).update(
        status=BulkSend.Status.FAILED, error=error[:300], finished_at=timezone.now()
    )
