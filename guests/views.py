from datetime import datetime
from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django_htmx.middleware import HtmxDetails

from orders.selectors import bulk_sends_recent
from organiser_portal.models import Event
from organiser_portal.permissions import Perm, page_access
from organiser_portal.selectors import event_get

from .at_risk import REASONS, at_risk_counts, at_risk_orders
from .empty_results import empty_result
from .forms import GuestFilterForm
from .search import search
from .selectors import (
    customer_detail,
    customers_list,
    event_guest_orders,
    events_visible,
    orders_list,
)
from .verification import valid_for_words

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
    access = page_access(request, org)
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


def _attach_row_urls(org: str, orders, customers=(), *, events: bool = False) -> None:
    """Each row's order and customer links (and with `events`, its event's guest list): a few reversals a page,
    not one or two a row."""
    order_url = reverse("order_detail", kwargs={"org": org, "code": _SLOT}).split(_SLOT)
    customer_url = reverse("customer_detail", kwargs={"org": org, "customer_id": 0}).rsplit("/0/", 1)
    event_url = reverse("event_guests", kwargs={"org": org, "event_id": _SLOT}).split(_SLOT)
    for order in orders:
        order.detail_url = quote(order.code, safe=RFC3986_SUBDELIMS + "/~:@").join(order_url)
        order.customer_url = f"/{order.customer_id}/".join(customer_url) if order.customer_id else ""
        if events:
            order.event_url = quote(order.event.public_id, safe="").join(event_url)
    for customer in customers:
        customer.detail_url = f"/{customer.pk}/".join(customer_url)


@login_required
def event_guests(request: HtmxHttpRequest, org: str, event_id: str) -> HttpResponse:
    access = page_access(request, org)
    event = event_get(access, event_id)
    form = GuestFilterForm(request.GET, event=event)
    filters = form.filters()
    context = {"access": access, "event": event, "form": form, "filters": filters, "tab": "guests"}
    if not access.lists_region(event.region_id):  # opened by a link: say why its orders aren't listed
        return render(request, "guests/event_guests.html", {**context, "outside_region": True})
    page = event_guest_orders(access, event, filters, after=request.GET.get("after"), before=request.GET.get("before"))
    _attach_row_urls(access.organisation.slug, page.orders)
    context["page"] = page
    # Bulk sends (orders/bulk_views.py): the checkboxes and actions for those who may send, and recent jobs' bars.
    context["bulk_actions"] = access.can(Perm.SEND_HELD) or access.can(Perm.RESEND)
    context["bulk_sends"] = bulk_sends_recent(event)
    if not page.orders and not (request.GET.get("after") or request.GET.get("before")):  # else past the last page
        context["empty"] = empty_result(access, filters.q, event=event, filters=form.active_filters())
    if request.htmx and request.htmx.target == "guest-table":
        return render(request, "guests/event_guests.html#guest-table", context)
    return render(request, "guests/event_guests.html", context)


