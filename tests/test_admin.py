"""Django admin for superusers: every changelist, change page and (where allowed) add page answers 200 with data."""

from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.forms import MultiWidget
from django.urls import reverse

from notifications.models import DeliveryEvent, OutgoingMessage
from orders.models import Refund, TimelineEntry
from organiser_portal.models import Membership, Region
from tickets.models import AccessArea, AccessPoint, PersonalDataField, PersonalisationLink, Scan, TicketReplacement
from tickets.services import scanner_device_create
from tickets.transfers import ticket_transfer

from .factories import (
    CustomerFactory,
    DeliveryEventFactory,
    MembershipFactory,
    OrganisationFactory,
    OutgoingMessageFactory,
    ScanFactory,
)

pytestmark = pytest.mark.django_db

# django-axes's login records: kept by its handler, never added by hand (its admin refuses).
AXES_RECORDS = {AccessAttempt, AccessLog, AccessFailureLog}
READ_ONLY = {TimelineEntry, DeliveryEvent, Refund, PersonalisationLink, TicketReplacement, *AXES_RECORDS}


@pytest.fixture
def one_of_everything(organisation, make_order):
    Group.objects.create(name="Door staff")
    region = Region.objects.create(organisation=organisation, name="Hamburg")
    MembershipFactory(organisation=organisation, role=Membership.Role.SUPPORT, regions=[region])
    customer = CustomerFactory(organisation=organisation, name="Jonas Weber", email="jonas@example.com")
    order = make_order(quantity=2, customer=customer, contact_name="Jonas Weber", contact_email="jonas@example.com")
    ticket = order.tickets.first()
    ScanFactory(ticket=ticket)
    area = AccessArea.objects.create(organisation=organisation, event=order.event, name="Main entrance")
    point = AccessPoint.objects.create(organisation=organisation, area=area, name="Gate 1")
    scanner_device_create(organisation=organisation, name="Gate A", event=order.event, access_point=point)
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
    agent = MembershipFactory(organisation=organisation, role=Membership.Role.SUPPORT).user
    ticket_transfer(actor=agent, ticket=order.tickets.order_by("id").last(), name="Ben", email="ben@example.com")
    login = {"user_agent": "test", "ip_address": "192.0.2.1", "username": "agent@example.com", "path_info": "/"}
    AccessAttempt.objects.create(**login, get_data="", post_data="", failures_since_start=3)
    AccessLog.objects.create(**login)
    AccessFailureLog.objects.create(**login, locked_out=False)
    PersonalDataField.objects.create(
        organisation=organisation, ticket_type=ticket.ticket_type, key="company", label="Company"
    )
    PersonalisationLink.objects.create(
        organisation=organisation, order=order, recipient="jonas@example.com", expires_at=order.event.ends_at
    )
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


def _posted_change_form(response) -> dict:
    """The admin change form as the browser would post it back unchanged, its inline formsets included."""

    def fields(form, data: dict) -> None:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if isinstance(field.widget, MultiWidget):  # the date and the time of a datetime
                data.update({f"{key}_{i}": str(part) for i, part in enumerate(field.widget.decompress(value) or [])})
            elif value is True:
                data[key] = "on"
            elif value is not None and value is not False:
                data[key] = [str(v) for v in value] if isinstance(value, list) else str(value)

    data: dict = {}
    fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        for form in formset.forms:
            fields(form, data)
    return data


def test_a_posted_change_leaves_the_contact_and_the_refunds_as_the_services_wrote_them(
    client, superuser, one_of_everything
):
    order = one_of_everything
    stranger = OrganisationFactory()
    refund = order.refunds.get()
    url = reverse("admin:orders_order_change", args=[order.pk])
    client.force_login(superuser)
    data = _posted_change_form(client.get(url))
    assert "promo_code" in data
    data.update(
        {
            "promo_code": "ADMIN-EDIT",  # still editable: shows that the post was saved
            "contact_name": "Mallory",
            "contact_email": "mallory@example.com",
            "contact_phone": "+49 30 000000",
            "address": "Elsewhere 1",
            "customer": "",
            "organisation": str(stranger.pk),  # would hand the order to another organisation's members
            "code": "HIJACK",
            "currency": "JPY",
            "discount_total": "99.00",
            "lines-0-quantity": "40",
            "status": "refunded",
            "total": "0.00",
            "refunded_total": "100.00",
            "email_status": "delivered",
            "refunds-0-id": str(refund.pk),
            "refunds-0-order": str(order.pk),
            "refunds-0-amount": "999.00",
            "refunds-0-status": "succeeded",
            "refunds-0-DELETE": "on",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    before = order
    order = type(order).objects.get(pk=order.pk)
    assert order.promo_code == "ADMIN-EDIT"
    contact = ("customer_id", "contact_name", "contact_email", "contact_phone", "address")
    sums = ("status", "total", "refunded_total", "email_status", "organisation_id", "code", "currency")
    sums += ("discount_total",)
    assert [getattr(order, f) for f in contact + sums] == [getattr(before, f) for f in contact + sums]
    assert order.contact_email == "jonas@example.com"
    assert [line.quantity for line in order.lines.all()] == [line.quantity for line in before.lines.all()]
    refund_after = Refund.objects.get(pk=refund.pk)
    assert (refund_after.amount, refund_after.status) == (Decimal("50.00"), Refund.Status.FAILED)


def test_a_refund_cannot_be_added_changed_or_deleted_in_admin(client, rf, superuser, one_of_everything):
    refund = one_of_everything.refunds.get()
    request = rf.get("/admin/")
    request.user = superuser
    refund_admin = admin.site._registry[Refund]
    assert not refund_admin.has_add_permission(request)
    assert not refund_admin.has_change_permission(request, refund)
    assert not refund_admin.has_delete_permission(request, refund)

    client.force_login(superuser)
    assert client.get(reverse("admin:orders_refund_add")).status_code == 403
    change = reverse("admin:orders_refund_change", args=[refund.pk])
    assert client.post(change, {"amount": "999.00", "status": "succeeded"}).status_code == 403
    delete = reverse("admin:orders_refund_delete", args=[refund.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    refund.refresh_from_db()
    assert (refund.amount, refund.status) == (Decimal("50.00"), Refund.Status.FAILED)


def test_a_superuser_still_reads_the_contact_and_the_refunds(client, superuser, one_of_everything):
    order = one_of_everything
    client.force_login(superuser)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "jonas@example.com" in page and "Jonas Weber" in page
    assert "card expired" in page  # the refund's error, in the refunds inline
    refund_page = client.get(reverse("admin:orders_refund_change", args=[order.refunds.get().pk]))
    assert refund_page.status_code == 200 and "card expired" in refund_page.content.decode()


def test_a_new_order_still_takes_its_contact_in_admin(client, superuser):
    client.force_login(superuser)
    form = client.get(reverse("admin:orders_order_add")).context["adminform"].form
    assert {"contact_name", "contact_email", "contact_phone", "address", "customer"} <= set(form.fields)
    assert not {"status", "total", "refunded_total", "email_status"} & set(form.fields)


def test_non_superuser_staff_without_permissions_sees_no_models(client):
    from .factories import UserFactory

    staff = UserFactory(username="staff@example.com", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 403
