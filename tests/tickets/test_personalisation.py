"""ticket_personalise: all or nothing, one timeline entry per changed ticket (old → new, who), the missing flag,
a double submit, the freeze by role, and the organiser's fields as the settings page writes them."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from orders.models import Order, TimelineEntry
from organiser_portal.models import Membership
from tests.factories import MembershipFactory, RegionFactory
from tickets.models import Ticket
from tickets.personal_fields import FieldSpec, field_specs_parse, field_specs_text, personal_data_fields_set
from tickets.personalisation import AttendeeDetails, PersonalisationError, ticket_personalise

from .personal import pass_type, personal_event, personal_order

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def summit(organisation):
    return personal_event(organisation)


def details(name="Jan Novák", email="jan@example.com", shirt="M", born=""):
    return AttendeeDetails(name=name, email=email, data={"shirt": shirt, "born": born})


def entries(order: Order):
    return list(TimelineEntry.objects.filter(order=order, action="ticket.personalised").order_by("id"))


def test_issued_tickets_of_a_type_that_needs_data_are_flagged_missing(make_order, summit):
    order = personal_order(make_order, summit)
    assert [t.personal_data_missing for t in order.tickets.all()] == [True, True]
    assert [t.attendee_name for t in order.tickets.all()] == ["", ""]


def test_personalise_saves_the_details_and_records_old_and_new_with_who(make_order, member, summit):
    order = personal_order(make_order, summit)
    agent = member(Role.SUPPORT)
    first, second = order.tickets.all()

    changed = ticket_personalise(actor=agent, order=order, details={first.public_id: details(born="1990-04-01")})

    assert [t.public_id for t in changed] == [first.public_id]
    first.refresh_from_db()
    assert (first.attendee_name, first.attendee_email) == ("Jan Novák", "jan@example.com")
    assert first.attendee_data == {"shirt": "M", "born": "1990-04-01"}
    assert first.personal_data_missing is False
    second.refresh_from_db()
    assert second.personal_data_missing is True and second.attendee_name == ""
    [entry] = entries(order)
    assert entry.actor == agent and entry.actor_kind == TimelineEntry.ActorKind.USER
    assert entry.data["ticket"] == first.public_id
    assert entry.data["changes"] == (
        "name — → Jan Novák; email — → jan@example.com; T-shirt size — → M; Date of birth — → 1990-04-01"
    )

    ticket_personalise(actor=agent, order=order, details={first.public_id: details(name="Jana Nováková")})
    latest = entries(order)[-1]
    assert latest.data["changes"] == "name Jan Novák → Jana Nováková; Date of birth 1990-04-01 → —"
    assert latest.data["old"] == {"name": "Jan Novák", "Date of birth": "1990-04-01"}


def test_a_double_submit_writes_nothing_twice(make_order, member, summit):
    order = personal_order(make_order, summit)
    agent = member(Role.SUPPORT)
    ticket = order.tickets.first()
    ticket_personalise(actor=agent, order=order, details={ticket.public_id: details()})
    updated = Ticket.objects.get(pk=ticket.pk).updated_at

    assert ticket_personalise(actor=agent, order=order, details={ticket.public_id: details()}) == []
    assert len(entries(order)) == 1
    assert Ticket.objects.get(pk=ticket.pk).updated_at == updated


def test_one_bad_value_saves_nothing_and_says_which(make_order, member, summit):
    order = personal_order(make_order, summit)
    first, second = order.tickets.all()
    bad = {
        first.public_id: details(),
        second.public_id: details(name="Eva", email="not-an-address", shirt="XXL", born="1990-13-45"),
    }
    with pytest.raises(PersonalisationError) as refused:
        ticket_personalise(actor=member(Role.SUPPORT), order=order, details=bad)

    assert refused.value.errors == {
        second.public_id: {
            "email": "Enter a valid email address.",
            "shirt": "Choose one of: S, M, L.",
            "born": "Enter a valid date.",
        }
    }
    assert not entries(order)
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()


def test_required_details_are_required(make_order, member, summit):
    order = personal_order(make_order, summit, quantity=1)
    ticket = order.tickets.get()
    with pytest.raises(PersonalisationError) as refused:
        ticket_personalise(actor=member(Role.SUPPORT), order=order, details={ticket.public_id: details(shirt="")})
    assert refused.value.errors == {ticket.public_id: {"shirt": "This field is required."}}


def test_another_orders_ticket_is_refused_and_nothing_changes(make_order, member, summit):
    order, other = personal_order(make_order, summit), personal_order(make_order, summit)
    mine, theirs = order.tickets.first(), other.tickets.first()
    with pytest.raises(PersonalisationError, match=f"Ticket {theirs.public_id} is not a ticket of order"):
        ticket_personalise(
            actor=member(Role.SUPPORT),
            order=order,
            details={mine.public_id: details(), theirs.public_id: details(name="Intruder")},
        )
    assert not Ticket.objects.exclude(attendee_name="").filter(pk__in=[mine.pk, theirs.pk]).exists()


def test_an_order_without_tickets_needing_data_is_refused_with_the_menus_reason(make_order, member, summit):
    order = make_order(event=summit, ticket_type=summit.ticket_types.get(name="Party add-on"))
    ticket = order.tickets.get()
    with pytest.raises(PersonalisationError, match="No ticket needs personal data"):
        ticket_personalise(actor=member(Role.SUPPORT), order=order, details={ticket.public_id: details()})


def test_a_viewer_is_refused_and_another_organisation_or_region_is_404(
    make_order, member, summit, organisation, other_organisation
):
    order = personal_order(make_order, summit)
    ticket = order.tickets.first()
    with pytest.raises(PermissionDenied, match=r"Your role \(Viewer\) can't change attendee details"):
        ticket_personalise(actor=member(Role.VIEWER), order=order, details={ticket.public_id: details()})
    outsider = MembershipFactory(organisation=other_organisation, role=Role.OWNER).user
    with pytest.raises(Http404):
        ticket_personalise(actor=outsider, order=order, details={ticket.public_id: details()})
    summit.region = RegionFactory(organisation=organisation)
    summit.save()
    limited = MembershipFactory(
        organisation=organisation, role=Role.MANAGER, regions=[RegionFactory(organisation=organisation)]
    ).user
    with pytest.raises(Http404):
        ticket_personalise(actor=limited, order=Order.objects.get(pk=order.pk), details={ticket.public_id: details()})
    assert not entries(order)


def test_after_the_freeze_only_a_manager_may_change_details(make_order, member, organisation):
    summit = personal_event(organisation, starts_at=timezone.now() + timedelta(days=3))
    summit.personal_data_frozen_days = 7
    summit.save()
    order = personal_order(make_order, summit, quantity=1)
    ticket = order.tickets.get()

    with pytest.raises(PersonalisationError, match="Attendee details are frozen since .*: only a manager can change"):
        ticket_personalise(actor=member(Role.SUPPORT), order=order, details={ticket.public_id: details()})
    assert not entries(order)

    ticket_personalise(actor=member(Role.MANAGER), order=order, details={ticket.public_id: details()})
    assert len(entries(order)) == 1


def test_before_the_freeze_support_may_change_details(make_order, member, organisation):
    summit = personal_event(organisation, starts_at=timezone.now() + timedelta(days=30))
    summit.personal_data_frozen_days = 7
    summit.save()
    order = personal_order(make_order, summit, quantity=1)
    ticket = order.tickets.get()
    assert ticket_personalise(actor=member(Role.SUPPORT), order=order, details={ticket.public_id: details()})


def test_field_lines_parse_and_print_back():
    text = "T-shirt size | choice: S, M, L | required\nDate of birth | date\n\nCompany"
    specs = field_specs_parse(text)
    assert specs == [
        FieldSpec("T-shirt size", "choice", ("S", "M", "L"), True),
        FieldSpec("Date of birth", "date"),
        FieldSpec("Company"),
    ]
    with pytest.raises(ValidationError, match="Line 1: a choice needs at least two options"):
        field_specs_parse("Size | choice: S")
    with pytest.raises(ValidationError, match="Line 2: “colour” is not text, date"):
        field_specs_parse("Size\nHat | colour")
    with pytest.raises(ValidationError, match="Line 1: Email is asked already"):
        field_specs_parse("Email")


def test_a_new_required_field_flags_the_tickets_that_lack_it(make_order, member, summit):
    order = personal_order(make_order, summit, quantity=1)
    ticket = order.tickets.get()
    ticket_personalise(actor=member(Role.SUPPORT), order=order, details={ticket.public_id: details()})
    assert Ticket.objects.get(pk=ticket.pk).personal_data_missing is False
    specs = [*field_specs_parse("T-shirt size | choice: S, M, L | required\nCompany | required")]

    assert personal_data_fields_set(ticket_type=pass_type(summit), specs=specs) is True
    assert Ticket.objects.get(pk=ticket.pk).personal_data_missing is True
    assert field_specs_text(pass_type(summit).personal_data_fields.all()) == (
        "T-shirt size | choice: S, M, L | required\nCompany | required"
    )
    assert Ticket.objects.get(pk=ticket.pk).attendee_data["shirt"] == "M"  # the answer stays with its field
    assert personal_data_fields_set(ticket_type=pass_type(summit), specs=specs) is False
