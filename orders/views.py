import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django_htmx.middleware import HtmxDetails

from notifications.selectors import suppressions_for
from organiser_portal.db_snapshot import consistent_read
from organiser_portal.next_url import safe_next
from organiser_portal.permissions import Access, Perm, access_organisation, page_access

from . import rules
from .advice import complained_addresses, delivery_advice
from .email_typos import suggest_email
from .errors import OrderActionError
from .forms import ConfirmForm, ContactForm, FixAndResendForm, ResendForm
from .menu import order_actions, ticket_actions
from .models import Order, Payment, Refund
from .payment_providers import UnknownProvider, provider_for
from .selectors import (
    OrderDetail,
    active_transfers,
    order_email_status,
    order_latest_sms_state,
    order_refund_states,
    orders_email_statuses,
    refund_stuck_before,
)
from .selectors import order_detail as order_detail_data
from .selectors import ticket_scans as ticket_scans_data
from .services import (
    order_change_contact,
    order_resend_tickets,
    order_send_held_tickets,
)
from .templatetags.email_status_poll import poll_url


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # every view here is login_required: the actor a service checks


# The ⋯ menu items whose confirmation opens in place (a <dialog> on the order page) when htmx is on.
DIALOG_ACTIONS = frozenset(
    {
        "resend",
        "resend_sms",
        "edit_contact",
        "send_held",
        "refund",
        "cancel",
        "personalise",
        "customer_create",
        "customer_link",
        "customer_unlink",
    }
)
_TICKET_SLOT = "TICKETIDSLOT"


def _attach_ticket_urls(access: Access, order: Order, tickets) -> None:
    """Each ticket row's "Scan history" and "PDF" links: two reversals in all, not three per row."""
    urls = {}
    for name in ("ticket_scans", "ticket_pdf"):
        kwargs = {"org": access.organisation.slug, "code": order.code, "ticket_id": _TICKET_SLOT}
        urls[name] = reverse(name, kwargs=kwargs).split(_TICKET_SLOT)
    for ticket in tickets:
        ticket_id = quote(ticket.public_id, safe=RFC3986_SUBDELIMS + "/~:@")
        ticket.scans_url = ticket_id.join(urls["ticket_scans"])
        ticket.pdf_url = ticket_id.join(urls["ticket_pdf"])


def _order_page_context(access: Access, code: str) -> dict:
    detail = order_detail_data(access, code)
    _attach_ticket_urls(access, detail.order, detail.tickets)
    transfers = active_transfers(detail.tickets)
    for ticket in detail.tickets:  # each row's Transfer / Reissue / Cancel transfer (orders.menu.ticket_actions)
        ticket.actions = ticket_actions(access, detail, ticket, transfers.get(ticket.pk))  # type: ignore[attr-defined]
    actions = order_actions(access, detail)
    return {
        "access": access,
        "detail": detail,
        "order": detail.order,
        "latest": detail.latest_ticket_message,
        "actions": actions,
        # The Contact card's own Edit button: the menu's item, when this role may edit and the order allows it now.
        "contact_edit": next((item for item in actions if item.key == "edit_contact" and item.enabled), None),
        # The "details missing" notice's button: the menu's Open personalisation, when it may run now.
        "personalise": next((item for item in actions if item.key == "personalise" and item.enabled), None),
        "advice": delivery_advice(access, detail),
        "dialog_actions": DIALOG_ACTIONS,
        **_money_rows(access, detail),
    }


@dataclass(frozen=True)
class RefundRow:
    """One refund as the order page shows it."""

    refund: Refund
    words: str  # its status in the support articles' words (rules.REFUND_STATE_WORDS)
    stuck: bool  # confirming for longer than settings.REFUND_STUCK_AFTER_HOURS
    retry: bool  # the Retry button shows: it failed and this role may refund
    tickets: list[str]  # the ticket IDs it refunds


def _provider_label(payment: Payment) -> str:
    try:
        return provider_for(payment).label
    except UnknownProvider:
        return payment.provider


