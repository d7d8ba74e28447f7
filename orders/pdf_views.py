"""The tickets as PDF files to hand over by hand: the whole order, or one ticket."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from organiser_portal.permissions import Perm, page_access
from tickets.pdf import order_tickets_pdf, pdf_filename, valid_tickets

from . import rules
from .selectors import order_get


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def order_download(request: HttpRequest, org: str, code: str) -> HttpResponse:
    """Every valid ticket of the order as one PDF, to hand over by hand."""
    access = page_access(request, org)
    access.require(Perm.DOWNLOAD_PDF)  # a refusal page (templates/403.html) with the reason and the way back
    order = order_get(access, code)
    tickets = valid_tickets(order)
    if refusal := rules.refusal_download(order, valid_tickets=len(tickets)):
        context = {"access": access, "order": order, "refusal": refusal}
        return render(request, "orders/order_action_refused.html", context, status=409)
    return pdf_response(order_tickets_pdf(order, tickets), pdf_filename(order))


@login_required
def ticket_pdf(request: HttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """One ticket of the order as a PDF (a valid one only)."""
    access = page_access(request, org)
    order = order_get(access, code)
    ticket = order.tickets.select_related("ticket_type").filter(public_id=ticket_id).first()
    if ticket is None:
        raise Http404("No such ticket in this order.")
    access.require(Perm.DOWNLOAD_PDF)
    refusal = rules.refusal_download(order, valid_tickets=1)
    if refusal is None and not ticket.is_valid:
        refusal = f"Ticket {ticket.public_id} is {ticket.display_status.lower()}: it can't be downloaded"
    if refusal:
        context = {"access": access, "order": order, "refusal": refusal}
        return render(request, "orders/order_action_refused.html", context, status=409)
    return pdf_response(order_tickets_pdf(order, [ticket]), pdf_filename(order, ticket))