@login_required
def orders_page(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """Every order the user lists, across events ("Ticketing → Orders"), with the guest list's filters."""
    access = page_access(request, org)
    form = GuestFilterForm(request.GET, event=None)
    filters = form.filters()
    page = orders_list(access, filters, after=request.GET.get("after"), before=request.GET.get("before"))
    _attach_row_urls(org, page.orders, events=True)
    context = {"access": access, "form": form, "filters": filters, "page": page}
    if request.htmx and request.htmx.target == "order-table":
        return render(request, "guests/orders.html#order-table", context)
    return render(request, "guests/orders.html", context)


@login_required
def customers_page(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """The customer accounts, newest first by keyset; with a query, the search box's matching accounts."""
    access = page_access(request, org)
    query = " ".join(request.GET.get("q", "").split())[:200]
    if query:
        results = search(access, query, page=_page_number(request.GET.get("page")), customers_only=True)
        context = {"access": access, "query": query, "results": results, "customers": results.customers}
    else:
        page = customers_list(access, after=request.GET.get("after"), before=request.GET.get("before"))
        context = {"access": access, "query": "", "page": page, "customers": page.customers}
    context["can_link"] = access.can(Perm.LINK_CUSTOMERS)
    _attach_row_urls(org, (), context["customers"])
    if request.htmx and request.htmx.target == "customer-table":
        return render(request, "guests/customers.html#customer-table", context)
    return render(request, "guests/customers.html", context)


@login_required
def customer_page(request: HtmxHttpRequest, org: str, customer_id: int) -> HttpResponse:
    access = page_access(request, org)
    detail = customer_detail(access, customer_id)
    context = {
        "access": access,
        "detail": detail,
        "can_link": access.can(Perm.LINK_CUSTOMERS),
        "can_merge": access.can(Perm.MANAGE_CUSTOMERS),
        "verification_valid_for": valid_for_words(),
    }
    return render(request, "guests/customer_detail.html", context)


@login_required
def my_events(request: HttpRequest, org: str) -> HttpResponse:
    """The events the user lists (in the region chosen in the header, if any), with their support counts."""
    access = page_access(request, org)
    events = list(events_visible(access))
    now = timezone.now()
    current = [e for e in events if e.ends_at > now]  # upcoming, or on now: its guests may still need their tickets
    counts = at_risk_counts(current)
    for event in current:  # the at-risk column, with how long is left to fix them
        event.at_risk_count = counts.get(event.pk, 0)  # type: ignore[attr-defined]
        event.time_left = time_left(event, now)  # type: ignore[attr-defined]
    return render(request, "guests/my_events.html", {"access": access, "events": events})


def time_left(event: Event, now: datetime) -> str:
    """How long before the doors open, in words: "on now" once the event started (until it ends, then "ended"),
    else whole days left ("0 days left" on its day)."""
    if event.ends_at <= now:
        return "ended"
    if event.starts_at <= now:
        return "on now"
    days = (event.starts_at - now).days
    return f"{days} day{pluralize(days)} left"


def _attach_fix_urls(org: str, rows, back: str) -> None:
    """Each at-risk row's order link and fixes: four reversals a page, not four a row. "Fix and resend" carries
    `back` (this page's path and query) as its `next`, for its Cancel and for where it returns once done."""
    _attach_row_urls(org, [row.order for row in rows])
    fixes = {
        name: reverse(name, kwargs={"org": org, "code": _SLOT}).split(_SLOT)
        for name in ("order_fix_and_resend", "order_resend", "order_resend_sms", "order_personalise")
    }
    next_query = "?" + urlencode({"next": back})
    for row in rows:
        code = quote(row.order.code, safe=RFC3986_SUBDELIMS + "/~:@")
        row.fix_url, row.resend_url, row.sms_url, row.personalise_url = (code.join(fixes[name]) for name in fixes)
        row.fix_url += next_query


@login_required
def event_at_risk(request: HttpRequest, org: str, event_id: str) -> HttpResponse:
    """The event's orders whose guests may have no working tickets, each with the reason and its fix."""
    access = page_access(request, org)
    event = event_get(access, event_id)
    reason = request.GET.get("reason", "")
    reason = reason if reason in REASONS else ""
    listing = at_risk_orders(access, event, reason=reason, after=request.GET.get("after"))
    _attach_fix_urls(org, listing.rows, request.get_full_path())
    context = {
        "access": access,
        "event": event,
        "tab": "at_risk",
        "listing": listing,
        "reason": reason,
        "reasons": [(code, words, listing.counts.get(code, 0)) for code, words in REASONS.items()],
        "can_fix": access.can(Perm.RESEND),
        "can_personalise": access.can(Perm.PERSONALISE),
        "time_left": time_left(event, timezone.now()),
    }
    return render(request, "guests/event_at_risk.html", context)
