"""The organisation's suppression list: the page, and taking an address off it with a reason."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from orders.models import Order
from organiser_portal.permissions import Access, Perm, page_access

from .selectors import suppression_get, suppression_list
from .services import SuppressionError, suppression_remove


class AuthedRequest(HttpRequest):
    user: User


class RemoveForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why may it receive emails again?",
        help_text="For the order's timeline, e.g. “Guest says the mailbox works again”.",
    )


@login_required
def suppressions(request: HttpRequest, org: str) -> HttpResponse:
    """The addresses on the list (newest first), and those taken off it with who and why."""
    access = page_access(request, org)
    context = {
        "access": access,
        "active": suppression_list(access.organisation, region_ids=access.listed_region_ids),
        "removed": suppression_list(access.organisation, region_ids=access.listed_region_ids, removed=True, limit=50),
        "can_remove": access.can(Perm.MANAGE_SUPPRESSIONS),
    }
    return render(request, "notifications/suppressions.html", context)


def _order_from(access: Access, code: str) -> Order | None:
    """The order the member came from (`?order=`), when this access may open it: its timeline records the removal."""
    if not code:
        return None
    order = Order.objects.select_related("event").filter(organisation=access.organisation, code=code).first()
    return order if order is not None and access.allows_region(order.event.region_id) else None


@login_required
def suppression_remove_page(request: AuthedRequest, org: str, suppression_id: int) -> HttpResponse:
    access = page_access(request, org)
    access.require(Perm.MANAGE_SUPPRESSIONS)
    suppression = suppression_get(access.organisation, suppression_id)
    order = _order_from(access, request.GET.get("order", ""))
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            suppression_remove(
                actor=request.user,
                organisation=access.organisation,
                suppression_id=suppression.pk,
                reason=form.cleaned_data["reason"],
                order=order,
            )
        except SuppressionError as error:
            form.add_error("reason", str(error))
        else:
            messages.success(request, f"{suppression.address} is off the suppression list.")
            if order is not None:
                return redirect("order_resend", org=org, code=order.code)
            return redirect("suppressions", org=org)
    context = {"access": access, "suppression": suppression, "form": form, "order": order}
    return render(request, "notifications/suppression_remove.html", context)
