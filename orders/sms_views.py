"""⋯ Resend tickets by SMS: the link to the order's tickets page, to the order's phone or a number typed in once.

Two posts: the first reads the number (organiser_portal.phones.sms_number) and shows it in international form to
confirm; the second (`confirm`) calls the service. A plain page without JavaScript; with htmx it opens in the order
page's dialog (orders.views: `_form_page`, `_done`).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from organiser_portal.permissions import Perm, page_access
from organiser_portal.phones import phone_international

from . import rules
from .errors import OrderActionError
from .forms import SmsForm
from .services import order_send_tickets_sms
from .sms_limits import order_sms_refusal, sms_limit_refusal
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page


@login_required
def order_resend_sms(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.RESEND)
    order = context["order"]
    form = SmsForm(request.POST or None, order_phone=order.contact_phone, region=order.event.phone_region)
    confirming = False
    # Past a per-order limit no number can be sent to: said before a number is typed, in place of the form.
    # Counted on the messages the page read, as the ⋯ menu's disabled item counts them (orders.menu); the service
    # counts again under its lock.
    limit_notice = order_sms_refusal(order=order, sms_sent_at=context["detail"].sms_sent_at)
    # "Change the number" goes back to the first step with what was typed.
    if request.method == "POST" and not limit_notice and form.is_valid() and "change" not in request.POST:
        if not form.cleaned_data["confirm"]:
            # The number as it will be sent to, before anything is sent; past a sending limit, why not.
            if reason := sms_limit_refusal(order=order, number=form.cleaned_data["number"]):
                form.add_error(None, reason)
            else:
                confirming = True
        else:
            try:
                message = order_send_tickets_sms(
                    actor=request.user,
                    order=order,
                    phone=form.cleaned_data["number"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except OrderActionError as error:
                form.add_error(None, str(error))
            else:
                return _done(request, access, code, f"Tickets link queued by SMS for {message.recipient_shown}.")
    # The per-order limit refuses like any other refusal: the reason in place of the form, and Close.
    refusal = rules.refusal_resend(order, valid_tickets=len(context["valid_tickets"])) or limit_notice
    order_number = order.contact_phone_e164
    context = {
        **context,
        "form": form,
        "refusal": refusal,
        "confirming": confirming,
        "by_sms": True,
        "order_phone_shown": phone_international(order_number) if order_number else order.contact_phone,
    }
    return _form_page(request, "orders/order_resend_sms.html", "resend-sms", context)
