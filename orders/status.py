"""The order status mover: the one place an order's status changes (DESIGN.md §3, STYLE.md).

Services, the refund lifecycle (orders/refunds.py) and the payment side (orders/payments.py) all
move an order through `order_set_status`, so the transition table next to the model is checked in
exactly one place and every move writes its timeline entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .errors import OrderActionError
from .models import Order
from .timeline import timeline_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Order.Status


def order_lock(order_id: int) -> Order:
    """The order row, locked (`select_for_update`) with its event, inside the caller's transaction: the lock
    every write to an order takes first, so order actions, payments, refunds and webhooks never deadlock."""
    return Order.objects.select_for_update().select_related("event").get(pk=order_id)


def order_set_status(
    order: Order,
    status: str,
    *,
    actor: User | None = None,
    actor_kind: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Move `order` to `status` (an `Order.Status` value) and write the `order.<status>` timeline entry.

    Sets `paid_at` on paid and `cancelled_at` on cancelled. The caller holds the order row lock
    (`select_for_update`) and is inside a transaction.

    Raises OrderActionError (text shown on the page) when the transition table refuses the move.
    """
    if not order.can_move_to(status):
        raise OrderActionError(
            f"An order that is {order.get_status_display().lower()} can't become {Status(status).label.lower()}."
        )
    order.status = status
    fields = ["status"]
    now = timezone.now()
    if status == Status.PAID:
        order.paid_at = now
        fields.append("paid_at")
    elif status == Status.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
    order.save(update_fields=fields)
    timeline_record(order=order, action=f"order.{status}", actor=actor, actor_kind=actor_kind, data=data)
