"""The customer account pages: the order page's Create / Link / Unlink (each confirmation shows both sides), the
Customers list's New customer account, the customer page (since when, verification), Merge, and the customer's
public verification link. Who may open each: a viewer is refused with the role's reason, another organisation or
region is a 404."""

import re

import pytest
from django.urls import reverse

from guests.models import Customer
from guests.verification import verification_token
from notifications.models import OutgoingMessage
from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role
HTMX = {"HX-Request": "true"}


def order_url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


def customer_url(name: str, customer: Customer) -> str:
    return reverse(name, kwargs={"org": customer.organisation.slug, "customer_id": customer.pk})


@pytest.fixture
def support(member):
    return member(Role.SUPPORT)


@pytest.fixture
def agent(client, support):
    client.force_login(support)
    return client


@pytest.fixture
def order(make_order):
    return make_order(contact_name="Anna Müller", contact_email="anna@example.com")


def test_the_order_menu_offers_create_and_link_for_a_guest_checkout_and_unlink_once_linked(agent, order):
    page = agent.get(order_url("order_detail", order)).content.decode()
    assert f'hx-get="{order_url("order_customer_create", order)}" hx-target="#action-dialog-body"' in page
    assert f'hx-get="{order_url("order_customer_link", order)}"' in page
    assert "Guest checkout: no customer account to unlink" in page
    Order.objects.filter(pk=order.pk).update(customer=CustomerFactory(organisation=order.organisation))
    page = agent.get(order_url("order_detail", order)).content.decode()
    assert f'href="{order_url("order_customer_unlink", order)}"' in page
    assert page.count("Order is linked to a customer account already: unlink it first") == 2


def test_link_finds_an_account_shows_both_sides_then_links_in_place(agent, support, organisation, order):
    customer = CustomerFactory(organisation=organisation, name="Anna Mueller", email="anna.mueller@example.org")
    link = order_url("order_customer_link", order)
    found = agent.get(link, {"q": "anna.mueller@example.org"}, headers=HTMX).content.decode()
    assert f'hx-get="{link}?customer={customer.pk}"' in found and 'id="customer-link"' in found

    confirm = agent.get(link, {"customer": customer.pk}, headers=HTMX).content.decode()
    assert "Order contact" in confirm and "anna@example.com" in confirm  # the order's side
    assert "Customer account" in confirm and "anna.mueller@example.org" in confirm  # the account's side
    assert 'id="emails-differ"' in confirm
    assert Order.objects.get(pk=order.pk).customer_id is None  # showing changes nothing

    done = agent.post(link, {"customer": customer.pk}, headers=HTMX).content.decode()
    assert "Order linked to the customer account of Anna Mueller." in done
    assert "Linked to customer account Anna Mueller &lt;anna.mueller@example.org&gt;" in done  # the timeline
    assert Order.objects.get(pk=order.pk).customer_id == customer.pk
    assert TimelineEntry.objects.get(order=order, action="order.customer_linked").actor == support


def test_link_offers_the_account_with_the_orders_email_first(agent, organisation, order):
    customer = CustomerFactory(organisation=organisation, name="Anna", email="ANNA@example.com")
    page = agent.get(order_url("order_customer_link", order)).content.decode()
    assert 'id="suggested-account"' in page and f"?customer={customer.pk}" in page


def test_linking_to_another_organisations_account_is_a_404(agent, other_organisation, order):
    foreign = CustomerFactory(organisation=other_organisation)
    link = order_url("order_customer_link", order)
    assert agent.get(link, {"customer": foreign.pk}).status_code == 404
    assert agent.post(link, {"customer": foreign.pk}).status_code == 404
    assert Order.objects.get(pk=order.pk).customer_id is None


def test_create_from_the_order_refuses_an_email_that_has_an_account_and_offers_to_link(agent, organisation, order):
    existing = CustomerFactory(organisation=organisation, name="Anna M.", email="anna@example.com")
    create = order_url("order_customer_create", order)
    page = agent.get(create).content.decode()
    assert 'id="existing-account"' in page  # said before anyone types
    response = agent.post(create, {"name": "Anna Müller", "email": "anna@example.com"}, headers=HTMX)
    text = response.content.decode()
    assert "already exists" in text and f"{order_url('order_customer_link', order)}?customer={existing.pk}" in text
    assert Customer.objects.count() == 1 and Order.objects.get(pk=order.pk).customer_id is None


