"""⋯ Open personalisation: the attendee details of every ticket that needs them, on one form for the whole order;
and the link that lets the customer fill them in themselves (sent, listed, revoked).

Each form posts to one service of tickets.personalisation. A plain page without JavaScript; with htmx it opens
in the order page's dialog (orders.views: `_form_page`, `_done`).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from organiser_portal.permissions import Access, Perm, page_access
from tickets.attendee_forms import AttendeeDetailsForm
from tickets.models import PersonalisationLink
from tickets.personalisation import (
    PersonalisationError,
    frozen_words,
    is_frozen,
    personal_data_fields,
    personalisation_link_revoke,
    personalisation_link_send,
    refusal_frozen,
    ticket_personalise,
    tickets_needing_details,
)

from . import rules
from .forms import EmailAddressField, IdempotentForm
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page


class LinkForm(IdempotentForm):
    recipient = EmailAddressField(label="Send to")
    language = forms.ChoiceField(
        label="Language of the email and the page",
        choices=PersonalisationLink.Language.choices,
        initial=PersonalisationLink.Language.ENGLISH,
        help_text="The customer can switch the page to the other language.",
    )


def _context(access: Access, code: str) -> dict:
    """The order, its tickets needing details with their fields, what stops a change now, the links sent."""
    context = _delivery_context(access, code, Perm.PERSONALISE)
    order = context["order"]
    tickets = tickets_needing_details(context["detail"].tickets)
    may_change_frozen = access.can(Perm.PERSONALISE_FROZEN)
    refusal = rules.refusal_personalise(order, tickets_needing_data=len(tickets)) or refusal_frozen(
        order.event, may_change_frozen=may_change_frozen
    )
    frozen = is_frozen(order.event)
    now = timezone.now()
    links = list(order.personalisation_links.all()[:10])
    for link in links:
        link.state = "Revoked" if link.revoked_at else ("Works" if link.usable(now) else "Expired")
    return {
        **context,
        "needing": tickets,
        "fields_by_type": personal_data_fields(t.ticket_type_id for t in tickets),
        "refusal": refusal,
        # A manager past the freeze may still change them: the form says so first.
        "frozen_warning": f"{frozen_words(order.event)}. You can still change them as a manager."
        if frozen and refusal is None
        else "",
        "link_refusal": f"{frozen_words(order.event)}: the customer can't change them any more" if frozen else None,
        "links": links,
    }


def _page(request: HtmxHttpRequest, context: dict, form: AttendeeDetailsForm, link_form: LinkForm) -> HttpResponse:
    context = {**context, "form": form, "blocks": form.blocks(), "link_form": link_form}
    return _form_page(request, "orders/order_personalise.html", "personalise", context)


def _link_form(context: dict, data=None) -> LinkForm:
    return LinkForm(data, initial={"recipient": context["order"].contact_email})


@login_required
def order_personalise(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """The attendee details form: a block per ticket needing them; nothing is saved until all of it is valid."""
    access = page_access(request, org)
    context = _context(access, code)
    order = context["order"]
    data = request.POST if request.method == "POST" else None
    form = AttendeeDetailsForm(data, tickets=context["needing"], fields_by_type=context["fields_by_type"])
    if data is not None:
        if foreign := form.foreign_ticket_ids():
            return HttpResponse(f"Not tickets of order {order.code}: {', '.join(sorted(foreign))}", status=400)
        if context["refusal"] is None and form.is_valid():
            try:
                changed = ticket_personalise(actor=request.user, order=order, details=form.details())
            except PersonalisationError as error:
                form.add_service_errors(error)
            else:
                count = len(changed)
                text = (
                    f"Attendee details saved for {count} ticket{'s' if count != 1 else ''}."
                    if count
                    else ("Nothing changed.")
                )
                return _done(request, access, code, text)
    return _page(request, context, form, _link_form(context))


@login_required
@require_POST
def order_personalise_link(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """Send the customer a link to fill in the attendee details themselves."""
    access = page_access(request, org)
    context = _context(access, code)
    order = context["order"]
    link_form = _link_form(context, request.POST)
    if link_form.is_valid():
        try:
            link = personalisation_link_send(
                actor=request.user,
                order=order,
                recipient=link_form.cleaned_data["recipient"],
                language=link_form.cleaned_data["language"],
                idempotency_key=link_form.cleaned_data["idempotency_key"],
            )
        except PersonalisationError as error:
            link_form.add_error(None, str(error))
        else:
            return _done(request, access, code, f"Link to the attendee details queued for {link.recipient}.")
    form = AttendeeDetailsForm(None, tickets=context["needing"], fields_by_type=context["fields_by_type"])
    return _page(request, context, form, link_form)


@login_required
@require_POST
def order_personalise_link_revoke(request: HtmxHttpRequest, org: str, code: str, link_id: int) -> HttpResponse:
    """Stop a link sent to the customer from working."""
    access = page_access(request, org)
    context = _context(access, code)
    try:
        personalisation_link_revoke(actor=request.user, order=context["order"], link_id=link_id)
    except PersonalisationLink.DoesNotExist:
        raise Http404("No such link.") from None
    return _done(request, access, code, "The link no longer works.")
