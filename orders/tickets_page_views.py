"""⋯ Customer's tickets page: the order's current link to the customer's public tickets page (tickets.pages), to
copy and pass on, and "New link", which voids every link sent before (a link that reached the wrong person).

A plain page without JavaScript; with htmx it opens in the order page's dialog (orders.views: `_form_page`,
`_done`).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from organiser_portal.permissions import Perm, page_access
from organiser_portal.times import local_text
from tickets.pages import tickets_page_expiry, tickets_page_new_link, tickets_page_url

from . import rules
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page


class NewLinkForm(forms.Form):
    """The version of the link the agent saw: a double submit replaces it once."""

    replacing = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


@login_required
@require_http_methods(["GET", "POST"])
def order_tickets_page(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.SHARE_TICKETS_PAGE)
    order = context["order"]
    refusal = rules.refusal_tickets_page(order)
    form = NewLinkForm(request.POST or None, initial={"replacing": order.tickets_page_version})
    if request.method == "POST" and not refusal and form.is_valid():
        tickets_page_new_link(actor=request.user, order=order, replacing=form.cleaned_data["replacing"])
        return _done(request, access, code, "New tickets page link made: the links sent before no longer work.")
    event = order.event
    context = {
        **context,
        "form": form,
        "refusal": refusal,
        "link": tickets_page_url(order),
        "works_until": local_text(tickets_page_expiry(event), event.tzinfo),
    }
    return _form_page(request, "orders/order_tickets_page.html", "tickets-page", context)
