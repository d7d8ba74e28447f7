"""Writes of the guests app: customer accounts (create, link an order, unlink, merge, verification) and the
search's name vocabulary.

Every action checks the actor's permission first (Perm.LINK_CUSTOMERS, or Perm.MANAGE_CUSTOMERS to merge) and
only finds accounts and orders the actor sees: another organisation's, or one outside the actor's regions, is a 404.
An action on an order locks the order row first (orders.status.order_lock), writes its timeline entry in the same
transaction, and returns the order unchanged when it is already done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.http import Http404

from notifications.models import OutgoingMessage
from notifications.services import customer_message_queue
from orders import rules
from orders.models import Order
from orders.status import order_lock
from orders.timeline import timeline_record
from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.models import Organisation
from organiser_portal.permissions import Access, Perm, access_for, require_perm

from . import sql
from .errors import CustomerAccountError
from .models import Customer
from .selectors import customer_get, customer_with_email, customers_visible
from .verification import customer_for_token

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MIN_WORD = 3  # shorter words carry too few trigrams to correct anything


def name_words_refresh(*, organisation: Organisation | None = None) -> int:
    """Add every word of the organisation's (or all organisations') order and customer names to NameWord.

    Safe to run any time and twice: it only adds missing words. A word whose last name was changed
    away stays; the search then finds nothing more for it, which costs one cheap query. Returns the
    number of words added.
    """
    with transaction.atomic():
        return sql.name_words_insert(organisation_id=organisation.pk if organisation else None, min_length=MIN_WORD)


# --- Customer accounts ---------------------------------------------------------------------------------------


def account_words(customer: Customer) -> str:
    """How the timeline names an account: "Anna Berg <anna@example.com>"."""
    return f"{customer.name} <{customer.email}>"


def _duplicate(existing: Customer, access: Access) -> CustomerAccountError:
    """The refusal for an address that has an account; one the member doesn't see (its orders are all in other
    regions) is not named: only that it exists, as the unique address can't hide that."""
    if not customers_visible(access.without_region_choice()).filter(pk=existing.pk).exists():
        return CustomerAccountError(
            "This organisation already has a customer account with that address, with orders in regions you don't "
            "see: a member who sees them can link the order to it."
        )
    return CustomerAccountError(
        f"A customer account with {existing.email} already exists ({existing.name}): "
        "link the order to that account instead of creating another one.",
        existing=existing,
    )


def _insert(*, access: Access, name: str, email: str, phone: str, address: str) -> Customer:
    """A new account, or CustomerAccountError naming the one that has the address (also when a concurrent
    request created it first: the unique constraint decides)."""
    organisation = access.organisation
    name = " ".join(name.split())
    if not name:
        raise CustomerAccountError("The customer account needs a name.")
    try:
        email = address_normalise(email).value
    except AddressError as error:
        raise CustomerAccountError(str(error)) from None
    if (existing := customer_with_email(organisation, email)) is not None:
        raise _duplicate(existing, access)
    customer = Customer(organisation=organisation, name=name, email=email, phone=phone.strip(), address=address.strip())
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
            customer.save()
    except IntegrityError:
        existing = customer_with_email(organisation, email)
        if existing is None:
            raise
        raise _duplicate(existing, access) from None
    return customer


def customer_create(
    *, actor: User, organisation: Organisation, name: str, email: str, phone: str = "", address: str = ""
) -> Customer:
    """A customer account with no order yet (the Customers list's "New customer account").

    CustomerAccountError when the organisation has an account with this address already (in any case; its
    `existing` is that account), for a name or address the contact form would refuse, and for a member limited
    to some regions: an account without orders belongs to no region, so they create one from an order instead.
    """
    access = _access(actor, organisation, Perm.LINK_CUSTOMERS)
    if access.region_ids is not None:
        raise CustomerAccountError(
            "You see the orders of some regions only: create the account from one of their orders "
            "(order page → Actions → Create customer account)."
        )
    with transaction.atomic():
        return _insert(access=access, name=name, email=email, phone=phone, address=address)


def _access(actor: User, organisation: Organisation, perm: Perm) -> Access:
    """The actor's access to the organisation (none: 404) with `perm` (else PermissionDenied with the reason).
    Unlike require_perm it names no region: an account is looked up through the access (customer_get)."""
    access = access_for(actor, organisation)
    if access is None:
        raise Http404("Not found.")
    access.require(perm)
    return access


def _order_access(actor: User, order: Order) -> Access:
    return require_perm(actor, order.organisation, Perm.LINK_CUSTOMERS, region_id=order.event.region_id)


def _set_customer(
    order: Order, customer: Customer | None, *, actor: User, action: str, account: Customer, **data
) -> None:
    """Save the locked order's customer account (None: a guest checkout again) and record `action` on its
    timeline, naming `account` (the account it joined or left) with any further `data`."""
    order.customer = customer
    order.save(update_fields=["customer"])
    timeline_record(
        order=order,
        action=action,
        actor=actor,
        data={"customer": account_words(account), "customer_id": account.pk, **data},
    )


def order_customer_create(*, actor: User, order: Order, name: str, email: str, phone: str = "") -> Order:
    """Create a customer account for a guest-checkout order's buyer and link the order to it, in one step.

    The order keeps its contact as it is. Already linked to an account with this address: returned unchanged
    (a double submit). CustomerAccountError when it is linked to another account, or the organisation has an
    account with this address (link to it instead: `existing`).
    """
    access = _order_access(actor, order)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.customer_id is not None:
            linked = Customer.objects.get(pk=order.customer_id)
            if linked.email.lower() == email.strip().lower():
                return order
        if reason := rules.refusal_link_customer(order):
            raise CustomerAccountError(reason)
        customer = _insert(access=access, name=name, email=email, phone=phone, address=order.address)
        _set_customer(order, customer, actor=actor, action="order.customer_created", account=customer)
        return order


