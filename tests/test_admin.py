"""Django admin for superusers: every changelist, change page and (where allowed) add page answers 200 with data."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from notifications.models import DeliveryEvent, OutgoingMessage
from orders.models import Refund, TimelineEntry
from organiser_portal.models import Membership, Region
from tickets.models import Scan
from tickets.services import scanner_device_create

from .factories import CustomerFactory, DeliveryEventFactory, MembershipFactory, OutgoingMessageFactory, ScanFactory

pytestmark = pytest.mark.django_db

READ_ONLY = {TimelineEntry, DeliveryEvent}


@pytest.fixture
def one_of_everything(organisation, make_order):
    Group.objects.create(name="Door staff")
    region = Region.objects.create(organisation=organisation, name="Hamburg")
    membership = MembershipFactory(organisation=organisation, role=Membership.Role.SUPPORT)
    membership.regions.set([region])
    customer = CustomerFactory(organisation=organisation, name="Jonas Weber", email="jonas@example.com")
    order = make_order(quantity=2, customer=customer, contact_name="Jonas Weber", contact_email="jonas@example.com")
    ticket = order.tickets.first()
    ScanFactory(ticket=ticket)
    scanner_device_create(organisation=organisation, name="Gate A", event=order.event)
    message = OutgoingMessageFactory(order=order, status="delivered")
    DeliveryEventFactory(message=message)
    refund = Refund.objects.create(
        organisation=organisation,
        order=order,
        payment=order.payments.first(),
        amount=Decimal("50.00"),
        status=Refund.Status.FAILED,
        error="card expired",
        idempotency_key="admin-test",
    )
    refund.tickets.set([ticket])
    return order


def _models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


def test_every_domain_model_is_registered():
    labels = {m._meta.label for m in admin.site._registry}
    for label in [
        "organiser_portal.Organisation",
        "organiser_portal.Region",
        "organiser_portal.Membership",
        "organiser_portal.Event",
        "organiser_portal.TicketType",
        "guests.Customer",
        "orders.Order",
        "orders.OrderLine",
        "orders.Payment",
        "orders.Refund",
        "orders.TimelineEntry",
        "tickets.Ticket",
        "tickets.Scan",
        "notifications.OutgoingMessage",
        "notifications.DeliveryEvent",
    ]:
        assert label in labels


def test_every_admin_page_answers_200_for_a_superuser(client, superuser, one_of_everything):
    client.force_login(superuser)
    for model in _models():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = client.get(reverse(f"{prefix}_changelist"))
        assert changelist.status_code == 200, model
        obj = model._default_manager.order_by("pk").last()
        assert obj is not None, f"no {model.__name__} to show"
        assert changelist.context["cl"].result_list, model
        change = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert change.status_code == 200, model
        if model in READ_ONLY:
            assert client.get(reverse(f"{prefix}_add")).status_code == 403
        else:
            assert client.get(reverse(f"{prefix}_add")).status_code == 200, model


def test_searches_find_the_order_by_code_email_and_ticket_id(client, superuser, one_of_everything):
    client.force_login(superuser)
    order = one_of_everything
    ticket = order.tickets.first()
    for url, term in [
        ("admin:orders_order_changelist", order.code.lower()),
        ("admin:orders_order_changelist", "JONAS@EXAMPLE"),
        ("admin:tickets_ticket_changelist", ticket.public_id),
        ("admin:guests_customer_changelist", "weber"),
    ]:
        response = client.get(reverse(url), {"q": term})
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) >= 1, (url, term)


def test_timeline_and_delivery_events_are_read_only(client, superuser, one_of_everything):
    client.force_login(superuser)
    entry = TimelineEntry.objects.filter(order=one_of_everything).first()
    url = reverse("admin:orders_timelineentry_change", args=[entry.pk])
    response = client.post(url, {"action": "order.cancelled"})
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.action != "order.cancelled"
    delete = reverse("admin:notifications_deliveryevent_delete", args=[DeliveryEvent.objects.first().pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DeliveryEvent.objects.exists()


def test_order_status_is_not_editable_in_admin(client, superuser, one_of_everything):
    """Status changes go through the services (and the timeline); admin shows it read-only."""
    client.force_login(superuser)
    response = client.get(reverse("admin:orders_order_change", args=[one_of_everything.pk]))
    assert "status" not in response.context["adminform"].form.fields
    assert OutgoingMessage.objects.filter(order=one_of_everything).exists()
    assert Scan.objects.exists()


def test_non_superuser_staff_without_permissions_sees_no_models(client):
    from .factories import UserFactory

    staff = UserFactory(username="staff@example.com", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 403
