"""Customer accounts (guests.services): create, link, unlink, merge, and the verification email and its link.
Each order action writes one timeline entry naming who did it, a repeat does nothing twice, a wrong state is
refused with a clear message; a viewer is refused, another organisation's or region's order or account is a 404,
and a refused action changes nothing."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404

from guests.errors import CustomerAccountError
from guests.models import Customer
from guests.services import (
    customer_create,
    customer_verification_send,
    customer_verify,
    customers_merge,
    order_customer_create,
    order_customer_link,
    order_customer_unlink,
)
from guests.verification import SALT, VALID_FOR, VerificationRefused, verification_token
from notifications.emails import build_email
from notifications.models import OutgoingMessage
from notifications.sandbox import sandbox_report
from notifications.tasks import send_message
from orders.models import Order, TimelineEntry
from orders.timeline import describe
from organiser_portal.models import Membership
from tests.factories import (
    CustomerFactory,
    EventFactory,
    MembershipFactory,
    OrganisationFactory,
    RegionFactory,
    TicketTypeFactory,
)

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def support(member):
    return member(Role.SUPPORT)


@pytest.fixture
def manager(member):
    return member(Role.MANAGER)


@pytest.fixture
def order(make_order) -> Order:
    return make_order(contact_name="Anna Müller", contact_email="anna@example.com")


def entries(order: Order) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(order=order, action__startswith="order.customer").order_by("id"))


# --- Create -------------------------------------------------------------------------------------------------


def test_an_account_created_from_a_guest_checkout_order_is_linked_to_it(support, order):
    order = order_customer_create(actor=support, order=order, name="Anna Müller", email="Anna@Example.com ")
    customer = Customer.objects.get(organisation=order.organisation)
    assert order.customer == customer and customer.email == "Anna@example.com" and not customer.verified
    assert order.contact_email == "anna@example.com"  # the contact stays as it is
    (entry,) = entries(order)
    assert entry.action == "order.customer_created" and entry.actor == support
    assert describe(entry.action, entry.data) == (
        "Customer account created for Anna Müller <Anna@example.com> and linked to this order"
    )

    again = order_customer_create(actor=support, order=order, name="Anna Müller", email="anna@example.com")
    assert again.customer_id == customer.pk and len(entries(order)) == 1  # a double submit: nothing twice


def test_the_same_email_in_the_organisation_is_refused_with_the_account_to_link_instead(support, organisation, order):
    existing = CustomerFactory(organisation=organisation, name="Anna M.", email="ANNA@example.com")
    with pytest.raises(CustomerAccountError, match="already exists.*link the order to that account") as refused:
        order_customer_create(actor=support, order=order, name="Anna", email="anna@example.com")
    assert refused.value.existing == existing
    order.refresh_from_db()
    assert order.customer_id is None and not entries(order)
    with pytest.raises(CustomerAccountError, match="already exists"):
        customer_create(actor=support, organisation=organisation, name="Anna", email="anna@EXAMPLE.com")
    assert Customer.objects.filter(organisation=organisation).count() == 1


def test_the_same_email_in_another_organisation_is_another_account(support, organisation, other_organisation):
    CustomerFactory(organisation=other_organisation, email="anna@example.com")
    customer = customer_create(actor=support, organisation=organisation, name="Anna", email="anna@example.com")
    assert customer.organisation == organisation


def test_an_account_needs_a_name_and_an_address_the_contact_form_accepts(support, organisation, order):
    with pytest.raises(CustomerAccountError, match="needs a name"):
        customer_create(actor=support, organisation=organisation, name="  ", email="a@example.com")
    with pytest.raises(CustomerAccountError):
        customer_create(actor=support, organisation=organisation, name="Anna", email="not an address")
    assert not Customer.objects.exists()


def test_an_order_with_an_account_gets_no_second_one(support, organisation, order):
    order_customer_link(actor=support, order=order, customer_id=CustomerFactory(organisation=organisation).pk)
    with pytest.raises(CustomerAccountError, match="linked to a customer account already: unlink it first"):
        order_customer_create(actor=support, order=order, name="Anna", email="anna2@example.com")


def test_a_region_limited_member_creates_accounts_from_an_order_only(member, organisation, make_order):
    north = RegionFactory(organisation=organisation, name="North")
    event = EventFactory(organisation=organisation, region=north)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    limited = member(Role.SUPPORT, regions=[north])
    with pytest.raises(CustomerAccountError, match="create the account from one of their orders"):
        customer_create(actor=limited, organisation=organisation, name="Anna", email="x@example.com")
    order = order_customer_create(actor=limited, order=order, name="Anna", email="x@example.com")
    assert order.customer is not None


# --- Link and unlink -----------------------------------------------------------------------------------------


def test_linking_to_an_account_with_another_email_keeps_the_contact_and_says_both(support, organisation, order):
    customer = CustomerFactory(organisation=organisation, name="Anna Müller", email="anna.mueller@example.org")
    order = order_customer_link(actor=support, order=order, customer_id=customer.pk)
    assert order.customer_id == customer.pk and order.contact_email == "anna@example.com"
    (entry,) = entries(order)
    assert entry.actor == support and entry.data["contact_email"] == "anna@example.com"
    assert entry.data["same_email"] is False
    assert describe(entry.action, entry.data) == "Linked to customer account Anna Müller <anna.mueller@example.org>"

    order_customer_link(actor=support, order=order, customer_id=customer.pk)  # a double submit
    assert len(entries(order)) == 1


def test_an_order_linked_elsewhere_is_not_moved_by_a_link(support, organisation, order):
    first, second = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation)
    order_customer_link(actor=support, order=order, customer_id=first.pk)
    with pytest.raises(CustomerAccountError, match="unlink it first"):
        order_customer_link(actor=support, order=order, customer_id=second.pk)
    order.refresh_from_db()
    assert order.customer_id == first.pk and len(entries(order)) == 1


def test_unlinking_makes_a_guest_checkout_again_and_once(support, organisation, order):
    customer = CustomerFactory(organisation=organisation, name="Anna", email="anna@example.com", verified=True)
    order_customer_link(actor=support, order=order, customer_id=customer.pk)
    order = order_customer_unlink(actor=support, order=order, customer_id=customer.pk)
    assert order.customer_id is None and order.contact_email == "anna@example.com"
    linked, unlinked = entries(order)
    assert unlinked.action == "order.customer_unlinked" and unlinked.actor == support
    assert describe(unlinked.action, unlinked.data) == (
        "Unlinked from customer account Anna <anna@example.com>: now a guest checkout"
    )
    order_customer_unlink(actor=support, order=order, customer_id=customer.pk)  # already: nothing twice
    assert len(entries(order)) == 2
    assert Customer.objects.filter(pk=customer.pk).exists()  # the account stays


def test_an_unlink_confirmed_for_another_account_changes_nothing(support, organisation, order):
    first, second = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation)
    order_customer_link(actor=support, order=order, customer_id=second.pk)
    with pytest.raises(CustomerAccountError, match="moved to another customer account"):
        order_customer_unlink(actor=support, order=order, customer_id=first.pk)
    order.refresh_from_db()
    assert order.customer_id == second.pk


def test_a_viewer_may_not_create_link_unlink_or_send_verification(member, organisation, order):
    viewer = member(Role.VIEWER)
    customer = CustomerFactory(organisation=organisation)
    calls = [
        lambda: customer_create(actor=viewer, organisation=organisation, name="A", email="a@example.com"),
        lambda: order_customer_create(actor=viewer, order=order, name="A", email="a@example.com"),
        lambda: order_customer_link(actor=viewer, order=order, customer_id=customer.pk),
        lambda: order_customer_unlink(actor=viewer, order=order),
        lambda: customer_verification_send(actor=viewer, organisation=organisation, customer_id=customer.pk),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match=r"Your role \(Viewer\) can't create customer accounts"):
            call()
    order.refresh_from_db()
    assert order.customer_id is None and Customer.objects.count() == 1
    assert not OutgoingMessage.objects.filter(kind="customer_verification").exists()


def test_another_organisations_order_or_account_is_a_404(support, organisation, other_organisation, order):
    stranger = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        order_customer_create(actor=stranger, order=order, name="A", email="a@example.com")
    with pytest.raises(Http404):
        order_customer_unlink(actor=stranger, order=order)
    foreign = CustomerFactory(organisation=other_organisation)
    with pytest.raises(Http404):
        order_customer_link(actor=support, order=order, customer_id=foreign.pk)
    with pytest.raises(Http404):
        customer_verification_send(actor=support, organisation=organisation, customer_id=foreign.pk)
    order.refresh_from_db()
    assert order.customer_id is None and not entries(order)


def test_a_region_limited_member_neither_touches_other_regions_orders_nor_their_accounts(
    member, organisation, make_order
):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    north_event, south_event = (
        EventFactory(organisation=organisation, region=north),
        EventFactory(organisation=organisation, region=south),
    )
    north_order = make_order(event=north_event, ticket_type=TicketTypeFactory(event=north_event))
    south_order = make_order(event=south_event, ticket_type=TicketTypeFactory(event=south_event))
    south_account = CustomerFactory(organisation=organisation)
    south_order.customer = south_account
    south_order.save(update_fields=["customer"])
    limited = member(Role.MANAGER, regions=[north])
    with pytest.raises(Http404):
        order_customer_create(actor=limited, order=south_order, name="A", email="a@example.com")
    with pytest.raises(Http404):
        order_customer_unlink(actor=limited, order=south_order)
    with pytest.raises(Http404):  # an account whose orders are all in the South
        order_customer_link(actor=limited, order=north_order, customer_id=south_account.pk)
    with pytest.raises(Http404):
        customers_merge(actor=limited, organisation=organisation, keep_id=south_account.pk, merge_id=south_account.pk)
    south_order.refresh_from_db()
    assert south_order.customer_id == south_account.pk and not entries(north_order)


# --- Merge ---------------------------------------------------------------------------------------------------


def test_a_merge_moves_every_order_with_a_timeline_entry_each_and_deletes_the_other(
    manager, support, organisation, make_order
):
    keep = CustomerFactory(organisation=organisation, name="Anna Müller", email="anna@example.com", verified=True)
    merge = CustomerFactory(organisation=organisation, name="Anna M", email="anna.m@example.org", phone="+49 30 1")
    Customer.objects.filter(pk=merge.pk).update(created_at=keep.created_at - timedelta(days=400))
    kept_order = make_order()
    moved = [make_order(contact_email="anna.m@example.org") for _ in range(2)]
    order_customer_link(actor=support, order=kept_order, customer_id=keep.pk)
    for order in moved:
        order_customer_link(actor=support, order=order, customer_id=merge.pk)
    customer_verification_send(actor=support, organisation=organisation, customer_id=merge.pk, idempotency_key="v1")

    result = customers_merge(actor=manager, organisation=organisation, keep_id=keep.pk, merge_id=merge.pk)

    assert result.pk == keep.pk and not Customer.objects.filter(pk=merge.pk).exists()
    assert set(Order.objects.filter(customer=keep).values_list("pk", flat=True)) == {
        kept_order.pk,
        *(o.pk for o in moved),
    }
    keep.refresh_from_db()
    assert keep.email == "anna@example.com" and keep.verified and keep.phone == "+49 30 1"
    assert keep.created_at == Customer.objects.get(pk=keep.pk).created_at < kept_order.created_at  # the earlier since
    assert OutgoingMessage.objects.get(kind="customer_verification").customer_id == keep.pk  # history kept
    for order in moved:
        entry = entries(order)[-1]
        assert entry.action == "order.customer_merged" and entry.actor == manager
        assert describe(entry.action, entry.data) == (
            "Customer account Anna M <anna.m@example.org> merged into Anna Müller <anna@example.com>: "
            "this order moved to it"
        )
    assert [e.action for e in entries(kept_order)] == ["order.customer_linked"]  # it did not move


def test_only_a_manager_or_owner_merges_and_never_an_account_into_itself(support, manager, organisation):
    keep, merge = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation)
    with pytest.raises(PermissionDenied, match=r"Your role \(Support agent\) can't merge customer accounts"):
        customers_merge(actor=support, organisation=organisation, keep_id=keep.pk, merge_id=merge.pk)
    with pytest.raises(CustomerAccountError, match="can't be merged into itself"):
        customers_merge(actor=manager, organisation=organisation, keep_id=keep.pk, merge_id=keep.pk)
    assert Customer.objects.count() == 2


def test_a_merge_that_would_move_orders_of_unseen_regions_is_refused(member, organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    north_event, south_event = (
        EventFactory(organisation=organisation, region=north),
        EventFactory(organisation=organisation, region=south),
    )
    keep, merge = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation, name="Ben")
    for event, customer in ((north_event, keep), (north_event, merge), (south_event, merge)):
        order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
        Order.objects.filter(pk=order.pk).update(customer=customer)
    limited = member(Role.MANAGER, regions=[north])
    with pytest.raises(CustomerAccountError, match="Ben has orders in regions you can't see"):
        customers_merge(actor=limited, organisation=organisation, keep_id=keep.pk, merge_id=merge.pk)
    assert Order.objects.filter(customer=merge).count() == 2


# --- Verification --------------------------------------------------------------------------------------------


def test_the_verification_email_goes_through_the_outbox_once_per_submit(support, organisation):
    customer = CustomerFactory(organisation=organisation, name="Anna", email="anna@example.com")
    message = customer_verification_send(
        actor=support, organisation=organisation, customer_id=customer.pk, idempotency_key="k1"
    )
    again = customer_verification_send(
        actor=support, organisation=organisation, customer_id=customer.pk, idempotency_key="k1"
    )
    assert again.pk == message.pk and OutgoingMessage.objects.count() == 1
    assert (message.kind, message.recipient, message.order, message.created_by) == (
        "customer_verification",
        "anna@example.com",
        None,
        support,
    )
    email = build_email(OutgoingMessage.objects.select_related("customer", "organisation").get(pk=message.pk))
    assert email.to == ["anna@example.com"] and "Confirm your email address" in email.subject
    link = next(line for line in email.body.splitlines() if "/verify-email/" in line)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert customer_verify(token=token) == (customer, True)


def test_a_verified_account_gets_no_verification_email(support, organisation):
    customer = CustomerFactory(organisation=organisation, verified=True)
    with pytest.raises(CustomerAccountError, match="verified already"):
        customer_verification_send(actor=support, organisation=organisation, customer_id=customer.pk)
    assert not OutgoingMessage.objects.exists()


def test_the_link_verifies_once_and_a_second_use_changes_nothing(organisation):
    customer = CustomerFactory(organisation=organisation)
    token = verification_token(customer)
    assert customer_verify(token=token) == (customer, True)
    customer.refresh_from_db()
    assert customer.verified
    assert customer_verify(token=token) == (customer, False)


def test_an_expired_link_is_refused_and_changes_nothing(organisation):
    customer = CustomerFactory(organisation=organisation)
    signed_at = time.time() - VALID_FOR.total_seconds() - 60
    with mock.patch("django.core.signing.time.time", return_value=signed_at):  # a link sent VALID_FOR ago
        token = verification_token(customer)
    with pytest.raises(VerificationRefused) as refused:
        customer_verify(token=token)
    assert refused.value.reason == "expired"
    customer.refresh_from_db()
    assert not customer.verified
    with mock.patch("django.core.signing.time.time", return_value=signed_at + VALID_FOR.total_seconds() - 60):
        assert customer_verify(token=token) == (customer, True)  # the same link, within its time: it works


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature changed
        lambda token: "x" + token,
        lambda token: signing.dumps({"c": 1, "e": "x"}, salt="another.salt"),  # signed for something else
        lambda token: signing.dumps(["not", "a", "dict"], salt=SALT),
    ],
)
def test_a_tampered_link_is_refused_and_changes_nothing(organisation, tamper):
    customer = CustomerFactory(organisation=organisation)
    with pytest.raises(VerificationRefused) as refused:
        customer_verify(token=tamper(verification_token(customer)))
    assert refused.value.reason == "tampered"
    customer.refresh_from_db()
    assert not customer.verified


def test_a_link_for_an_address_the_account_no_longer_has_is_refused(organisation):
    customer = CustomerFactory(organisation=organisation, email="old@example.com")
    token = verification_token(customer)
    Customer.objects.filter(pk=customer.pk).update(email="new@example.com")
    with pytest.raises(VerificationRefused) as refused:
        customer_verify(token=token)
    assert refused.value.reason == "changed"
    assert not Customer.objects.get(pk=customer.pk).verified


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_verification_email_is_written_delivered_and_its_link_works(
    settings, tmp_path, client
):
    """The sandbox email service writes the email and reports it delivered through the webhook, without an order;
    the link in it confirms the address."""
    settings.EMAIL_BACKEND = "notifications.sandbox.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.ANYMAIL = {"WEBHOOK_SECRET": "demo-webhook:demo-secret"}
    organisation = OrganisationFactory()
    support = MembershipFactory(organisation=organisation, role=Role.SUPPORT).user
    customer = CustomerFactory(organisation=organisation, email="ines@example.com")
    message = customer_verification_send(actor=support, organisation=organisation, customer_id=customer.pk)
    assert send_message.apply(args=(message.pk,)).get() == "sent"
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "ines@example.com" in written
    assert sandbox_report(message_id=message.pk) == [200]
    message.refresh_from_db()
    assert message.status == "delivered" and message.order is None
    path = re.search(r"https?://[^/\s]+(/verify-email/[^/\s]+/)", written)
    assert path is not None
    client.post(path.group(1))
    assert Customer.objects.get(pk=customer.pk).verified
