"""The Customers list: customer accounts newest first by keyset, the search box's matches, scoped through Access."""

import pytest
from django.urls import reverse

from guests.selectors import customers_list
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.factories import CustomerFactory, EventFactory, MembershipFactory, RegionFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def customers_url(slug: str = "festival") -> str:
    return reverse("customers", kwargs={"org": slug})


@pytest.fixture
def accounts(organisation):
    """Seven accounts, "Kunde 0" the oldest; one verified."""
    made = []
    for n in range(7):
        fields = {"name": f"Kunde {n}", "email": f"kunde{n}@example.com"}
        if n == 3:
            fields.update(name="Zoë Schröder", verified=True, phone="+491512345678")
        made.append(CustomerFactory(organisation=organisation, **fields))
    return made


def test_newest_first_with_keyset_pages_there_and_back(organisation, member, accounts):
    access = access_for(member(Role.VIEWER), organisation)
    seen, after = [], None
    while True:
        page = customers_list(access, after=after, page_size=3)
        seen += [c.pk for c in page.customers]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [c.pk for c in reversed(accounts)]
    back = customers_list(access, before=page.prev_cursor, page_size=3)
    assert [c.pk for c in back.customers] == seen[3:6]
    assert back.prev_cursor and back.next_cursor


def test_the_page_lists_accounts_and_links_them(client, member, accounts):
    client.force_login(member(Role.VIEWER))
    text = client.get(customers_url()).content.decode()
    assert text.index("Kunde 6") < text.index("Kunde 0")  # newest first
    assert reverse("customer_detail", kwargs={"org": "festival", "customer_id": accounts[0].pk}) in text
    assert "Verified" in text and "+49 1512345678" in text  # shown as organiser_portal.phones.phone_shown writes it
    assert 'aria-current="page"' in text and "Search customers" in text


def test_the_search_box_finds_accounts_by_name_email_or_phone(client, member, accounts, make_order):
    make_order(contact_name="Kunde Orderonly", contact_email="orderonly@example.com")  # an order, not an account
    client.force_login(member(Role.VIEWER))

    def names(q: str) -> set[str]:
        text = client.get(customers_url(), {"q": q}).content.decode()
        return {name for name in ("Kunde 1", "Kunde 5", "Zoë Schröder", "Kunde Orderonly") if name in text}

    assert names("kunde5@example.com") == {"Kunde 5"}
    assert names("Schröder") == {"Zoë Schröder"}
    assert names("+49 151 2345678") == {"Zoë Schröder"}
    assert "Kunde Orderonly" not in client.get(customers_url(), {"q": "orderonly"}).content.decode()


def test_an_order_code_in_the_customers_search_does_not_jump_to_the_order(client, member, accounts, make_order):
    order = make_order()
    client.force_login(member(Role.VIEWER))
    response = client.get(customers_url(), {"q": order.code})
    assert response.status_code == 200 and "No customer account matches" in response.content.decode()


def test_search_pages_by_number(client, member, organisation):
    for n in range(25):
        CustomerFactory(organisation=organisation, name=f"Meier {n}", email=f"meier{n}@example.com")
    client.force_login(member(Role.VIEWER))
    first = client.get(customers_url(), {"q": "meier"}).content.decode()
    assert "Next →" in first and "page=2" in first
    second = client.get(customers_url(), {"q": "meier", "page": "2"}).content.decode()
    assert second.count("Meier ") >= 5 and "← Previous" in second


def test_htmx_answers_with_the_table_alone(client, member, accounts):
    client.force_login(member(Role.VIEWER))
    response = client.get(
        customers_url(), {"q": "kunde1@"}, headers={"HX-Request": "true", "HX-Target": "customer-table"}
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="customer-table">') and "Kunde 1" in text and "<html" not in text


@pytest.mark.parametrize("cursor", ["", "abc", "0", "-5", "99999999999999999999999"])
def test_a_cursor_no_page_wrote_is_a_first_page(client, member, accounts, cursor):
    client.force_login(member(Role.VIEWER))
    for key in ("after", "before"):
        response = client.get(customers_url(), {key: cursor})
        assert response.status_code == 200 and "Kunde 6" in response.content.decode()


def test_another_organisations_accounts_are_never_listed_and_its_list_is_a_404(
    client, member, accounts, other_organisation
):
    CustomerFactory(organisation=other_organisation, name="Foreign Kunde")
    client.force_login(member(Role.OWNER))
    assert "Foreign Kunde" not in client.get(customers_url()).content.decode()
    assert "Foreign Kunde" not in client.get(customers_url(), {"q": "foreign"}).content.decode()
    assert client.get(customers_url("other")).status_code == 404


def test_a_region_limited_member_lists_the_accounts_with_orders_in_their_regions(client, organisation, make_order):
    north, south = RegionFactory(organisation=organisation), RegionFactory(organisation=organisation)
    for name, region in (("Nord Kunde", north), ("Sued Kunde", south)):
        event = EventFactory(organisation=organisation, region=region)
        customer = CustomerFactory(organisation=organisation, name=name)
        make_order(event=event, ticket_type=TicketTypeFactory(event=event), customer=customer)
    CustomerFactory(organisation=organisation, name="Orderless Kunde")
    client.force_login(MembershipFactory(organisation=organisation, role=Role.VIEWER, regions=[north]).user)
    text = client.get(customers_url()).content.decode()
    assert "Nord Kunde" in text and "Sued Kunde" not in text and "Orderless Kunde" not in text


def test_the_page_costs_a_fixed_number_of_queries(client, member, accounts, django_assert_max_num_queries):
    client.force_login(member(Role.VIEWER))
    client.get(customers_url())
    with django_assert_max_num_queries(4):  # session, user, membership, the page
        client.get(customers_url())