def _money_rows(access: Access, detail: OrderDetail) -> dict:
    """The "Payments and refunds" section: each payment with its provider's name, each refund in the support
    articles' words (rules.REFUND_STATE_WORDS), flagged when stuck confirming, with Retry where it failed."""
    stuck_before = refund_stuck_before()
    may_refund = access.can(Perm.REFUND)
    refunds = [
        RefundRow(
            refund=refund,
            words=rules.REFUND_STATE_WORDS[refund.status],
            stuck=refund.status == Refund.Status.CONFIRMING
            and refund.status_changed_at is not None
            and refund.status_changed_at < stuck_before,
            retry=may_refund and rules.refusal_refund_retry(refund) is None,
            tickets=[t.public_id for t in refund.tickets.all()],
        )
        for refund in detail.refunds
    ]
    in_flight = any(r.status in Refund.IN_FLIGHT for r in detail.refunds)
    return {
        "payment_rows": [{"payment": p, "provider": _provider_label(p)} for p in detail.payments],
        "refund_rows": refunds,
        "refunds_stuck": sum(1 for r in refunds if r.stuck),
        "refund_failed": next((r for r in refunds if r.refund.status == Refund.Status.FAILED), None),
        "refund_stuck_hours": f"{settings.REFUND_STUCK_AFTER_HOURS:g}",
        # While money is on its way, the section asks every 2 s whether a refund moved (order_refresh ?refunds=).
        "refund_states": ",".join(f"{r.pk}.{r.status}.{r.attempt}" for r in detail.refunds) if in_flight else None,
    }


def _order_refresh(request: HttpRequest, access: Access, code: str, flash: str = "") -> HttpResponse:
    """The order page's changeable sections, each swapped in place by id (out of band)."""
    with consistent_read():
        context = {**_order_page_context(access, code), "flash": flash}
        with timezone.override(context["order"].event.time_zone):
            return render(request, "orders/order_refresh.html", context)


