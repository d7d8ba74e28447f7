from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from organiser_portal.permissions import access_organisation

from .menu import order_actions
from .selectors import order_detail as order_detail_data
from .selectors import ticket_scans as ticket_scans_data


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
def order_detail(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = access_organisation(request.user, org)
    detail = order_detail_data(access, code)
    context = {"access": access, "detail": detail, "order": detail.order, "actions": order_actions(access, detail)}
    return render(request, "orders/order_detail.html", context)


@login_required
def ticket_scans(request: HtmxHttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """Every scan of one ticket: the whole page, or the table alone for htmx to drop under the ticket's row."""
    access = access_organisation(request.user, org)
    order, ticket, scans = ticket_scans_data(access, code, ticket_id)
    context = {"access": access, "order": order, "ticket": ticket, "scans": scans}
    if request.htmx:
        return render(request, "orders/ticket_scans.html#scan-history", context)
    return render(request, "orders/ticket_scans.html", context)
