"""An event's New order page (event → Guests & orders → New order): the box office sells, a manager gives away.

Fill in → review the summary with the total, and the attendee details of each ticket whose type asks for them
(optional here: a ticket left blank stays "missing personal data", as personalisation says) → confirm: one
service (orders.box_office) makes the paid order, its tickets with the details given, and their email (or holds
them), then the order page opens. A plain page, no JavaScript needed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from organiser_portal.models import Event
from organiser_portal.money import money_format
from organiser_portal.permissions import Perm, page_access
from organiser_portal.selectors import event_get

from .box_office import box_office_customer, box_office_order_create, box_office_quote
from .box_office_forms import BoxOfficeOrderForm, sale_attendee_form, sale_attendees
from .capacity import capacity_left, capacity_shortfall
from .errors import OrderActionError
from .models import Order
from .views import HtmxHttpRequest


def _created_text(order: Order) -> str:
    if order.complimentary:
        done = f"Complimentary order {order.code} created."
    else:
        done = f"Order {order.code} created and paid: {money_format(order.total, order.currency, style='code')}."
    if missing := order.tickets.filter(personal_data_missing=True).count():
        done += (
            f" {missing} ticket{'s' if missing != 1 else ''} still need{'s' if missing == 1 else ''} attendee "
            "details: fill them in with “Open personalisation”."
        )
    if order.tickets_held:
        return f"{done} Its tickets are held for review: send them with “Send held tickets” once it is checked."
    return f"{done} Tickets queued for {order.contact_email}."


def _review(form: BoxOfficeOrderForm, event: Event, context: dict) -> None:
    """The summary's figures and the linked account into `context`, or the reason why not onto the form."""
    try:
        context["customer"] = box_office_customer(context["access"], form.cleaned_data["customer_email"])
    except OrderActionError as error:
        form.add_error("customer_email", str(error))
        return
    lines = form.lines()
    if reason := capacity_shortfall((line.ticket_type, line.quantity) for line in lines):
        form.add_error(None, reason)
        return
    context["quote"] = box_office_quote(event=event, lines=lines, complimentary=form.complimentary)


@login_required
def order_new(request: HtmxHttpRequest, org: str, event_id: str) -> HttpResponse:
    access = page_access(request, org)
    event = event_get(access, event_id)
    access.require(Perm.CREATE_ORDERS)  # the refusal page (templates/403.html) says why
    ticket_types = list(event.ticket_types.order_by("price", "pk"))
    form = BoxOfficeOrderForm(
        request.POST or None,
        event=event,
        ticket_types=ticket_types,
        may_give_away=access.can(Perm.COMPLIMENTARY),
    )
    context: dict = {"access": access, "event": event, "form": form, "quote": None, "customer": None}
    if request.method == "POST" and form.is_valid() and not form.editing:
        attendees = context["attendees"] = sale_attendee_form(request.POST if form.confirmed else None, form.lines())
        if form.confirmed and attendees is not None and not attendees.is_valid():
            _review(form, event, context)  # the review again, each refused detail named
        elif form.confirmed:  # the service first: a double submit gets the first order back
            given = sale_attendees(attendees) if attendees is not None else None
            try:
                order = box_office_order_create(actor=request.user, event=event, attendees=given, **form.service_args())
            except OrderActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _created_text(order))
                return redirect("order_detail", org=access.organisation.slug, code=order.code)
        else:
            _review(form, event, context)
    left = capacity_left(ticket_types)
    context["rows"] = [(tt, field, left[tt.pk]) for tt, field in form.quantity_fields()]
    return render(request, "orders/order_new.html", context)
