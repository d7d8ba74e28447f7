"""The order page's customer account actions: Create customer account, Link to customer account, Unlink.

Each page shows both sides before anything changes (the order's contact, the account) and posts to one service
(guests.services, through orders.services). Plain pages without JavaScript; with htmx they open in the order
page's dialog (orders.views: `_form_page`, `_done`). The role is checked first (a refusal page with the reason),
then the order (another organisation's or region's order: 404) and the account (one the member doesn't see: 404).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from guests.errors import CustomerAccountError
from guests.forms import ChooseCustomerForm, CustomerAccountForm
from guests.models import Customer
from guests.search import search
from guests.selectors import customer_get, customer_with_email, customers_visible
from organiser_portal.permissions import Access, Perm, page_access

from . import rules
from .services import order_customer_create, order_customer_link, order_customer_unlink
from .views import HtmxHttpRequest, _delivery_context, _done, _form_page


def _customer_context(access: Access, code: str) -> dict:
    context = _delivery_context(access, code, Perm.LINK_CUSTOMERS)
    return {**context, "link_refusal": rules.refusal_link_customer(context["order"])}


@login_required
def create_customer(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """A customer account for a guest-checkout buyer, from the order's contact; the order is linked to it."""
    access = page_access(request, org)
    context = _customer_context(access, code)
    order = context["order"]
    initial = {"name": order.contact_name, "email": order.contact_email, "phone": order.contact_phone}
    form = CustomerAccountForm(request.POST or None, initial=initial, with_address=False)
    existing = customer_with_email(access.organisation, order.contact_email) if not request.POST else None
    if existing is not None:  # named only when the member sees it
        existing = _visible(access, existing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = order_customer_create(
                actor=request.user, order=order, name=data["name"], email=data["email"], phone=data["phone"]
            )
        except CustomerAccountError as error:
            form.add_error(None, str(error))
            existing = error.existing
        else:
            return _done(request, access, code, f"Customer account created for {data['name']} and linked.")
    context = {**context, "form": form, "refusal": context["link_refusal"], "existing": existing}
    return _form_page(request, "orders/order_customer_create.html", "customer-create", context)


def _visible(access: Access, customer: Customer) -> Customer | None:
    return customers_visible(access.without_region_choice()).filter(pk=customer.pk).first()


def _chosen(access: Access, value: str | None) -> Customer | None:
    """The account named by `?customer=` (one the member sees, else 404), or None when none is named."""
    try:
        customer_id = int(value or "")
    except ValueError:
        return None
    return customer_get(access, customer_id) if 0 < customer_id < 2**63 else None


@login_required
def link_customer(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """Find an account (the one with the order's email is offered first), then confirm with both sides shown."""
    access = page_access(request, org)
    context = _customer_context(access, code)
    order = context["order"]
    form = ChooseCustomerForm(request.POST or None)
    chosen = _chosen(access, request.POST.get("customer") or request.GET.get("customer"))
    if request.method == "POST" and form.is_valid() and chosen is not None:
        try:
            order_customer_link(actor=request.user, order=order, customer_id=chosen.pk)
        except CustomerAccountError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, access, code, f"Order linked to the customer account of {chosen.name}.")
    query = " ".join(request.GET.get("q", "").split())[:200]
    results = search(access.without_region_choice(), query, customers_only=True) if query else None
    suggested = customer_with_email(access.organisation, order.contact_email) if chosen is None else None
    if suggested is not None:  # offered only when the member sees it
        suggested = _chosen(access, str(suggested.pk))
    context = {
        **context,
        "form": form,
        "refusal": context["link_refusal"],
        "chosen": chosen,
        "query": query,
        "results": results,
        "suggested": suggested,
    }
    if chosen is not None:
        context["chosen_orders"] = chosen.orders.count()
        context["same_email"] = chosen.email.lower() == order.contact_email.lower()
    return _form_page(request, "orders/order_customer_link.html", "customer-link", context)


@login_required
def unlink_customer(request: HtmxHttpRequest, org: str, code: str) -> HttpResponse:
    """Make the order a guest checkout again, the account it leaves shown beside the order's contact."""
    access = page_access(request, org)
    context = _delivery_context(access, code, Perm.LINK_CUSTOMERS)
    order = context["order"]
    form = ChooseCustomerForm(request.POST or None, initial={"customer": order.customer_id})
    if request.method == "POST" and form.is_valid():
        try:
            order_customer_unlink(actor=request.user, order=order, customer_id=form.cleaned_data["customer"])
        except CustomerAccountError as error:
            form.add_error(None, str(error))
        else:
            return _done(request, access, code, "Order unlinked: it is a guest checkout now.")
    refusal = None if form.errors else rules.refusal_unlink_customer(order)
    customer = order.customer
    context = {**context, "form": form, "refusal": refusal, "customer": customer}
    context["customer_orders"] = customer.orders.count() if customer is not None else None
    return _form_page(request, "orders/order_customer_unlink.html", "customer-unlink", context)
