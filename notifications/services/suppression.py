"""The organisation's suppression list: addresses that hard-bounced or marked an email as spam.

Resends to a listed address warn first (orders.services.order_resend_tickets asks for a confirmation); a
member who knows better (the guest fixed the mailbox, or asked for the tickets again) removes it with a reason,
which the order's timeline keeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from orders.models import Order
from orders.status import order_lock
from orders.timeline import timeline_record
from organiser_portal.models import Organisation
from organiser_portal.permissions import Perm, require_perm

from ..models import MessageStatus, Suppression

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The message statuses that put the address on the list: they show the address is bad or unwilling.
SUPPRESSING = frozenset({MessageStatus.BOUNCED, MessageStatus.COMPLAINED})


class SuppressionError(ValueError):
    """A removal that can't be done as asked; its text is shown on the form."""


def suppression_add(
    *, organisation_id: int, address: str, reason: str, detail: str = "", message_id: int | None
) -> bool:
    """Put `address` on the organisation's list (reason: a status of SUPPRESSING). One statement; an address
    already listed (in any case) stays as it is. Call inside the transaction that records the delivery event.
    Returns whether a row was added."""
    if reason not in SUPPRESSING:
        raise ValueError(f"{reason} does not suppress an address")
    address = address.strip()
    if not address:
        return False
    created = Suppression.objects.bulk_create(
        [
            Suppression(
                organisation_id=organisation_id,
                address=address[:254],
                reason=reason,
                detail=detail[:300],
                source_message_id=message_id,
            )
        ],
        ignore_conflicts=True,
    )
    return bool(created and created[0].pk)


def suppression_remove(
    *, actor: User, organisation: Organisation, suppression_id: int, reason: str, order: Order | None = None
) -> Suppression:
    """Take the address off the list, keeping the row with who and why; the timeline of `order` (the order the
    member came from) or else of the order whose email bounced records it.

    Support agents may (Perm.MANAGE_SUPPRESSIONS): they hear from the guest that the address works again.
    Another organisation's row is a 404; a blank reason is a SuppressionError; removing a removed row again
    returns it unchanged.
    """
    require_perm(actor, organisation, Perm.MANAGE_SUPPRESSIONS)
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise SuppressionError("Say why the address may receive emails again.")
    with transaction.atomic():
        found = (
            Suppression.objects.select_related("source_message__order")
            .filter(organisation=organisation, pk=suppression_id)
            .first()
        )
        if found is None:
            raise Http404("No such suppression.")
        source = found.source_message
        order = order if order is not None else (source.order if source is not None else None)
        if order is not None and order.organisation_id != organisation.pk:
            order = None
        if order is not None:
            # The order row before the suppression row (docs/reliability.md): a bounce being recorded holds the
            # order and adds the address again, waiting on this row; holding it and then waiting for the order
            # (the timeline entry) would deadlock.
            order_lock(order.pk)
        suppression = Suppression.objects.select_for_update(of=("self",)).filter(pk=found.pk).first()
        if suppression is None:
            raise Http404("No such suppression.")
        if suppression.removed_at is not None:
            return suppression
        suppression.removed_at, suppression.removed_by, suppression.removed_reason = timezone.now(), actor, reason
        suppression.save(update_fields=["removed_at", "removed_by", "removed_reason"])
        if order is not None:
            timeline_record(
                order=order,
                action="email.suppression_removed",
                actor=actor,
                data={"address": suppression.address, "why": suppression.get_reason_display(), "reason": reason},
            )
        return suppression
