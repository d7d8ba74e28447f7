"""The money-back pages of the ⋯ menu: Refund, Cancel, and the Retry button of a refund in "Refund error".

Each page says what will happen — how much, to which payment, which tickets become invalid — and posts to one
service (orders.services: order_refund, order_cancel, order_refund_retry). The figures come from
orders.refund_quote, the code the service runs. Plain pages without JavaScript; with htmx they open in the order
page's dialog (orders.views: `_form_page`, `_done`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from organiser_portal.money import money_format
from organiser_portal.permissions import Access, Perm, page_access

from . import rules
from .errors import OrderActionError
from .menu import refund_payment, refund_refusal
from .models import Refund
from .money_forms import CancelForm, RefundForm, RetryForm
from .payment_providers import UnknownProvider, provider_for
from .refund_quote import RefundQuote, refund_quote, refundable_amount, ticket_shares
from .selectors import order_get
from .services import order_cancel, order_refund, order_refund_retry
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page, _order_refresh


def _money_context(access: Access, code: str, perm: Perm) -> dict:
    """The order (as the delivery pages have it), the confirmed payment the money goes back to, its provider
    (None when its key is unknown here), what can still go back, and why a refund can't run now (or None)."""
    context = _delivery_context(access, code, perm)
    detail = context["detail"]
    payment = refund_payment(detail)
    try:
        provider = provider_for(payment) if payment is not None else None
    except UnknownProvider:
        provider = None
    refusal = refund_refusal(detail)
    return {
        **context,
        "payment": payment,
        "provider": provider,
        "refundable": refundable_amount(detail.order),
        "refund_refusal": refusal,
        "note_required": bool(provider and provider.records_refunds),
    }


def _shown(amount, currency: str) -> str:
    return money_format(amount, currency, style="code")


def _refund_context(access: Access, code: str) -> dict:
    context = _money_context(access, code, Perm.REFUND)
    shares = ticket_shares(context["order"], lines=context["detail"].lines)
    return {**context, "all_shares": shares, "shares": [s for s in shares if s.refundable], "quote": None}


def _tickets(count: int) -> str:
    return "1 ticket" if count == 1 else f"{count} tickets"


def _stay_valid(count: int) -> str:
    return f"{_tickets(count)} {'stays' if count == 1 else 'stay'} valid"


def refund_scope(what: str, quote: RefundQuote, *, still_valid: int, in_order: int) -> str:
    """The review's first line: in words, what the chosen refund does to the order's tickets, so a wrong choice
    shows before anyone confirms. `still_valid`: the order's tickets that can still be refunded, of `in_order`."""
    if what == RefundForm.AMOUNT:
        kept = f" ({_stay_valid(still_valid)})" if still_valid else ""
        return f"Refund an amount only: no ticket changes{kept}."
    chosen = len(quote.tickets)
    if what == RefundForm.ALL:
        whole = "the whole order" if still_valid == in_order else "every ticket still valid"
        return f"Refund {whole}: every ticket ({chosen}) becomes Invalid · refunded."
    others = still_valid - chosen
    left = f"; the other {_stay_valid(others)}" if others else ""
    become = "it becomes" if chosen == 1 else "they become"
    return f"Refund {chosen} of {_tickets(still_valid)}: {become} Invalid · refunded{left}."


def _review(context: dict, form: RefundForm) -> None:
    """The review step: the figures (orders.refund_quote) and the sentence saying what will be refunded, put in
    `context`. OrderActionError when the choice can't be refunded now."""
    quote = refund_quote(context["order"], shares=context["all_shares"], **form.refund_args())
    context["quote"] = quote
    context["scope"] = refund_scope(
        form.cleaned_data["what"], quote, still_valid=len(context["shares"]), in_order=len(context["all_shares"])
    )


@login_required
def refund_order(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """⋯ Refund: choose, review the figures, confirm."""
    access = page_access(request, org)
    context = _refund_context(access, code)
    order = context["order"]
    # Every ticket ID is a valid choice (the refunded too): a double submit must reach the service.
    ids = [s.ticket.public_id for s in context["all_shares"]]
    form = RefundForm(
        request.POST or None, ticket_ids=ids, currency=order.currency, note_required=context["note_required"]
    )
    if request.method == "POST" and context["refund_refusal"] is None and form.is_valid() and not form.editing:
        try:
            if form.confirmed:  # the service first, not the figures: a double submit gets the first refund back
                refund = order_refund(actor=request.user, order=order, **form.service_args())
                return _done(request, access, code, f"Refund of {_shown(refund.amount, order.currency)} requested.")
            _review(context, form)
        except OrderActionError as error:
            form.add_error(None, str(error))
    context.update(form=form, refusal=context["refund_refusal"], ticket_ids_chosen=set(form["tickets"].value() or []))
    return _form_page(request, "orders/order_refund.html", "refund", context)


def _cancel_context(access: Access, code: str) -> dict:
    """What a cancel would do: the tickets that become Invalid · cancelled (and those already used), and the
    refund it may take along — everything, with and without the booking fee — when the role and the order allow."""
    context = _money_context(access, code, Perm.CANCEL)
    order = context["order"]
    to_cancel = [t for t in context["detail"].tickets if not t.invalid_reason]
    can_refund = access.can(Perm.REFUND) and context["refund_refusal"] is None
    full = with_fee = None
    if can_refund:
        try:
            full = refund_quote(order, all_tickets=True)
            with_fee = refund_quote(order, all_tickets=True, include_booking_fee=True)
        except OrderActionError:
            can_refund = False
    used = [t.public_id for t in to_cancel if t.is_valid and t.used_at]
    return {
        **context,
        "refusal": rules.refusal_cancel(order),
        "can_refund": can_refund,
        "to_cancel": to_cancel,
        "used_tickets": used,
        "full_refund": full,
        "full_refund_with_fee": with_fee,
    }


@login_required
def cancel_order(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """⋯ Cancel: what becomes invalid, an optional refund, the email; warns about tickets used at the door."""
    access = page_access(request, org)
    context = _cancel_context(access, code)
    order = context["order"]
    form = CancelForm(
        request.POST or None,
        currency=order.currency,
        can_refund=context["can_refund"],
        note_required=context["note_required"],
        used_tickets=context["used_tickets"],
    )
    if request.method == "POST" and context["refusal"] is None and form.is_valid():
        try:
            order_cancel(actor=request.user, order=order, **form.service_args())
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, access, code, f"Order {order.code} cancelled.")
    return _form_page(request, "orders/order_cancel.html", "cancel", {**context, "form": form})


@login_required
@require_POST
def retry_refund(request: HtmxHttpRequest, org: str, code: str, refund_id: int) -> HttpResponse:
    """The Retry button of a refund in "Refund error": it posts the key of the attempt that failed."""
    access = page_access(request, org)
    access.require(Perm.REFUND)
    refund = Refund.objects.filter(order=order_get(access, code), pk=refund_id).select_related("order__event").first()
    if refund is None:
        raise Http404("No such refund.")
    form = RetryForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Retry needs the key of the attempt that failed.", status=400)
    try:
        refund = order_refund_retry(
            actor=request.user, refund=refund, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except OrderActionError as error:
        if request.htmx:
            return _order_refresh(request, access, code, flash=str(error))
        messages.error(request, str(error))
        return redirect("order_detail", org=access.organisation.slug, code=code)
    return _done(request, access, code, f"Refund of {_shown(refund.amount, refund.order.currency)} tried again.")
