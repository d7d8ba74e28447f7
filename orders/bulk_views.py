"""Bulk sends from an event's guest list: the confirmation step, the start, and the job's page with its progress bar.

The guest list (guests/views.py, templates/guests/event_guests.html) posts the chosen orders, or "every order
matching the filters" with the filters, to `event_bulk_confirm`; the confirmation posts the same selection
with its idempotency key to `event_bulk_start`, which answers with the job's page (orders/bulk.py does the work).
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guests.forms import GuestFilterForm
from guests.selectors import event_guest_order_ids
from organiser_portal.models import Event
from organiser_portal.permissions import Access, Perm, page_access
from organiser_portal.selectors import event_get

from .bulk import SHOW_SKIPPED, BulkPlan, bulk_send_plan, bulk_send_start
from .errors import OrderActionError
from .models import BulkSend
from .selectors import bulk_send_get, bulk_send_progress

SCOPE_SELECTED, SCOPE_MATCHING = "selected", "matching"


class AuthedRequest(HttpRequest):
    user: User  # every view here is login_required: the actor a service checks


def _selection(access: Access, event: Event, data: QueryDict) -> tuple[list[int], str]:
    """The orders a bulk form names: the ticked ones, or every one matching its filters (`filters`, the guest
    list's query string). Returns their ids and the scope."""
    if data.get("scope") == SCOPE_MATCHING:
        query = QueryDict(mutable=True)
        for name, values in parse_qs(data.get("filters", "")).items():
            query.setlist(name, values)
        filters = GuestFilterForm(query, event=event).filters()
        return event_guest_order_ids(access, event, filters), SCOPE_MATCHING
    ids = [int(v) for v in data.getlist("order") if v.isdigit() and len(v) < 19]
    return ids, SCOPE_SELECTED


def _bulk_form(
    request: AuthedRequest, org: str, event_id: str
) -> tuple[Access, Event, str, list[int], dict[str, object]]:
    """What the confirmation and the start read from their POST: the member's access (one who may send what the
    form asks, else PermissionDenied; another organisation's event is a 404), the event, the action, the chosen
    order ids, and the page context naming the selection."""
    access = page_access(request, org)
    event = event_get(access, event_id)
    action = request.POST.get("action", "")
    access.require(Perm.SEND_HELD if action == BulkSend.Action.SEND_HELD else Perm.RESEND)
    ids, scope = _selection(access, event, request.POST)
    context: dict[str, object] = {
        "scope": scope,
        "order_ids": ids,
        "filters": request.POST.get("filters", ""),
        "action": action,
    }
    return access, event, action, ids, context


def _confirm_page(
    request: HttpRequest, access: Access, event: Event, context: dict[str, object], status: int = 200
) -> HttpResponse:
    plan = context.get("plan")
    if isinstance(plan, BulkPlan):
        context["shown_skipped"] = plan.skipped[:SHOW_SKIPPED]
        context["per_minute"] = per_minute = settings.BULK_SEND_PER_MINUTE
        context["minutes"] = -(-len(plan.order_ids) // max(per_minute, 1))
    context = {"access": access, "event": event, "tab": "guests", **context}
    return render(request, "orders/bulk_confirm.html", context, status=status)


@login_required
@require_POST
def event_bulk_confirm(request: AuthedRequest, org: str, event_id: str) -> HttpResponse:
    """The one confirmation step: how many orders and addresses, and which orders are skipped and why."""
    access, event, action, ids, context = _bulk_form(request, org, event_id)
    if not ids:
        context["error"] = "Tick the orders to send, or choose every order matching the filters."
        return _confirm_page(request, access, event, context, status=400)
    try:
        plan = bulk_send_plan(actor=request.user, event=event, action=action, order_ids=ids)
    except OrderActionError as error:
        return _confirm_page(request, access, event, {**context, "error": str(error)}, status=400)
    context.update(plan=plan, action_label=BulkSend.Action(action).label, idempotency_key=uuid.uuid4().hex)
    return _confirm_page(request, access, event, context)


@login_required
@require_POST
def event_bulk_start(request: AuthedRequest, org: str, event_id: str) -> HttpResponse:
    """Start the confirmed bulk send and show its progress. If the selection changed since the confirmation
    (an order was cancelled, the filters match more), the confirmation is shown again with the new figures."""
    access, event, action, ids, context = _bulk_form(request, org, event_id)
    try:
        plan = bulk_send_plan(actor=request.user, event=event, action=action, order_ids=ids)
        confirmed = request.POST.get("confirmed", "")
        if confirmed != f"{len(plan.order_ids)}/{len(plan.skipped)}":
            raise OrderActionError("The orders changed since you looked: check the new figures and confirm again.")
        bulk = bulk_send_start(
            actor=request.user,
            event=event,
            action=action,
            order_ids=ids,
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except OrderActionError as error:
        try:
            plan = bulk_send_plan(actor=request.user, event=event, action=action, order_ids=ids)
        except OrderActionError:
            return _confirm_page(request, access, event, {**context, "error": str(error)}, status=400)
        context.update(plan=plan, action_label=BulkSend.Action(action).label, idempotency_key=uuid.uuid4().hex)
        return _confirm_page(request, access, event, {**context, "error": str(error)}, status=409)
    return redirect("event_bulk_detail", org=org, event_id=event.public_id, bulk_id=bulk.pk)


@login_required
def event_bulk_detail(request: HttpRequest, org: str, event_id: str, bulk_id: int) -> HttpResponse:
    """The job's page: its progress bar (polled by htmx while it moves; a reload shows the same) and what it skipped."""
    access = page_access(request, org)
    event = event_get(access, event_id)
    progress = bulk_send_progress(bulk_send_get(access, event, bulk_id))
    context = {"access": access, "event": event, "progress": progress, "tab": "guests"}
    if getattr(request, "htmx", False):
        return render(request, "orders/_bulk_progress.html", context)
    return render(request, "orders/bulk_detail.html", context)
