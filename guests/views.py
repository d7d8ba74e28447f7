from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django_htmx.middleware import HtmxDetails

from organiser_portal.permissions import access_organisation
from organiser_portal.selectors import regions_visible

from .empty_results import empty_result
from .forms import GuestFilterForm
from .search import search
from .selectors import customer_detail, event_get, event_guest_orders, events_visible

_SLOT = "ORDERCODESLOT"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


@login_required
def search_page(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """The one search box. An exact order code or ticket ID jumps to the order (except while typing)."""
    access = access_organisation(request.user, org)
    results = search(access, request.GET.get("q", ""), page=_page_number(request.GET.get("page")))
    if results.jump_to is not None and not request.htmx:
        return redirect("order_detail", org=org, code=results.jump_to.code)
    _attach_row_urls(org, results.orders, results.customers)
    context = {"access": access, "results": results}
    if results.empty and not results.too_short and results.page == 1:
        context["empty"] = empty_result(access, results.query, everywhere=results)
    if request.htmx:
        return render(request, "guests/search.html#search-results", context)
    return render(request, "guests/search.html", context)


def _attach_row_urls(org: str, orders, customers=()) -> None:
    """Each row's order and customer links: two reversals a page, not one or two a row."""
    order_url = reverse("order_detail", kwargs={"org": org, "code": _SLOT}).split(_SLOT)
    customer_url = reverse("customer_detail", kwargs={"org": org, "customer_id": 0}).rsplit("/0/", 1)
    for order in orders:
        order.detail_url = quote(order.code, safe=RFC3986_SUBDELIMS + "/~:@").join(order_url)
        order.customer_url = f"/{order.customer_id}/".join(customer_url) if order.customer_id else ""
    for customer in customers:
        customer.detail_url = f"/{customer.pk}/".join(customer_url)


@login_required
def event_guests(request: HtmxHttpRequest, org: str, event_id: str) -> HttpResponse:
    access = access_organisation(request.user, org)
    event = event_get(access, event_id)
    form = GuestFilterForm(request.GET, event=event)
    filters = form.filters()
    page = event_guest_orders(access, event, filters, after=request.GET.get("after"), before=request.GET.get("before"))
    _attach_row_urls(access.organisation.slug, page.orders)
    context = {"access": access, "event": event, "form": form, "filters": filters, "page": page}
    if not page.orders and not (request.GET.get("after") or request.GET.get("before")):  # else past the last page
        context["empty"] = empty_result(access, filters.q, event=event, filters=form.active_filters())
    if request.htmx and request.htmx.target == "guest-table":
        return render(request, "guests/event_guests.html#guest-table", context)
    return render(request, "guests/event_guests.html", context)


@login_required
def customer_page(request: HtmxHttpRequest, org: str, customer_id: int) -> HttpResponse:
    access = access_organisation(request.user, org)
    detail = customer_detail(access, customer_id)
    return render(request, "guests/customer_detail.html", {"access": access, "detail": detail})


@login_required
def my_events(request: HttpRequest, org: str) -> HttpResponse:
    access = access_organisation(request.user, org)
    request.session["organisation"] = org
    regions = list(regions_visible(access))
    region_id = _int_or_none(request.GET.get("region"))
    if region_id is not None and region_id not in {r.pk for r in regions}:
        region_id = None
    events = events_visible(access, region_id=region_id)
    return render(
        request,
        "guests/my_events.html",
        {"access": access, "events": events, "regions": regions, "region_id": region_id},
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
