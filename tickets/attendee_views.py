"""The customer's attendee details page: opened from the emailed link (tickets.links), no login.

It shows the link's order alone, in English or German (the link's language first, `?lang=` switches), and
refuses with a clear page a link that was tampered with, has expired or was revoked, an order whose details
are frozen or need nothing, and a post naming tickets of another order. Saving goes through
tickets.personalisation.ticket_personalise_by_customer: the timeline says the customer changed them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from orders import rules
from organiser_portal.times import local_text

from .attendee_forms import AttendeeDetailsForm
from .links import LinkRefused, link_for_token
from .models import PersonalisationLink, Ticket
from .personalisation import (
    PersonalisationError,
    frozen_since,
    is_frozen,
    personal_data_fields,
    ticket_personalise_by_customer,
    tickets_needing_details,
)

LANGUAGES = dict(PersonalisationLink.Language.choices)


def _language(request: HttpRequest, link: PersonalisationLink | None) -> str:
    chosen = request.POST.get("lang") or request.GET.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return link.language if link is not None else PersonalisationLink.Language.ENGLISH


def _refused(request: HttpRequest, language: str, text: str, status: int) -> HttpResponse:
    context = {"language": language, "refusal": text, "languages": LANGUAGES}
    return render(request, "tickets/attendees_public.html", context, status=status)


_LINK_REFUSALS = {
    "tampered": (404, gettext_lazy("This link is not valid. Please use the link exactly as it was emailed to you.")),
    "expired": (410, gettext_lazy("This link has expired. Please ask the organiser for a new one.")),
    "revoked": (410, gettext_lazy("This link no longer works. Please ask the organiser for a new one.")),
}


@never_cache
def attendees_public(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = link_for_token(token)
    except LinkRefused as refused:
        language = _language(request, None)
        with translation.override(language):
            status, text = _LINK_REFUSALS[refused.reason]
            return _refused(request, language, str(text), status)
    language = _language(request, link)
    with translation.override(language):
        return _page(request, link, language)


def _page(request: HttpRequest, link: PersonalisationLink, language: str) -> HttpResponse:
    order = link.order
    tickets = tickets_needing_details(
        Ticket.objects.filter(order=order, status=Ticket.Status.VALID).select_related("ticket_type")
    )
    if rules.refusal_personalise(order, tickets_needing_data=len(tickets)):
        return _refused(request, language, _("There is nothing to fill in for this order any more."), 409)
    if is_frozen(order.event):
        since = frozen_since(order.event)
        text = _("The attendee details of this order can no longer be changed: they were frozen on %(date)s.") % {
            "date": local_text(since, order.event.tzinfo) if since else ""
        }
        return _refused(request, language, text, 409)
    fields = personal_data_fields(t.ticket_type_id for t in tickets)
    data = request.POST if request.method == "POST" else None
    form = AttendeeDetailsForm(data, tickets=tickets, fields_by_type=fields)
    if data is not None:
        if form.foreign_ticket_ids():
            return _refused(request, language, _("This form names tickets that are not part of this order."), 400)
        if form.is_valid():
            try:
                ticket_personalise_by_customer(link=link, details=form.details())
            except PersonalisationError as error:
                form.add_service_errors(error)
            else:
                return redirect(f"{request.path}?lang={language}&saved=1")
    context = {
        "language": language,
        "languages": LANGUAGES,
        "order": order,
        "event": order.event,
        "form": form,
        "blocks": form.blocks(),
        "saved": request.GET.get("saved") == "1" and not form.errors,
    }
    return render(request, "tickets/attendees_public.html", context)
