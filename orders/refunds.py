"""The refund lifecycle after the request: send it to the payment provider, learn its outcome, move the money.

The order actions (orders.services.order_refund, order_refund_retry, order_cancel) create or retry a Refund
in `requested`, holding `refund.amount` in `order.refunding_total`, and after commit call
`refund_submit_later`. From there:

    requested ─ refund_submit ─→ processing ─ provider's answer ─→ confirming ─ webhook / poll ─→ succeeded
                                                                                           └──→ failed ─ retry ─→ requested

- Every status change goes through `refund_move`, holding the order's row lock, with its timeline entry
  and its money in the same transaction; `Refund.TRANSITIONS` is checked there, so a late, repeated or
  out-of-order answer never moves a refund backwards.
- A records-only provider (manual, PayPal) succeeds at once inside the submit: the staff member who
  requested it is the actor.
- Any other provider is called outside the row lock (an HTTP call must not hold the order for seconds),
  after the attempt was claimed under it: requested → processing commits first, so a second submit of the
  same refund (a task delivered twice, two workers) finds it processing and does nothing. Each attempt
  is sent with `refund.attempt_key` as the provider's idempotency key; a retry after failed is attempt+1,
  a new key, and an answer about an older attempt is ignored.
- A refusal is an answer: failed with the provider's reason, money released (`refunding_total`), ready for
  a retry. A network error or timeout is not: whether the provider acted is unknown, so the refund stays in
  processing and the poller (`refunds_poll_stale`, celery beat) asks the provider later.

Tasks are handed over by name (REFUND_SUBMIT_TASK, REFUND_POLL_TASK): tasks call this module, not the other
way round.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from organiser_portal.money import money_format

from .errors import OrderActionError
from .models import Order, Refund, TimelineEntry
from .payment_providers import PaymentProvider, ProviderUnreachable, RefundUpdate, UnknownProvider, provider_for
from .refund_emails import refund_email_queue
from .status import order_set_status
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

REFUND_SUBMIT_TASK = "orders.tasks.refund_submit"
REFUND_POLL_TASK = "orders.tasks.refund_poll"

Status = Refund.Status
ActorKind = TimelineEntry.ActorKind


def refund_move(
    refund: Refund,
    status: str,
    *,
    error: str = "",
    provider_reference: str = "",
    actor: User | None = None,
    actor_kind: str | None = None,
) -> Refund:
    """The one place a refund's status changes. Returns the refund, moved and saved.

    The caller is inside a transaction holding the order's row lock, and `refund.order` is that locked row.
    Checks Refund.TRANSITIONS (OrderActionError otherwise), sets status_changed_at (and completed_at on
    succeeded / failed), keeps `provider_reference` when given, writes the timeline entry `refund.<status>`,
    and moves the money on `refund.order`:

    - failed: `error` is kept as the reason; refunding_total -= amount.
    - succeeded: refunding_total -= amount, refunded_total += amount; the order becomes refunded
      (order_set_status) once refunded_total == total; with `notify_customer`, the refund email is queued.
    - requested (a retry of a failed refund): refunding_total += amount, attempt += 1, error cleared.
      OrderActionError when less than the amount is still refundable.
    """
    if not refund.can_move_to(status):
        raise OrderActionError(
            f"A refund that is {refund.get_status_display().lower()} can't become {Status(status).label.lower()}."
        )
    order: Order = refund.order
    now = timezone.now()
    fields = ["status", "status_changed_at"]
    order_fields: list[str] = []
    if status == Status.REQUESTED:
        refundable = order.total - order.refunded_total - order.refunding_total
        if refund.amount > refundable:
            raise OrderActionError(f"Only {money_format(refundable, order.currency)} can still be refunded.")
        order.refunding_total += refund.amount
        order_fields.append("refunding_total")
        refund.attempt += 1
        refund.error, refund.provider_reference, refund.completed_at = "", "", None
        fields += ["attempt", "error", "provider_reference", "completed_at"]
    elif status in (Status.FAILED, Status.SUCCEEDED):
        order.refunding_total -= refund.amount
        order_fields.append("refunding_total")
        if status == Status.SUCCEEDED:
            order.refunded_total += refund.amount
            order_fields.append("refunded_total")
        else:
            refund.error = (error or "The payment provider gave no reason")[:300]
            fields.append("error")
        refund.completed_at = now
        fields.append("completed_at")
    if provider_reference and status != Status.REQUESTED:
        refund.provider_reference = provider_reference[:120]
        fields.append("provider_reference")
    refund.status, refund.status_changed_at = status, now
    refund.save(update_fields=fields)
    if order_fields:
        order.save(update_fields=order_fields)
    timeline_record(
        order=order,
        action=f"refund.{status}",
        actor=actor,
        actor_kind=actor_kind,
        data=_timeline_data(refund),
    )
    if status == Status.SUCCEEDED:
        if order.refunded_total == order.total and order.can_move_to(Order.Status.REFUNDED):
            order_set_status(order, Order.Status.REFUNDED, actor=actor, actor_kind=actor_kind)
        if refund.notify_customer:
            refund_email_queue(refund)
    return refund


def _timeline_data(refund: Refund) -> dict[str, object]:
    data: dict[str, object] = {
        "refund": refund.pk,
        "amount": money_format(refund.amount, refund.order.currency),
        "attempt": refund.attempt,
    }
    if refund.payment is not None:
        data["provider"] = refund.payment.provider
    if refund.provider_reference:
        data["provider_reference"] = refund.provider_reference
    if refund.status == Status.FAILED:
        data["error"] = refund.error
    return data


def _locked(refund_id: int) -> Refund | None:
    """The refund with its order row locked (the lock every order action takes), or None when it is gone."""
    order_id = Refund.objects.filter(pk=refund_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None
    order = Order.objects.select_for_update().select_related("event").get(pk=order_id)
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    refund.order = order
    return refund


def _apply(refund: Refund, update: RefundUpdate, *, actor: User | None = None, actor_kind: str) -> bool:
    """Apply a provider's answer to the (locked) refund if it moves it forward. Returns whether it moved.

    An answer equal to the current status only keeps a provider reference not known before; one the
    transition table refuses (older, repeated, or about a finished refund) changes nothing.
    """
    if update.status == refund.status or not refund.can_move_to(update.status):
        if update.provider_reference and not refund.provider_reference and refund.status in Refund.IN_FLIGHT:
            refund.provider_reference = update.provider_reference[:120]
            refund.save(update_fields=["provider_reference"])
        return False
    refund_move(
        refund,
        update.status,
        error=update.error,
        provider_reference=update.provider_reference,
        actor=actor,
        actor_kind=actor_kind,
    )
    return True


def refund_apply_update(*, refund_id: int, attempt: int, update: RefundUpdate, actor_kind: str) -> bool:
    """Apply a provider's answer (from the submit, a poll or a webhook) about attempt `attempt` of a refund.

    Takes the order's lock itself. An answer about another attempt, or one that would move the refund
    backwards, changes nothing. Returns whether the refund moved.
    """
    with transaction.atomic():
        refund = _locked(refund_id)
        if refund is None or refund.attempt != attempt:
            return False
        return _apply(refund, update, actor_kind=actor_kind)


def _provider(refund: Refund) -> PaymentProvider:
    if refund.payment is None:
        raise UnknownProvider("The order has no payment to refund through.")
    return provider_for(refund.payment)


def refund_submit(refund_id: int) -> None:
    """Send a requested refund to its payment provider; does nothing unless the refund is `requested`.

    Records-only providers: succeeded at once, in one transaction. Others: requested → processing under the
    order's lock and committed, then the provider is called once with `refund.attempt_key`, outside the
    lock, and its answer applied (confirming, succeeded, or failed with the reason). When the provider
    can't be reached the refund stays in processing for the poller. A payment whose provider is not enabled
    fails the refund with that reason (retryable once the provider is configured).
    """
    with transaction.atomic():
        refund = _locked(refund_id)
        if refund is None or refund.status != Status.REQUESTED:
            return
        try:
            provider = _provider(refund)
        except UnknownProvider as error:
            refund_move(refund, Status.FAILED, error=str(error))
            return
        if provider.records_refunds:
            update = provider.start_refund(refund)
            staff = refund.requested_by  # who paid it back and recorded it
            _apply(refund, update, actor=staff, actor_kind=ActorKind.USER if staff else ActorKind.SYSTEM)
            return
        refund_move(refund, Status.PROCESSING)
    try:
        update = provider.start_refund(refund)
    except ProviderUnreachable as error:
        log.warning("Refund %s (%s) stays processing: %s", refund_id, refund.attempt_key, error)
        return
    refund_apply_update(refund_id=refund_id, attempt=refund.attempt, update=update, actor_kind=ActorKind.PROVIDER)
    _poll_later_if_in_flight(refund_id, provider)


def refund_poll(refund_id: int) -> None:
    """Ask the provider about a refund in processing or confirming and apply the answer; then, for a provider
    that answers only when asked (the sandbox), ask again in `poll_seconds` while it is still on its way."""
    refund = Refund.objects.select_related("order", "payment").filter(pk=refund_id).first()
    if refund is None or refund.status not in (Status.PROCESSING, Status.CONFIRMING):
        return
    try:
        provider = _provider(refund)
        update = provider.refund_update(refund)
    except (UnknownProvider, ProviderUnreachable) as error:
        log.warning("Could not ask about refund %s: %s", refund_id, error)
        return
    if update is not None:
        refund_apply_update(refund_id=refund_id, attempt=refund.attempt, update=update, actor_kind=ActorKind.PROVIDER)
    _poll_later_if_in_flight(refund_id, provider)


def _poll_later_if_in_flight(refund_id: int, provider: PaymentProvider) -> None:
    if provider.poll_seconds is None:
        return
    if Refund.objects.filter(pk=refund_id, status__in=[Status.PROCESSING, Status.CONFIRMING]).exists():
        _queue(REFUND_POLL_TASK, refund_id, countdown=provider.poll_seconds)


def refund_submit_later(refund_id: int) -> None:
    """Queue the submit task for the refund (in process with the embedded default). Call after commit:
    `transaction.on_commit(lambda: refund_submit_later(refund.pk))`. A broker outage is logged, not raised:
    the poller submits refunds left requested."""
    _queue(REFUND_SUBMIT_TASK, refund_id)


def _run_in_thread(task_name: str, refund_id: int) -> None:
    try:
        current_app.tasks[task_name].apply(args=(refund_id,))
    except Exception:
        log.exception("Task %s for refund %s failed", task_name, refund_id)
    finally:
        connections.close_all()  # this thread's connections only


def _queue(task_name: str, refund_id: int, *, countdown: float = 0) -> None:
    try:
        if countdown and current_app.conf.task_always_eager:
            # An eager task ignores its countdown: with tasks in process, wait in a timer thread instead.
            threading.Timer(countdown, _run_in_thread, args=(task_name, refund_id)).start()
            return
        signature = current_app.signature(task_name, args=(refund_id,))
        if countdown:
            signature.apply_async(countdown=countdown, retry=False)
        else:
            signature.apply_async(retry=False)
    except Exception:
        log.warning("Could not queue %s for refund %s; the poller will", task_name, refund_id, exc_info=True)


def refunds_poll_stale(*, older_than: timedelta | None = None, limit: int = 200) -> int:
    """The poller (celery beat): refunds unchanged for REFUND_POLL_AFTER_MINUTES are handed over again:
    requested ones to the submit (its task was lost), processing / confirming ones to `refund_poll` (their
    webhook was lost or the provider was unreachable). Returns how many were handed over."""
    cutoff = timezone.now() - (older_than or timedelta(minutes=settings.REFUND_POLL_AFTER_MINUTES))
    stale = (
        Refund.objects.filter(status__in=Refund.IN_FLIGHT)
        .filter(Q(status_changed_at__lt=cutoff) | Q(status_changed_at__isnull=True, created_at__lt=cutoff))
        .order_by("status_changed_at")
        .values_list("pk", "status")[:limit]
    )
    handed = 0
    for refund_id, status in stale:
        _queue(REFUND_SUBMIT_TASK if status == Status.REQUESTED else REFUND_POLL_TASK, refund_id)
        handed += 1
    return handed


def refund_provider_update(
    *, provider: str, update: RefundUpdate, refund_id: int | None, attempt_key: str
) -> bool | None:
    """Apply an answer a provider pushed (a webhook) about one of our refunds.

    The refund is found by the refund id and attempt key the portal sent with the request (Stripe's metadata),
    else by the provider's reference (`update.provider_reference`) among refunds paid through `provider`.
    Returns whether the refund moved: False for a duplicate, a late or out-of-order answer, or one about an
    earlier attempt; None when no refund matches.
    """
    fields = ("pk", "attempt", "idempotency_key")
    refund = None
    if refund_id is not None:  # by primary key: the usual way, as every request the portal sends names it
        refund = Refund.objects.filter(pk=refund_id, payment__provider=provider).only(*fields).first()
        if refund is not None and refund.attempt_key != attempt_key:
            return False  # about another attempt (an earlier one, failed and retried since)
    if refund is None and update.provider_reference:
        refund = (
            Refund.objects.filter(provider_reference=update.provider_reference, payment__provider=provider)
            .only(*fields)
            .first()
        )
    if refund is None:
        return None
    with transaction.atomic():
        current = _locked(refund.pk)
        if current is None or current.attempt != refund.attempt:
            return False
        if update.provider_reference and current.provider_reference not in ("", update.provider_reference):
            return False  # another attempt's refund at the provider
        return _apply(current, update, actor_kind=ActorKind.PROVIDER)
