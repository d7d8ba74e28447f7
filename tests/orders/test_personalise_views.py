"""⋯ Open personalisation: the menu item, the whole-order form (per-field errors, nothing saved until all is
valid), the order page's flags, the link sent to the customer, and who may open it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import MembershipFactory, RegionFactory
from tests.tickets.personal import personal_event, personal_order
from tickets.models import PersonalisationLink, Ticket

pytestmark = pytest.mark.django_db
Role = Membership.Role
HTMX = {"HX-Request": "true"}


def url(name: str, order: Order, **kwargs) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code, **kwargs})


@pytest.fixture
def summit(organisation):
    return personal_event(organisation)


def filled(ticket: Ticket, name="Jan Novák", email="jan@example.com", shirt="M", born="") -> dict[str, str]:
    prefix = f"ticket-{ticket.public_id}-"
    return {f"{prefix}name": name, f"{prefix}email": email, f"{prefix}shirt": shirt, f"{prefix}born": born}


def test_the_menu_item_opens_the_form_with_a_block_per_ticket(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    detail = client.get(url("order_detail", order)).content.decode()
    assert f'href="{url("order_personalise", order)}" hx-get="{url("order_personalise", order)}"' in detail
    assert 'id="personal-data-alert"' in detail and "2 tickets still need attendee details." in detail
    assert detail.count(">Details missing</span>") == 2

    partial = client.get(url("order_personalise", order), headers=HTMX).content.decode()
    assert partial.lstrip().startswith('<section class="card action-dialog"') and "<html" not in partial
    for ticket in order.tickets.all():
        assert f'id="attendee-{ticket.public_id}"' in partial
        assert f'name="ticket-{ticket.public_id}-shirt"' in partial
    assert "T-shirt size *" in partial and "Date of birth" in partial
    page = client.get(url("order_personalise", order)).content.decode()
    assert "<html" in page and "Save attendee details" in page


def test_saving_fills_in_the_tickets_and_a_repeat_changes_nothing(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    first, second = order.tickets.all()
    post = {**filled(first), **filled(second, name="Eva Berg", email="eva@example.com", shirt="S")}

    response = client.post(url("order_personalise", order), post, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Attendee details saved for 2 tickets." in html and 'id="personal-data-alert"' not in html
    assert "Jan Novák" in html and "Eva Berg" in html  # the ticket rows, swapped in place
    assert TimelineEntry.objects.filter(order=order, action="ticket.personalised").count() == 2

    again = client.post(url("order_personalise", order), post)
    assert again.status_code == 302
    assert TimelineEntry.objects.filter(order=order, action="ticket.personalised").count() == 2
    assert not Ticket.objects.filter(order=order, personal_data_missing=True).exists()


def test_a_blank_block_is_left_for_later(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    first, second = order.tickets.all()
    client.post(url("order_personalise", order), {**filled(first), **filled(second, name="", email="", shirt="")})
    assert Ticket.objects.get(pk=first.pk).attendee_name == "Jan Novák"
    assert Ticket.objects.get(pk=second.pk).personal_data_missing is True


def test_errors_are_shown_by_field_and_nothing_is_saved(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    first, second = order.tickets.all()
    post = {**filled(first), **filled(second, name="Eva", email="eva@", shirt="")}

    html = client.post(url("order_personalise", order), post).content.decode()
    assert f'id="id_ticket-{second.public_id}-email_error"' in html
    assert "Enter a valid email address." in html
    assert f'id="id_ticket-{second.public_id}-shirt_error"' in html and "This field is required." in html
    assert 'value="Jan Novák"' in html  # what was typed stays
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()
    assert not TimelineEntry.objects.filter(order=order, action="ticket.personalised").exists()


def test_another_orders_ticket_ids_are_refused(client, member, make_order, summit):
    order, other = personal_order(make_order, summit), personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    theirs = other.tickets.first()
    response = client.post(url("order_personalise", order), {**filled(order.tickets.first()), **filled(theirs)})
    assert response.status_code == 400
    assert not Ticket.objects.exclude(attendee_name="").filter(order__in=[order, other]).exists()


def test_a_viewer_is_refused_with_the_role_reason(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.VIEWER))
    detail = client.get(url("order_detail", order)).content.decode()
    assert "Your role (Viewer) can&#x27;t change attendee details" in detail
    for response in (
        client.get(url("order_personalise", order)),
        client.post(url("order_personalise", order), filled(order.tickets.first())),
        client.post(url("order_personalise_link", order), {"recipient": "a@example.com", "language": "en"}),
    ):
        assert response.status_code == 403
        assert "Your role (Viewer) can&#x27;t change attendee details" in response.content.decode()
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()


def test_another_organisation_and_another_region_are_404(client, organisation, other_organisation, make_order, summit):
    region = RegionFactory(organisation=organisation)
    summit.region = region
    summit.save()
    order = personal_order(make_order, summit)
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    limited = MembershipFactory(
        organisation=organisation, role=Role.MANAGER, regions=[RegionFactory(organisation=organisation)]
    ).user
    for user in (outsider, limited):
        client.force_login(user)
        assert client.get(url("order_personalise", order)).status_code == 404
        assert client.post(url("order_personalise", order), filled(order.tickets.first())).status_code == 404
        assert (
            client.post(url("order_personalise_link", order), {"recipient": "a@x.de", "language": "en"}).status_code
            == 404
        )
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()
    assert not PersonalisationLink.objects.exists()


def test_no_ticket_needing_data_disables_the_item_with_the_reason(client, member, make_order, summit):
    order = make_order(event=summit, ticket_type=summit.ticket_types.get(name="Party add-on"))
    client.force_login(member(Role.SUPPORT))
    detail = client.get(url("order_detail", order)).content.decode()
    assert "No ticket needs personal data" in detail
    page = client.get(url("order_personalise", order)).content.decode()
    assert "No ticket needs personal data" in page and "Save attendee details" not in page


def test_frozen_support_is_refused_and_a_manager_is_warned(client, member, make_order, organisation):
    summit = personal_event(organisation, starts_at=timezone.now() + timedelta(days=2))
    summit.personal_data_frozen_days = 5
    summit.save()
    order = personal_order(make_order, summit, quantity=1)
    ticket = order.tickets.get()

    client.force_login(member(Role.SUPPORT))
    page = client.get(url("order_personalise", order)).content.decode()
    assert "Attendee details are frozen since" in page and "only a manager can change them" in page
    assert "Save attendee details" not in page
    client.post(url("order_personalise", order), filled(ticket))
    assert Ticket.objects.get(pk=ticket.pk).attendee_name == ""

    client.force_login(member(Role.MANAGER))
    page = client.get(url("order_personalise", order)).content.decode()
    assert 'id="frozen-warning"' in page and "You can still change them as a manager." in page
    assert "the customer can&#x27;t change them any more" in page  # no link to send
    client.post(url("order_personalise", order), filled(ticket))
    assert Ticket.objects.get(pk=ticket.pk).attendee_name == "Jan Novák"


def test_sending_the_link_queues_one_email_per_submit(client, member, make_order, summit):
    order = personal_order(make_order, summit)
    client.force_login(member(Role.SUPPORT))
    post = {"recipient": "buyer@example.com", "language": "de", "idempotency_key": "k1"}
    for _ in range(2):
        response = client.post(url("order_personalise_link", order), post)
        assert response.status_code == 302
    link = PersonalisationLink.objects.get(order=order)
    assert (link.recipient, link.language) == ("buyer@example.com", "de")
    message = OutgoingMessage.objects.get(order=order, kind=OutgoingMessage.Kind.PERSONALISATION_REQUEST)
    assert message.recipient == "buyer@example.com" and message.idempotency_key == f"personalise:{link.pk}"
    assert TimelineEntry.objects.get(
        order=order, action="email.queued", data__kind="Attendee details request", data__recipient="buyer@example.com"
    )

    page = client.get(url("order_personalise", order)).content.decode()
    assert "buyer@example.com" in page and "Deutsch" in page and ">Works<" in page
    client.post(url("order_personalise_link_revoke", order, link_id=link.pk))
    assert PersonalisationLink.objects.get(pk=link.pk).revoked_at is not None