def order_customer_link(*, actor: User, order: Order, customer_id: int) -> Order:
    """Link a guest-checkout order to an existing customer account of its organisation, whatever the two
    email addresses (the order keeps its contact; the page showed both before this).

    Already linked to that account: returned unchanged. An account the actor doesn't see is a 404;
    CustomerAccountError when the order is linked to another account (unlink it first).
    """
    access = _order_access(actor, order)
    customer = customer_get(access, customer_id)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.customer_id == customer.pk:
            return order
        if reason := rules.refusal_link_customer(order):
            raise CustomerAccountError(reason)
        # The order first, then the account: a merge of this account (which locks it) finishes first, and then
        # the account is gone rather than left with an order that its deletion would silently unlink.
        if not Customer.objects.select_for_update().filter(pk=customer.pk).exists():
            raise CustomerAccountError("The customer account was merged or deleted meanwhile: look again.")
        _set_customer(
            order,
            customer,
            actor=actor,
            action="order.customer_linked",
            account=customer,
            contact_email=order.contact_email,
            same_email=order.contact_email.lower() == customer.email.lower(),
        )
        return order


def order_customer_unlink(*, actor: User, order: Order, customer_id: int | None = None) -> Order:
    """Make an order a guest checkout again: it leaves its customer account, its contact stays as it is.

    `customer_id`: the account the confirmation showed; when the order has meanwhile moved to another account,
    CustomerAccountError (nothing changes). Not linked (any more): returned unchanged.
    """
    _order_access(actor, order)
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.customer_id is None:
            return order
        if customer_id is not None and order.customer_id != customer_id:
            raise CustomerAccountError("The order moved to another customer account meanwhile: look again.")
        customer = Customer.objects.get(pk=order.customer_id)
        _set_customer(order, None, actor=actor, action="order.customer_unlinked", account=customer)
        return order


def customers_merge(*, actor: User, organisation: Organisation, keep_id: int, merge_id: int) -> Customer:
    """Merge two accounts of the same person: every order of account `merge_id` moves to account `keep_id`
    (a timeline entry on each), its verification emails too, the kept account takes the merged one's phone
    and address where it has none and the earlier "since", and the merged account is deleted.

    Deleted rather than marked merged: a tombstone would still hold its address against the unique constraint
    and every list and search would have to skip it; what it was stays on each moved order's timeline.
    Perm.MANAGE_CUSTOMERS; an account the actor doesn't see is a 404; CustomerAccountError for the same account
    twice, or when the merged account has orders in regions the actor can't see (they'd move unseen).
    """
    access = _access(actor, organisation, Perm.MANAGE_CUSTOMERS)
    keep, merge = customer_get(access, keep_id), customer_get(access, merge_id)
    if keep.pk == merge.pk:
        raise CustomerAccountError("Choose another account: an account can't be merged into itself.")
    with transaction.atomic():
        # Both accounts locked in one order (by id), then their orders: a concurrent link waits or finds it gone.
        locked = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[keep.pk, merge.pk]).order_by("pk")
        }
        if merge.pk not in locked or keep.pk not in locked:
            raise CustomerAccountError("One of the accounts was merged or deleted meanwhile: look again.")
        keep, merge = locked[keep.pk], locked[merge.pk]
        # The orders' rows only (OF self): their events' rows stay free for other merges and the event's editors.
        moving = Order.objects.select_for_update(of=("self",)).filter(customer=merge).select_related("event")
        orders = list(moving.order_by("pk"))
        if any(not access.allows_region(order.event.region_id) for order in orders):
            raise CustomerAccountError(
                f"{merge.name} has orders in regions you can't see: ask a member who sees every region to merge."
            )
        data = {"merged": account_words(merge), "merged_id": merge.pk, "customer": account_words(keep)}
        for order in orders:
            order.customer = keep
            timeline_record(
                order=order, action="order.customer_merged", actor=actor, data={**data, "customer_id": keep.pk}
            )
        Order.objects.bulk_update(orders, ["customer"])
        OutgoingMessage.objects.filter(customer=merge).update(customer=keep)
        keep.phone = keep.phone or merge.phone
        keep.address = keep.address or merge.address
        keep.created_at = min(keep.created_at, merge.created_at)
        merge.delete()
        keep.save(update_fields=["phone", "address", "created_at"])
        return keep


def customer_verification_send(
    *, actor: User, customer_id: int, organisation: Organisation, idempotency_key: str = ""
) -> OutgoingMessage:
    """Email the customer a link to confirm their address (signed, expiring: guests.verification), through the
    outbox. The same idempotency key (a double submit) is the one message again; CustomerAccountError when the
    account is verified already."""
    access = _access(actor, organisation, Perm.LINK_CUSTOMERS)
    customer = customer_get(access, customer_id)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if idempotency_key:
            done = OutgoingMessage.objects.filter(customer=customer, idempotency_key=idempotency_key[:80]).first()
            if done is not None:
                return done
        if customer.verified:
            raise CustomerAccountError(f"{customer.email} is verified already: nothing to send.")
        return customer_message_queue(customer=customer, actor=actor, idempotency_key=idempotency_key)


def customer_verify(*, token: str) -> tuple[Customer, bool]:
    """The public link: mark the account the token names verified. Returns (the account, whether this call
    verified it); a link used again changes nothing. guests.verification.VerificationRefused for a tampered,
    expired or outdated link, and nothing changes."""
    customer = customer_for_token(token)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("organisation").get(pk=customer.pk)
        if customer.verified:
            return customer, False
        customer.verified = True
        customer.save(update_fields=["verified"])
        return customer, True
