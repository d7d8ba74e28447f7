"""A ticket row's actions on the order page: Transfer to another person, Cancel transfer, Reissue (new QR code).

Each page says what will happen (which ticket becomes invalid, who gets the new one by email) and posts to one
service (tickets.transfers, through orders.services). Plain pages without JavaScript; with htmx they open in the
order page's dialog (orders.views: `_form_page`, `_done`). The role is checked first (a refusal page with the
reason), then the order and the ticket (another organisation's or region's order, an unknown ticket: 404).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from organiser_portal.permissions import Access, Perm, page_access
from tickets.transfer_rules import refusal_reissue, refusal_transfer, refusal_transfer_cancel, reissue_recipient

from .errors import OrderActionError
from .forms import ConfirmForm, ReissueForm, TransferForm
from .selectors import ticket_replacement
from .services import ticket_reissue, ticket_transfer, ticket_transfer_cancel
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page


def _ticket_context(access: Access, code: str, ticket_id: str) -> dict:
    """The order (as the delivery pages have it) and its ticket `ticket_id`; 404 when the order has no such ticket."""
    context = _delivery_context(access, code, Perm.TRANSFER)
    ticket = next((t for t in context["detail"].tickets if t.public_id == ticket_id), None)
    if ticket is None:
        raise Http404("No such ticket in this order.")
    return {**context, "ticket": ticket}


@login_required
def transfer_ticket(request: HtmxHttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """Transfer a ticket: the new holder's name and email; the old ticket becomes Invalid · transferred."""
    access = page_access(request, org)
    context = _ticket_context(access, code, ticket_id)
    ticket = context["ticket"]
    form = TransferForm(request.POST or None)
    refusal = refusal_transfer(context["order"], ticket)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = ticket_transfer(
                actor=request.user,
                ticket=ticket,
                name=data["name"],
                email=data["email"],
                idempotency_key=data["idempotency_key"],
            )
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            text = (
                f"Ticket {transfer.old_ticket.public_id} transferred to {transfer.holder_name}: new ticket "
                f"{transfer.new_ticket.public_id} queued for {transfer.holder_email}."
            )
            return _done(request, access, code, text)
        refusal = None  # the service's reason is on the form; keep the form to try again
    return _form_page(
        request, "orders/ticket_transfer.html", "ticket-transfer", {**context, "form": form, "refusal": refusal}
    )


@login_required
def cancel_ticket_transfer(request: HtmxHttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """Cancel the transfer that issued ticket `ticket_id`: it becomes invalid, the original valid again."""
    access = page_access(request, org)
    context = _ticket_context(access, code, ticket_id)
    ticket = context["ticket"]
    transfer = ticket_replacement(context["order"], ticket)
    if transfer is None:
        raise Http404("This ticket was not issued by a transfer.")
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = ticket_transfer_cancel(actor=request.user, replacement=transfer)
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            text = f"Transfer cancelled: ticket {transfer.old_ticket.public_id} is valid again, {ticket.public_id} invalid."
            return _done(request, access, code, text)
    refusal = None if form.errors else refusal_transfer_cancel(context["order"], transfer, ticket)
    context = {**context, "form": form, "refusal": refusal, "transfer": transfer}
    return _form_page(request, "orders/ticket_transfer_cancel.html", "ticket-transfer-cancel", context)


@login_required
def reissue_ticket(request: HtmxHttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """Reissue a ticket whose QR code was shared: a new ticket ID and code; the old code is denied "reissued"."""
    access = page_access(request, org)
    context = _ticket_context(access, code, ticket_id)
    ticket, order = context["ticket"], context["order"]
    form = ReissueForm(request.POST or None)
    refusal = refusal_reissue(order, ticket)
    if request.method == "POST" and form.is_valid():
        send = form.cleaned_data["send_email"]
        try:
            reissue = ticket_reissue(
                actor=request.user, ticket=ticket, send_email=send, idempotency_key=form.cleaned_data["idempotency_key"]
            )
        except OrderActionError as error:
            form.add_error(None, str(error))
            refusal = None
        else:
            new = reissue.new_ticket
            sent = f" and queued for {reissue_recipient(order, new)}" if send else ""
            return _done(request, access, code, f"Ticket {ticket.public_id} reissued as {new.public_id}{sent}.")
    context = {**context, "form": form, "refusal": refusal, "recipient": reissue_recipient(order, ticket)}
    return _form_page(request, "orders/ticket_reissue.html", "ticket-reissue", context)
