"""The merge confirmation warns before it deletes a verified or older account, and swaps which account is kept
in one click; the merge itself is as before (tests/guests/test_accounts.py)."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from guests.models import Customer
from orders.models import Order
from organiser_portal.models import Membership
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def text(response) -> str:
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", words)


def merge_url(customer: Customer) -> str:
    return reverse("customer_merge", kwargs={"org": customer.organisation.slug, "customer_id": customer.pk})


@pytest.fixture
def manager_client(client, member):
    client.force_login(member(Role.MANAGER))
    return client


def accounts(organisation, *, keep_verified=False, merge_verified=False, merge_older=False, name="Anna Muller"):
    keep = CustomerFactory(organisation=organisation, name=name, email="new@example.com", verified=keep_verified)
    merge = CustomerFactory(
        organisation=organisation, name="ANNA MÜLLER", email="old@example.com", verified=merge_verified
    )
    now = timezone.now()
    Customer.objects.filter(pk=keep.pk).update(created_at=now - timedelta(days=10))
    Customer.objects.filter(pk=merge.pk).update(created_at=now - timedelta(days=400 if merge_older else 1))
    return Customer.objects.get(pk=keep.pk), Customer.objects.get(pk=merge.pk)


def test_deleting_a_verified_older_account_is_warned_with_the_swap(manager_client, organisation, make_order):
    keep, merge = accounts(organisation, merge_verified=True, merge_older=True)
    Order.objects.filter(pk=make_order().pk).update(customer=merge)
    response = manager_client.get(merge_url(keep), {"customer": merge.pk})
    page = text(response)
    assert "Check which account to keep: old@example.com will be deleted." in page
    assert "old@example.com is verified and new@example.com is not" in page
    assert "old@example.com is the older account (since" in page
    assert f'href="{merge_url(merge)}?customer={keep.pk}" id="merge-swap">Keep old@example.com instead' in (
        response.content.decode()
    )
    # Both sides: email, verified or not, since, orders.
    assert "old@example.com Verified" in page and "new@example.com Not verified" in page
    assert "Orders 1" in page and "Orders 0" in page
    # One click swaps: the other account is kept, the warnings go, nothing was merged.
    swapped = text(manager_client.get(f"{merge_url(merge)}?customer={keep.pk}"))
    assert "Move 0 orders to old@example.com and delete new@example.com" in swapped
    assert "Check which account to keep" not in swapped
    assert Customer.objects.count() == 2


def test_both_verified_is_warned(manager_client, organisation):
    keep, merge = accounts(organisation, keep_verified=True, merge_verified=True)
    page = text(manager_client.get(merge_url(keep), {"customer": merge.pk}))
    assert "Both accounts are verified: the merge deletes old@example.com" in page
    assert "older account" not in page


def test_a_newer_unverified_account_merges_without_warning_but_may_still_swap(manager_client, organisation):
    keep, merge = accounts(organisation)
    response = manager_client.get(merge_url(keep), {"customer": merge.pk})
    assert 'id="merge-warnings"' not in response.content.decode()
    assert f'href="{merge_url(merge)}?customer={keep.pk}">Keep old@example.com instead' in response.content.decode()


def test_the_swapped_merge_keeps_the_verified_account(manager_client, organisation, make_order):
    keep, merge = accounts(organisation, merge_verified=True, merge_older=True)
    order = make_order()
    Order.objects.filter(pk=order.pk).update(customer=keep)
    manager_client.post(merge_url(merge), {"customer": keep.pk})
    assert list(Customer.objects.values_list("email", "verified")) == [("old@example.com", True)]
    assert Order.objects.get(pk=order.pk).customer_id == merge.pk


def test_another_persons_name_is_warned(manager_client, organisation):
    keep, merge = accounts(organisation, name="Edda Siering")
    response = manager_client.get(merge_url(keep), {"customer": merge.pk})
    page = text(response)
    assert 'id="merge-warnings"' in response.content.decode()
    assert "The names differ (ANNA MÜLLER; Edda Siering): merge only two accounts of the same person" in page
    # The same name in other case and without its accents is no warning (the test above).