def test_create_from_the_order_links_the_new_account(agent, order):
    response = agent.post(
        order_url("order_customer_create", order), {"name": "Anna Müller", "email": "anna@example.com"}
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert Order.objects.get(pk=order.pk).customer_id == customer.pk


def test_unlink_shows_both_sides_and_makes_a_guest_checkout(agent, organisation, order):
    customer = CustomerFactory(organisation=organisation, name="Anna", email="anna@example.com", verified=True)
    Order.objects.filter(pk=order.pk).update(customer=customer)
    unlink = order_url("order_customer_unlink", order)
    page = agent.get(unlink).content.decode()
    assert "Order contact" in page and "Customer account" in page and "its email can be edited again" in page
    response = agent.post(unlink, {"customer": customer.pk})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).customer_id is None
    assert TimelineEntry.objects.filter(order=order, action="order.customer_unlinked").count() == 1


def test_a_viewer_is_refused_every_account_page_with_the_reason(client, member, organisation, order):
    client.force_login(member(Role.VIEWER))
    customer = CustomerFactory(organisation=organisation)
    for url in (
        order_url("order_customer_create", order),
        order_url("order_customer_link", order),
        reverse("customer_new", kwargs={"org": organisation.slug}),
        customer_url("customer_merge", customer),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Your role (Viewer) can&#x27;t" in response.content.decode()
    assert client.post(customer_url("customer_send_verification", customer)).status_code == 403
    assert not OutgoingMessage.objects.filter(kind="customer_verification").exists()


def test_another_region_or_organisation_is_a_404(client, member, organisation, other_organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    south_event = EventFactory(organisation=organisation, region=south)
    order = make_order(event=south_event, ticket_type=TicketTypeFactory(event=south_event))
    customer = CustomerFactory(organisation=organisation)
    Order.objects.filter(pk=order.pk).update(customer=customer)
    people = [
        member(Role.MANAGER, regions=[north]),
        MembershipFactory(organisation=other_organisation, role=Role.OWNER).user,
    ]
    for person in people:
        client.force_login(person)
        for name in ("order_customer_create", "order_customer_link", "order_customer_unlink"):
            assert client.get(order_url(name, order)).status_code == 404
            assert client.post(order_url(name, order), {"customer": customer.pk}).status_code == 404
        assert client.get(customer_url("customer_merge", customer)).status_code == 404
        assert client.post(customer_url("customer_send_verification", customer)).status_code == 404
    assert Order.objects.get(pk=order.pk).customer_id == customer.pk


def test_new_customer_account_from_the_list(agent, organisation):
    listing = agent.get(reverse("customers", kwargs={"org": organisation.slug})).content.decode()
    new = reverse("customer_new", kwargs={"org": organisation.slug})
    assert f'href="{new}"' in listing
    response = agent.post(new, {"name": "Ben Roth", "email": "ben@example.com", "phone": "", "address": "Main St 1"})
    customer = Customer.objects.get()
    assert response["Location"] == customer_url("customer_detail", customer) and customer.address == "Main St 1"
    again = agent.post(new, {"name": "Ben R.", "email": "BEN@example.com"}).content.decode()
    assert "already exists" in again and customer_url("customer_detail", customer) in again
    assert Customer.objects.count() == 1


def test_a_region_limited_member_is_told_to_create_accounts_from_an_order(client, member, organisation):
    client.force_login(member(Role.SUPPORT, regions=[RegionFactory(organisation=organisation)]))
    new = reverse("customer_new", kwargs={"org": organisation.slug})
    assert "create the account from one of the buyer" in client.get(new).content.decode()
    client.post(new, {"name": "Ben", "email": "ben@example.com"})
    assert not Customer.objects.exists()


def test_the_customer_page_says_since_when_the_account_and_its_first_order_exist(agent, organisation, order):
    customer = CustomerFactory(organisation=organisation)
    Customer.objects.filter(pk=customer.pk).update(created_at=order.created_at.replace(year=2023, month=3, day=5))
    Order.objects.filter(pk=order.pk).update(customer=customer)
    page = agent.get(customer_url("customer_detail", customer)).content.decode()
    assert "Account since</dt><dd><time" in page and "5 Mar 2023" in page
    assert f'First order</dt><dd><time datetime="{order.created_at.isoformat()[:10]}' in page
    assert "Never sent" in page and "Send verification email to" in page


def test_send_verification_from_the_customer_page_then_the_customer_confirms(agent, client, organisation):
    customer = CustomerFactory(organisation=organisation, email="anna@example.com")
    response = agent.post(customer_url("customer_send_verification", customer), {"idempotency_key": "k1"}, follow=True)
    assert "Verification email queued for anna@example.com." in response.content.decode()
    assert OutgoingMessage.objects.filter(customer=customer, kind="customer_verification").count() == 1

    client.logout()
    public = reverse("customer_verify", kwargs={"token": verification_token(customer)})
    page = client.get(public).content.decode()
    assert "Confirm my email address" in page
    assert not Customer.objects.get(pk=customer.pk).verified  # opening the link (a link checker) confirms nothing
    assert "is confirmed" in client.post(public).content.decode()
    assert Customer.objects.get(pk=customer.pk).verified
    assert "already confirmed" in client.post(public).content.decode()  # again: nothing more


def test_a_bad_verification_link_is_a_clear_page_and_changes_nothing(client, organisation):
    customer = CustomerFactory(organisation=organisation)
    token = verification_token(customer)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense"):
        for method in (client.get, client.post):
            response = method(reverse("customer_verify", kwargs={"token": bad}))
            assert response.status_code == 400
            assert "This link is not valid." in response.content.decode()
    assert not Customer.objects.get(pk=customer.pk).verified


def test_merge_shows_both_accounts_then_moves_the_orders(client, member, organisation, order):
    client.force_login(member(Role.MANAGER))
    keep = CustomerFactory(organisation=organisation, name="Anna Müller", email="anna@example.com")
    merge = CustomerFactory(organisation=organisation, name="Anna M", email="anna.m@example.org")
    Order.objects.filter(pk=order.pk).update(customer=merge)
    url = customer_url("customer_merge", keep)
    assert f"?customer={merge.pk}" in client.get(url, {"q": "anna.m@example.org"}).content.decode()
    page = client.get(url, {"customer": merge.pk}).content.decode()
    assert 'id="merge-away"' in page and "anna.m@example.org" in page and 'id="merge-keep"' in page
    response = client.post(url, {"customer": merge.pk}, follow=True)
    assert "merged into this account" in response.content.decode()
    assert Order.objects.get(pk=order.pk).customer_id == keep.pk and not Customer.objects.filter(pk=merge.pk).exists()
    again = client.post(url, {"customer": merge.pk}, follow=True)  # a double submit, or the back button
    assert again.status_code == 200 and "already merged into this one" in again.content.decode()
    assert TimelineEntry.objects.filter(order=order, action="order.customer_merged").count() == 1


def test_support_sees_no_merge_button_and_may_not_merge(agent, organisation):
    keep, merge = CustomerFactory(organisation=organisation), CustomerFactory(organisation=organisation)
    assert "Merge another account" not in agent.get(customer_url("customer_detail", keep)).content.decode()
    assert agent.post(customer_url("customer_merge", keep), {"customer": merge.pk}).status_code == 403
    assert Customer.objects.count() == 2


def test_the_customer_page_offers_to_link_guest_checkouts_with_its_email(agent, organisation, order):
    customer = CustomerFactory(organisation=organisation, email="ANNA@example.com")
    page = agent.get(customer_url("customer_detail", customer)).content.decode()
    assert f'href="{order_url("order_customer_link", order)}?customer={customer.pk}">Link {order.code}…' in page


def test_a_guest_checkout_shows_no_verification_badge(agent, organisation, order):
    """ "Not verified" is about a customer account's email: a guest checkout has none to verify."""
    contact = text_of(agent.get(order_url("order_detail", order)), "contact")
    assert "Guest checkout: no customer account" in contact and "verified" not in contact.lower()
    Order.objects.filter(pk=order.pk).update(customer=CustomerFactory(organisation=organisation))
    assert "Not verified" in text_of(agent.get(order_url("order_detail", order)), "contact")


def text_of(response, element_id: str) -> str:
    """The text of the element with this id (a section), tags dropped."""
    body = response.content.decode()
    start = body.index(f'id="{element_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body[start : body.index("</section>", start)]))
