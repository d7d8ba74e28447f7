"""The customer account pages beside the Customers list: New customer account, Merge, Send verification email,
and the customer's public verification link.

Plain function views: parse the form, call one service (guests.services), redirect with a message. The role is
checked by the service and shown before it (a refusal page with the reason); an account the member doesn't see
is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from orders.forms import ConfirmForm
from organiser_portal.matching import fold
from organiser_portal.permissions import Perm, page_access

from .errors import CustomerAccountError
from .forms import ChooseCustomerForm, CustomerAccountForm
from .models import Customer
from .search import search
from .selectors import customer_get, customer_was_merged_into
from .services import customer_create, customer_verification_send, customer_verify, customers_merge
from .verification import VerificationRefused, customer_for_token


class AuthenticatedRequest(HttpRequest):
    user: User  # every view here but the public link is login_required: the actor a service checks


@login_required
def customer_new(request: AuthenticatedRequest, org: str) -> HttpResponse:
    """A customer account with no order yet; the same address in the organisation is refused with the way to
    the existing account."""
    access = page_access(request, org)
    access.require(Perm.LINK_CUSTOMERS)
    form = CustomerAccountForm(request.POST or None)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            customer = customer_create(actor=request.user, organisation=access.organisation, **data)
        except CustomerAccountError as error:
            form.add_error(None, str(error))
            existing = error.existing
        else:
            messages.success(request, f"Customer account created for {customer.name}.")
            return redirect("customer_detail", org=org, customer_id=customer.pk)
    # An account without orders belongs to no region: a region-limited member creates one from an order.
    limited = access.region_ids is not None
    context = {"access": access, "form": form, "existing": existing, "limited": limited}
    return render(request, "guests/customer_new.html", context)


def merge_warnings(keep: Customer, merge: Customer) -> list[str]:
    """What the merge confirmation warns of before `merge` is deleted: another person's name (accents and case
    aside), a verified account or an older one."""
    warnings = []
    if fold(merge.name) != fold(keep.name):
        warnings.append(
            f"The names differ ({merge.name}; {keep.name}): merge only two accounts of the same person, the "
            "orders can't be moved back."
        )
    if merge.verified and not keep.verified:
        warnings.append(
            f"{merge.email} is verified and {keep.email} is not: the merge deletes the verified account, and the "
            "account kept stays not verified."
        )
    elif merge.verified:
        warnings.append(f"Both accounts are verified: the merge deletes {merge.email}, confirmed by the customer.")
    if merge.created_at < keep.created_at:
        warnings.append(
            f"{merge.email} is the older account (since {date_format(localtime(merge.created_at), 'j M Y')}; "
            f"{keep.email} since {date_format(localtime(keep.created_at), 'j M Y')}): the customer may know it as their own."
        )
    return warnings


@login_required
def customer_merge(request: AuthenticatedRequest, org: str, customer_id: int) -> HttpResponse:
    """Merge another account of the same person into this one: find it, see both side by side with warnings when
    the account to be deleted is verified or older, swap which one is kept in one click, confirm."""
    access = page_access(request, org)
    keep = customer_get(access, customer_id)
    access.require(Perm.MANAGE_CUSTOMERS)
    form = ChooseCustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if customer_was_merged_into(keep, form.cleaned_data["customer"]):  # confirmed twice: done the first time
            messages.info(request, "That account was already merged into this one.")
            return redirect("customer_detail", org=org, customer_id=keep.pk)
        merged = customer_get(access, form.cleaned_data["customer"])
        try:
            customers_merge(actor=request.user, organisation=access.organisation, keep_id=keep.pk, merge_id=merged.pk)
        except CustomerAccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{merged.name} <{merged.email}> merged into this account: its orders moved here."
            )
            return redirect("customer_detail", org=org, customer_id=keep.pk)
    chosen_id = request.POST.get("customer") or request.GET.get("customer") or ""
    merge = customer_get(access, int(chosen_id)) if chosen_id.isdigit() and 0 < int(chosen_id) < 2**63 else None
    query = " ".join(request.GET.get("q", "").split())[:200]
    results = search(access.without_region_choice(), query, customers_only=True) if query and merge is None else None
    context = {"access": access, "keep": keep, "merge": merge, "form": form, "query": query, "results": results}
    if merge is not None:
        context["keep_orders"], context["merge_orders"] = keep.orders.count(), merge.orders.count()
        context["warnings"] = merge_warnings(keep, merge)
        swap = reverse("customer_merge", kwargs={"org": org, "customer_id": merge.pk})
        context["swap_url"] = f"{swap}?customer={keep.pk}"
    return render(request, "guests/customer_merge.html", context)


@login_required
@require_POST
def customer_send_verification(request: AuthenticatedRequest, org: str, customer_id: int) -> HttpResponse:
    """The customer page's "Send verification email" button: queued through the outbox, once per click."""
    access = page_access(request, org)
    customer = customer_get(access, customer_id)
    access.require(Perm.LINK_CUSTOMERS)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was incomplete: nothing was sent. Try again.")
    else:
        try:
            message = customer_verification_send(
                actor=request.user,
                organisation=access.organisation,
                customer_id=customer.pk,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except CustomerAccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Verification email queued for {message.recipient}.")
    return redirect("customer_detail", org=org, customer_id=customer.pk)


_REFUSED = {
    "tampered": "This link is not valid. Use the link in the email exactly as it came, or ask the organiser for a new one.",
    "expired": "This link has expired. Ask the organiser to send you a new verification email.",
    "changed": "This link was for another email address of your account. Ask the organiser for a new one.",
}


@never_cache
def customer_verify_public(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the verification email. GET shows the address and a Confirm button; the POST confirms it
    (a link checker that opens every link in an email confirms nothing). Confirming again only says so.
    A tampered, expired or outdated link is a clear page (400) and changes nothing."""
    try:
        if request.method == "POST":
            customer, newly = customer_verify(token=token)
            return render(request, "guests/customer_verify.html", {"customer": customer, "done": True, "newly": newly})
        customer = customer_for_token(token)
    except VerificationRefused as refused:
        context = {"refused": refused.reason, "text": _REFUSED[refused.reason]}
        return render(request, "guests/customer_verify.html", context, status=400)
    return render(request, "guests/customer_verify.html", {"customer": customer, "done": customer.verified})
