"""The customer's public pages, no login: the tickets page of one order (tickets.pages) with its PDF, and
"Find my tickets" (tickets.find_tickets).

The tickets page and its PDF count the client against its rate limit (organiser_portal.rate_limit) before they
look anything up, and answer a clear page for a link that was tampered with, has expired or was revoked: never
another order. "Find my tickets" counts each request that may send an email, per client and per address.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from orders.models import Order
from organiser_portal.login_throttle import client_ip
from organiser_portal.models import Organisation
from organiser_portal.rate_limit import rate_limit, rate_limit_allows
from organiser_portal.times import span_text

from .find_tickets import FindTicketsLimited, find_my_tickets_request
from .forms import FindTicketsForm
from .links import LinkRefused
from .models import Ticket
from .pages import order_for_tickets_page, tickets_page_refusal
from .pdf import order_tickets_pdf, pdf_filename, printed_pages, valid_tickets

_LINK_REFUSALS = {
    "tampered": (404, "This link is not valid. Please use the link exactly as you received it."),
    "expired": (410, "This link has expired: the event is over."),
    "revoked": (410, "This link no longer works: the organiser has sent a newer one. Please use the latest link."),
}
LIMITED = "Too many requests from your connection. Please wait a few minutes and try again."


def _refused(
    request: HttpRequest, text: str, status: int, title: str = "Your tickets", retry_after: int = 300
) -> HttpResponse:
    response = render(request, "tickets/public_refusal.html", {"refusal": text, "title": title}, status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after)
    return response


def _order(request: HttpRequest, token: str) -> Order | HttpResponse:
    """The token's order, once the client is counted against the rate limit; else the refusal to answer."""
    if not rate_limit_allows(rate_limit("tickets_page"), client_ip(request)):
        return _refused(request, LIMITED, 429)
    try:
        return order_for_tickets_page(token)
    except LinkRefused as refused:
        status, text = _LINK_REFUSALS[refused.reason]
        return _refused(request, text, status)


@never_cache
@require_GET
def tickets_page(request: HttpRequest, token: str) -> HttpResponse:
    order = _order(request, token)
    if isinstance(order, HttpResponse):
        return order
    event = order.event
    tickets = valid_tickets(order)
    refusal = tickets_page_refusal(order, valid_tickets=len(tickets))
    starts, ends = span_text(event.starts_at, event.ends_at, event.tzinfo)
    context = {
        "order": order,
        "event": event,
        "starts": starts,
        "ends": ends,
        "refusal": refusal,
        "pages": [] if refusal else printed_pages(order, tickets),
        "invalid_count": order.tickets.exclude(status=Ticket.Status.VALID).count(),
        "token": token,
    }
    response = render(request, "tickets/tickets_page.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the link is the key: never hand it to another site
    return response


@never_cache
@require_GET
def tickets_page_pdf(request: HttpRequest, token: str) -> HttpResponse:
    order = _order(request, token)
    if isinstance(order, HttpResponse):
        return order
    tickets = valid_tickets(order)
    if refusal := tickets_page_refusal(order, valid_tickets=len(tickets)):
        return _refused(request, refusal, 404)
    response = HttpResponse(order_tickets_pdf(order, tickets), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(order)}"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def find_my_tickets(request: HttpRequest, org: str) -> HttpResponse:
    organisation = get_object_or_404(Organisation, slug=org)
    title = "Find my tickets"
    client = client_ip(request)
    if request.method == "GET":
        form = FindTicketsForm()
        return render(request, "tickets/find_my_tickets.html", {"form": form, "organisation": organisation})
    form = FindTicketsForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "organisation": organisation}
        return render(request, "tickets/find_my_tickets.html", context, status=400)
    try:
        find_my_tickets_request(organisation=organisation, email=form.cleaned_data["email"], client=client)
    except FindTicketsLimited as limited:
        return _refused(request, str(limited), 429, title, retry_after=3600)
    context = {"organisation": organisation, "sent_to": form.cleaned_data["email"]}
    return render(request, "tickets/find_my_tickets.html", context)