@login_required
def order_detail(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    with consistent_read():  # the sections agree with each other though a task commits mid-page
        return render(request, "orders/order_detail.html", _order_page_context(access, code))


@login_required
def order_refresh(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """Polled while the ticket email (`?shown=` its status), a refund (`?refunds=` their states) or an SMS (`?sms=`
    its id and status) is in flight:
    204 (one query) while what the page shows still holds, else the changed sections (status, banner, tickets,
    payments and refunds, messages, timeline …)."""
    access = access_organisation(request.user, org)  # a poll: no header, no session write
    if "refunds" in request.GET:
        if order_refund_states(access, code) == request.GET["refunds"]:
            return HttpResponse(status=204)
    elif "sms" in request.GET:
        if order_latest_sms_state(access, code) == request.GET["sms"]:
            return HttpResponse(status=204)
    elif order_email_status(access, code) == request.GET.get("shown"):
        return HttpResponse(status=204)
    return _order_refresh(request, access, code)


@login_required
def ticket_scans(request: HtmxHttpRequest, org: str, code: str, ticket_id: str) -> HttpResponse:
    """Every scan of one ticket: the whole page, or the table alone for htmx to drop under the ticket's row."""
    access = page_access(request, org)
    order, ticket, scans = ticket_scans_data(access, code, ticket_id)
    context = {"access": access, "order": order, "ticket": ticket, "scans": scans}
    if request.htmx:
        return render(request, "orders/ticket_scans.html#scan-history", context)
    return render(request, "orders/ticket_scans.html", context)


@login_required
def orders_email_status(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """The guest tables' poll (`?poll=<id>&o=CODE.status…`, the statuses the table shows): 204 while none
    moved, else the moved badges and the poller again with what is still in flight. One query per table."""
    access = access_organisation(request.user, org)  # a poll: no header, no session write
    poll_id = request.GET.get("poll", "")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,40}", poll_id):
        return HttpResponse("Bad poll id.", status=400)
    shown = dict(pair.partition(".")[::2] for pair in request.GET.getlist("o")[:200])
    current = orders_email_statuses(access, list(shown))
    changed = [Order(code=code, email_status=status) for code, status in current.items() if shown[code] != status]
    if not changed:
        return HttpResponse(status=204)
    context = {
        "changed": changed,
        "poll_id": poll_id,
        "url": poll_url(access.organisation.slug, poll_id, current.items()),
    }
    return render(request, "orders/email_status_badges.html", context)


# --- Ticket delivery actions: resend, edit contact, fix and resend, send held (the PDFs: pdf_views) ------
# Each page shows what will happen (which address, which tickets) and posts to one service.


def _delivery_context(access: Access, code: str, perm: Perm) -> dict:
    access.require(perm)  # a refusal page (templates/403.html) with the reason and the way back to the order
    detail = order_detail_data(access, code)
    valid = [t for t in detail.tickets if t.is_valid]
    return {"access": access, "detail": detail, "order": detail.order, "valid_tickets": valid}


def _done(request: HtmxHttpRequest, access: Access, code: str, text: str, *, back: str | None = None) -> HttpResponse:
    """After an action: htmx gets the changed sections in place (the dialog empties and closes);
    a plain form post goes back to `back` (a safe path: the list the agent came from), else to the order page,
    with the text as a message."""
    if request.htmx:
        return _order_refresh(request, access, code, flash=text)
    messages.success(request, text)
    return redirect(back or reverse("order_detail", kwargs={"org": access.organisation.slug, "code": code}))


def _form_page(request: HtmxHttpRequest, template: str, partial: str, context: dict) -> HttpResponse:
    """The confirmation form: the whole page, or for htmx only the form's section, to open in the dialog."""
    if request.htmx:
        return render(request, f"{template}#{partial}", {**context, "in_dialog": True})
    return render(request, template, context)


def _resend_form(request: HtmxHttpRequest, context: dict) -> ResendForm:
    """The resend form; "Send once to another address" and "Resend without the PDF" links open it with that
    option chosen, and an address that marked an email as spam needs the confirmation box."""
    order = context["order"]
    initial = {"send_to": ResendForm.TO_OTHER} if request.GET.get("send_to") == ResendForm.TO_OTHER else {}
    complained = complained_addresses(context["detail"])
    context["complained"] = order.contact_email.lower() in complained
    latest = context["detail"].latest_ticket_message
    context["blocked_message"] = (
        latest if latest and rules.offer_without_pdf(latest.status, latest.status_reason) else None
    )
    initial["attachment"] = ResendForm.WITH_PDF if order.event.attach_pdf_tickets else ResendForm.WITH_LINK
    if request.GET.get("attachment") == ResendForm.WITH_LINK:  # the order page's "Resend without the PDF"
        initial["attachment"] = ResendForm.WITH_LINK
    typed = request.POST.get("other_email", "") if request.POST.get("send_to") == ResendForm.TO_OTHER else ""
    listed = suppressions_for(order.organisation_id, [order.contact_email, typed])
    # The warning names the address the form is about: the typed one once it is chosen, else the contact's.
    context["suppression"] = listed.get(typed.strip().lower()) or listed.get(order.contact_email.lower())
    return ResendForm(
        request.POST or None,
        initial=initial,
        contact_email=order.contact_email,
        complained=complained,
        offers_without_pdf=context["blocked_message"] is not None or not order.event.attach_pdf_tickets,
        suppressed=frozenset(listed),
    )


@login_required
def order_resend(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.RESEND)
    order = context["order"]
    form = _resend_form(request, context)
    if request.method == "POST" and form.is_valid():
        try:
            message = order_resend_tickets(
                actor=request.user,
                order=order,
                recipient=form.recipient,
                idempotency_key=form.cleaned_data["idempotency_key"],
                complaint_confirmed=form.cleaned_data.get("confirm_complaint", False),
                pdf_attached=form.pdf_attached,
                suppression_confirmed=form.cleaned_data.get("confirm_suppressed", False),
            )
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            without = "" if message.pdf_attached else " without the PDF (with the tickets page link)"
            return _done(request, access, code, f"Tickets queued for {message.recipient}{without}.")
    refusal = rules.refusal_resend(order, valid_tickets=len(context["valid_tickets"]))
    context = {**context, "form": form, "refusal": refusal, "can_unsuppress": access.can(Perm.MANAGE_SUPPRESSIONS)}
    return _form_page(request, "orders/order_resend.html", "resend", context)


def _contact_form(request: HtmxHttpRequest, access: Access, context: dict) -> ContactForm:
    """The contact form, with the email locked where the rules say so and the resend box where it can run."""
    order = context["order"]
    can_resend = access.can(Perm.RESEND) and not rules.refusal_resend(
        order, valid_tickets=len(context["valid_tickets"])
    )
    return ContactForm(
        request.POST or None,
        initial={f: getattr(order, f) for f in ("contact_name", "contact_email", "contact_phone")},
        email_locked_reason=rules.refusal_change_email(order),
        can_resend=can_resend,
    )


@login_required
def order_edit_contact(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.EDIT_CONTACT)
    form = _contact_form(request, access, context)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        resend = data.get("resend_tickets", False)
        try:
            order_change_contact(
                actor=request.user,
                order=context["order"],
                name=data["contact_name"],
                email=data["contact_email"],
                phone=data["contact_phone"],
                resend_tickets=resend,
                idempotency_key=data["idempotency_key"],
            )
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            text = f"Contact saved. Tickets queued for {data['contact_email']}." if resend else "Contact saved."
            return _done(request, access, code, text)
    refusal = rules.refusal_edit_contact(context["order"])
    context = {**context, "form": form, "refusal": refusal}
    return _form_page(request, "orders/order_edit_contact.html", "edit-contact", context)


def _corrected_and_resent(request: HtmxHttpRequest, order: Order, form: FixAndResendForm) -> bool:
    """The fix's one service call (the address the form holds, tickets resent): True when done, else False with
    the service's refusal on the form."""
    try:
        order_change_contact(
            actor=request.user,
            order=order,
            name=order.contact_name,
            email=form.cleaned_data["contact_email"],
            phone=order.contact_phone,
            resend_tickets=True,
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except OrderActionError as error:
        form.add_error(None, str(error))
        return False
    return True


@login_required
def order_fix_and_resend(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """The bounce banner's one step: correct the address to the suggested one and resend the tickets. Opened
    from a list (the at-risk list) with `?next=<its path>`: Cancel goes back there, and so does a plain post
    once done; a `next` that is not a path on this site is ignored (the order page instead)."""
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.EDIT_CONTACT)
    order = context["order"]
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"), org)
    form = FixAndResendForm(request.POST or None, initial={"contact_email": suggest_email(order.contact_email) or ""})
    if request.method == "POST" and form.is_valid() and _corrected_and_resent(request, order, form):
        text = f"Email corrected; tickets queued for {form.cleaned_data['contact_email']}."
        if back:  # back on a list of many orders: say which one
            text = f"Order {order.code}: {text}"
        return _done(request, access, code, text, back=back)
    cancel = back or reverse("order_detail", kwargs={"org": org, "code": order.code})
    context = {**context, "form": form, "next": back, "cancel_url": cancel}
    return _form_page(request, "orders/order_fix_and_resend.html", "fix-and-resend", context)


@login_required
def order_send_held(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.SEND_HELD)
    order = context["order"]
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order_send_held_tickets(
                actor=request.user, order=order, idempotency_key=form.cleaned_data["idempotency_key"]
            )
        except OrderActionError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, access, code, f"Tickets released and queued for {order.contact_email}.")
    refusal = rules.refusal_send_held(order)
    return _form_page(
        request, "orders/order_send_held.html", "send-held", {**context, "form": form, "refusal": refusal}
    )
