"""Every write of organisation setup: the team, members' password emails, regions, events and ticket types.

Each service has the house shape (DESIGN.md §4): it checks the actor's permission on the organisation
(`require_perm`: no membership, or an event outside the actor's regions, is a 404), finds the row within the
organisation and locks it, returns early when the change is done already (a double submit does nothing twice),
refuses a change that would break something with a `SetupError` whose text the page shows, changes, writes the
audit entry (`audit.py`) in the same transaction, and leaves emails to the outbox (sent after commit).

It lives in its own app, not in the core (organiser_portal imports no app), because it needs the outbox
(notifications) for invitations and password resets, and the orders and tickets of an event to refuse changes
that would break them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from notifications.models import OutgoingMessage
from notifications.services import account_message_queue
from orders.models import Order
from organiser_portal.models import Event, Membership, Organisation, Region, TicketType
from organiser_portal.money import fits_minor_unit, minor_units
from organiser_portal.permissions import Perm, require_perm
from tickets.personal_fields import FieldSpec, personal_data_fields_set, personal_data_flags_refresh

from .audit import audit_record
from .errors import SetupError
from .models import AuditEntry
from .selectors import tickets_sold

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Role = Membership.Role


def member_name(user: User) -> str:
    """How the team list and the audit name a member: their full name, else their email."""
    return user.get_full_name() or user.email or user.username


def _regions_words(membership: Membership) -> str:
    if not membership.region_limited:
        return "All regions"
    return ", ".join(sorted(r.name for r in membership.regions.all())) or "No region"


def _org_regions(organisation: Organisation, region_ids: Iterable[int]) -> list[Region]:
    """The organisation's regions with these ids; an id of another organisation's region is a 404."""
    wanted = set(region_ids)
    regions = list(Region.objects.filter(organisation=organisation, pk__in=wanted))
    if len(regions) != len(wanted):
        raise Http404("No such region.")
    return regions


# --- Team ----------------------------------------------------------------------------------------------


def member_invite(
    *, actor: User, organisation: Organisation, email: str, role: str, region_ids: Iterable[int] | None = None
) -> tuple[Membership, bool]:
    """Add the person with `email` to the team with `role` (limited to `region_ids`; None: every region) and
    email them an invitation through the outbox: a signed link to set their password (organiser_portal.tokens),
    or, when they have a login already (a member of another organisation), a note to log in.

    Returns (membership, created). Someone already in the team is returned unchanged and gets no email
    (a double submit invites once). Their memberships elsewhere are kept. Raises Http404 without the
    permission's organisation or for another organisation's region; PermissionDenied without MANAGE_MEMBERS.
    """
    require_perm(actor, organisation, Perm.MANAGE_MEMBERS)
    if role not in Role.values:
        raise SetupError(f"{role} is not a role.")
    address = get_user_model().objects.normalize_email(email.strip()).lower()
    with transaction.atomic():
        user = get_user_model().objects.filter(username__iexact=address).first()
        if user is None:
            user = get_user_model().objects.filter(email__iexact=address).order_by("pk").first()
        if user is None:
            # Concurrent invitations of one address: the unique username makes one of them create it.
            user, _ = get_user_model().objects.get_or_create(username=address, defaults={"email": address})
            if not user.password:
                user.set_unusable_password()
                user.save(update_fields=["password"])
        regions = None if region_ids is None else _org_regions(organisation, region_ids)
        membership, created = Membership.objects.get_or_create(
            user=user,
            organisation=organisation,
            defaults={"role": role, "region_limited": regions is not None},
        )
        if not created:
            return membership, False
        if regions:
            membership.regions.set(regions)
        audit_record(
            organisation=organisation,
            actor=actor,
            action="member.invited",
            data={"member": address, "role": Role(role).label, "regions": _regions_words(membership)},
        )
        account_message_queue(
            kind=OutgoingMessage.Kind.MEMBER_INVITATION, user=user, organisation_id=organisation.pk, actor=actor
        )
    return membership, True


def member_resend_invitation(
    *, actor: User, organisation: Organisation, membership_id: int, idempotency_key: str
) -> OutgoingMessage:
    """Email the invitation again (a new link; the old one keeps working until it expires or a password is set).

    `idempotency_key` comes from the form: the same key sends once. Refused with SetupError when the member
    has set a password already (they log in, or use "Forgot your password?").
    """
    require_perm(actor, organisation, Perm.MANAGE_MEMBERS)
    with transaction.atomic():
        membership = _lock_membership(organisation, membership_id)
        user = membership.user
        if user.has_usable_password():
            raise SetupError(f"{member_name(user)} has set a password already: they log in with it.")
        invitations = OutgoingMessage.objects.filter(user=user, kind=OutgoingMessage.Kind.MEMBER_INVITATION)
        if idempotency_key and (done := invitations.filter(idempotency_key=idempotency_key[:80]).first()):
            return done
        message = account_message_queue(
            kind=OutgoingMessage.Kind.MEMBER_INVITATION,
            user=user,
            organisation_id=organisation.pk,
            actor=actor,
            idempotency_key=idempotency_key,
        )
        audit_record(
            organisation=organisation,
            actor=actor,
            action="member.invitation_resent",
            data={"member": member_name(user)},
        )
    return message


def _lock_membership(organisation: Organisation, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if membership is None:
        raise Http404("No such team member.")
    return membership


def _lock_owners(organisation: Organisation) -> list[Membership]:
    """Every owner's membership, locked in one order: two requests that each take away an owner queue here,
    and the second sees what the first left (the last-owner rule holds under concurrency)."""
    return list(
        Membership.objects.select_for_update().filter(organisation=organisation, role=Role.OWNER).order_by("pk")
    )


def _refuse_losing_last_owner(owners: list[Membership], membership: Membership, doing: str) -> None:
    if membership.role == Role.OWNER and [m.pk for m in owners] == [membership.pk]:
        raise SetupError(
            f"{member_name(membership.user)} is the organisation's only owner and can't be {doing}: "
            "make another member an owner first."
        )


def membership_update(
    *,
    actor: User,
    organisation: Organisation,
    membership_id: int,
    role: str,
    region_ids: Iterable[int] | None,
) -> Membership:
    """Set the member's role and regions (`region_ids` None: every region; an empty list: none).

    Unchanged values change nothing and write nothing. Refused with SetupError when it would leave the
    organisation without an owner (also when two owners demote each other at the same moment).
    Each change is recorded in the audit list.
    """
    require_perm(actor, organisation, Perm.MANAGE_MEMBERS)
    if role not in Role.values:
        raise SetupError(f"{role} is not a role.")
    with transaction.atomic():
        owners = _lock_owners(organisation)
        membership = _lock_membership(organisation, membership_id)
        regions = None if region_ids is None else _org_regions(organisation, region_ids)
        name = member_name(membership.user)
        if role != membership.role:
            if role != Role.OWNER:
                _refuse_losing_last_owner(owners, membership, f"made {Role(role).label.lower()}")
            old = Role(membership.role).label
            membership.role = role
            membership.save(update_fields=["role"])
            audit_record(
                organisation=organisation,
                actor=actor,
                action="member.role_changed",
                data={"member": name, "old": old, "new": Role(role).label},
            )
        old_regions = _regions_words(membership)
        current = {r.pk for r in membership.regions.all()} if membership.region_limited else None
        wanted = None if regions is None else {r.pk for r in regions}
        if current != wanted:
            membership.region_limited = regions is not None
            membership.save(update_fields=["region_limited"])
            membership.regions.set(regions or [])
            audit_record(
                organisation=organisation,
                actor=actor,
                action="member.regions_changed",
                data={"member": name, "old": old_regions, "new": _regions_words(membership)},
            )
    return membership


def membership_remove(*, actor: User, organisation: Organisation, membership_id: int) -> None:
    """Take the member out of this organisation's team; their login and memberships elsewhere stay.

    Refused with SetupError for the organisation's only owner (also under concurrent removals). A member
    removed already (a double submit) is a 404, like another organisation's.
    """
    require_perm(actor, organisation, Perm.MANAGE_MEMBERS)
    with transaction.atomic():
        owners = _lock_owners(organisation)
        membership = _lock_membership(organisation, membership_id)
        _refuse_losing_last_owner(owners, membership, "removed")
        data = {"member": member_name(membership.user), "role": Role(membership.role).label}
        membership.delete()
        audit_record(organisation=organisation, actor=actor, action="member.removed", data=data)


def password_reset_queue(*, user: User) -> OutgoingMessage:
    """Queue a password reset email for `user` through the outbox; the worker renders the signed link
    (Django's password reset token, PASSWORD_RESET_TIMEOUT) when it sends. The caller (the reset form) asks
    only for active users with a password, and answers the same whether or not there was one."""
    with transaction.atomic():
        return account_message_queue(kind=OutgoingMessage.Kind.PASSWORD_RESET, user=user)


# --- Regions -------------------------------------------------------------------------------------------


def _lock_region(organisation: Organisation, region_id: int) -> Region:
    region = Region.objects.select_for_update().filter(pk=region_id, organisation=organisation).first()
    if region is None:
        raise Http404("No such region.")
    return region


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise SetupError(f"The {what} needs a name.")
    return name


def region_create(*, actor: User, organisation: Organisation, name: str) -> tuple[Region, bool]:
    """A new region named `name` (spaces tidied). Returns (region, created): a region of that name already
    there is returned unchanged, so a double submit creates one."""
    require_perm(actor, organisation, Perm.MANAGE_REGIONS)
    name = _clean_name(name, "region")
    with transaction.atomic():
        region = Region.objects.filter(organisation=organisation, name__iexact=name).first()
        if region is not None:
            return region, False
        region, created = Region.objects.get_or_create(organisation=organisation, name=name)
        if created:
            audit_record(organisation=organisation, actor=actor, action="region.created", data={"name": name})
    return region, created


def region_rename(*, actor: User, organisation: Organisation, region_id: int, name: str) -> Region:
    """Rename the region. The same name changes nothing; another region's name is refused with SetupError."""
    require_perm(actor, organisation, Perm.MANAGE_REGIONS)
    name = _clean_name(name, "region")
    with transaction.atomic():
        region = _lock_region(organisation, region_id)
        if region.name == name:
            return region
        if clash := Region.objects.filter(organisation=organisation, name__iexact=name).exclude(pk=region.pk).first():
            raise SetupError(f"There is a region called {clash.name} already.")
        old, region.name = region.name, name
        region.save(update_fields=["name"])
        audit_record(organisation=organisation, actor=actor, action="region.renamed", data={"old": old, "new": name})
    return region


def region_delete(*, actor: User, organisation: Organisation, region_id: int) -> None:
    """Delete the region. Refused with SetupError while events use it. Members limited to it lose it; one
    who had no other region then sees nothing (never every region) until an owner gives them one."""
    require_perm(actor, organisation, Perm.MANAGE_REGIONS)
    with transaction.atomic():
        region = _lock_region(organisation, region_id)
        if used := Event.objects.filter(region=region).count():
            events = "an event belongs to it. Move it" if used == 1 else f"{used} events belong to it. Move them"
            raise SetupError(f"{region.name} can't be deleted: {events} to another region first.")
        name = region.name
        region.delete()
        audit_record(organisation=organisation, actor=actor, action="region.deleted", data={"name": name})


# --- Events --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSettings:
    """An event's settings as the form gives them: times aware, currency an ISO 4217 code, country ISO 3166
    or "" (the organisation's), region an id of the organisation's or None."""

    name: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    currency: str
    country: str
    region_id: int | None
    send_tickets_automatically: bool
    guest_checkout: bool
    personal_data_frozen_days: int | None = None
    attach_pdf_tickets: bool = True


_EVENT_LABELS = {
    "name": "the name",
    "venue": "the venue",
    "starts_at": "the start",
    "ends_at": "the end",
    "time_zone": "the time zone",
    "currency": "the currency",
    "country": "the country",
    "region_id": "the region",
    "personal_data_frozen_days": "when attendee details freeze",
    "attach_pdf_tickets": "whether the tickets email attaches the PDF",
}


def _apply_event_settings(event: Event, settings: EventSettings) -> list[str]:
    """Set the fields on `event`, validated by the model's own validators; the names of those that changed.
    Raises ValidationError (by field) for a bad value."""
    changed = [f.name for f in fields(settings) if getattr(event, f.name) != getattr(settings, f.name)]
    for name in changed:
        setattr(event, name, getattr(settings, name))
    event.name = _clean_name(event.name, "event")
    if event.ends_at < event.starts_at:
        raise ValidationError({"ends_at": "The event can't end before it starts."})
    event.full_clean(exclude=["organisation", "public_id"], validate_unique=False)
    return changed


def _lock_region_for_event(organisation: Organisation, region_id: int | None) -> None:
    """Hold the event's region (a shared lock) so a concurrent deletion waits and then sees the event."""
    if region_id is not None and not (
        Region.objects.select_for_update(no_key=True).filter(pk=region_id, organisation=organisation).exists()
    ):
        raise Http404("No such region.")


def event_create(*, actor: User, organisation: Organisation, settings: EventSettings, idempotency_key: str) -> Event:
    """A new event with these settings. The region must be one the actor may see (else 404). The form's
    `idempotency_key` makes a double submit create one event. Raises ValidationError for bad values."""
    require_perm(actor, organisation, Perm.MANAGE_EVENTS, region_id=settings.region_id)
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # creations queue up here
        if idempotency_key and (done := _done_by_key(organisation, "event.created", idempotency_key)):
            assert done.event is not None  # written with the event it created
            return done.event
        _lock_region_for_event(organisation, settings.region_id)
        event = Event(organisation=organisation)
        _apply_event_settings(event, settings)
        event.save()
        audit_record(
            organisation=organisation,
            actor=actor,
            action="event.created",
            event=event,
            data={"name": event.name, "key": idempotency_key},
        )
    return event


def _done_by_key(organisation: Organisation, action: str, key: str) -> AuditEntry | None:
    return AuditEntry.objects.filter(organisation=organisation, action=action, data__key=key).first()


def _lock_event(organisation: Organisation, public_id: str) -> Event:
    event = Event.objects.select_for_update().filter(organisation=organisation, public_id=public_id).first()
    if event is None:
        raise Http404("No such event.")
    return event


def event_update(*, actor: User, organisation: Organisation, public_id: str, settings: EventSettings) -> Event:
    """Change the event's settings. Only what differs is saved and recorded ("send tickets automatically" and
    guest checkout switched get their own audit entries). Refused with SetupError: changing the currency
    once the event has orders. The event and its new region must be within the actor's regions (else 404).
    Raises ValidationError for bad values."""
    require_perm(actor, organisation, Perm.MANAGE_EVENTS)
    with transaction.atomic():
        event = _lock_event(organisation, public_id)
        require_perm(actor, organisation, Perm.MANAGE_EVENTS, region_id=event.region_id)
        if settings.region_id != event.region_id:
            require_perm(actor, organisation, Perm.MANAGE_EVENTS, region_id=settings.region_id)
            _lock_region_for_event(organisation, settings.region_id)
        if settings.currency != event.currency and (orders := Order.objects.filter(event=event).count()):
            counted = "an order" if orders == 1 else f"{orders} orders"
            raise SetupError(
                f"The currency can't change from {event.currency} to {settings.currency}: the event has {counted} "
                f"in {event.currency}."
            )
        was_sending, had_guest_checkout = event.send_tickets_automatically, event.guest_checkout
        changed = _apply_event_settings(event, settings)
        if not changed:
            return event
        event.save()
        _record_event_changes(actor, event, changed, was_sending, had_guest_checkout)
    return event


def _record_event_changes(actor: User, event: Event, changed: list[str], was_sending: bool, had_guest: bool) -> None:
    def record(action: str, data: dict[str, str]) -> None:
        audit_record(organisation=event.organisation, actor=actor, event=event, action=action, data=data)

    if event.send_tickets_automatically != was_sending:
        record("event.send_tickets_switched", {"state": "on" if event.send_tickets_automatically else "off"})
    if event.guest_checkout != had_guest:
        record("event.guest_checkout_switched", {"state": "on" if event.guest_checkout else "off"})
    if labels := [_EVENT_LABELS[name] for name in changed if name in _EVENT_LABELS]:
        record("event.changed", {"fields": ", ".join(labels)})


# --- Ticket types --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketTypeSettings:
    """A ticket type's settings: amounts in the event's currency (prices include tax), the tax rate in
    percent, capacity None for no limit."""

    name: str
    price: Decimal
    booking_fee: Decimal
    tax_rate: Decimal
    capacity: int | None
    requires_personal_data: bool
    # The organiser's own attendee fields (tickets.personal_fields), beside name and email; None: as they are.
    attendee_fields: tuple[FieldSpec, ...] | None = None


_TICKET_TYPE_LABELS = {
    "name": "name",
    "price": "price",
    "booking_fee": "booking fee",
    "tax_rate": "tax rate",
    "capacity": "capacity",
    "requires_personal_data": "personal data needed",
    "attendee_fields": "attendee fields",
}


def minor_unit_error(amount: Decimal, currency: str) -> str | None:
    """Why the amount can't be charged in the currency ("JPY amounts have no decimals."), or None when it
    is a whole number of the currency's minor unit (EUR cents, whole yen)."""
    if fits_minor_unit(amount, currency):
        return None
    decimals = minor_units(currency)
    unit = "no decimals" if decimals == 0 else f"at most {decimals} decimals"
    return f"{currency} amounts have {unit}."


def _validate_ticket_type(ticket_type: TicketType, currency: str) -> None:
    errors: dict[str, Any] = {}
    for name in ("price", "booking_fee"):
        amount = getattr(ticket_type, name)
        if amount is not None and (error := minor_unit_error(amount, currency)):
            errors[name] = error
    if errors:
        raise ValidationError(errors)
    ticket_type.name = _clean_name(ticket_type.name, "ticket type")
    ticket_type.full_clean(exclude=["organisation", "event"], validate_unique=False)


def _event_for_ticket_types(actor: User, organisation: Organisation, public_id: str) -> Event:
    require_perm(actor, organisation, Perm.MANAGE_EVENTS)
    event = _lock_event(organisation, public_id)
    require_perm(actor, organisation, Perm.MANAGE_EVENTS, region_id=event.region_id)
    return event


def ticket_type_create(
    *, actor: User, organisation: Organisation, public_id: str, settings: TicketTypeSettings, idempotency_key: str
) -> TicketType:
    """A new ticket type of the event. Amounts must fit the event currency's minor unit (EUR cents, whole
    yen): else ValidationError. The form's `idempotency_key` makes a double submit create one."""
    with transaction.atomic():
        event = _event_for_ticket_types(actor, organisation, public_id)
        if idempotency_key and (done := _done_by_key(organisation, "ticket_type.created", idempotency_key)):
            return TicketType.objects.get(pk=done.data["ticket_type"])
        values = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "attendee_fields"}
        ticket_type = TicketType(organisation=organisation, event=event, **values)
        _validate_ticket_type(ticket_type, event.currency)
        ticket_type.save()
        if settings.attendee_fields:
            personal_data_fields_set(ticket_type=ticket_type, specs=settings.attendee_fields)
        audit_record(
            organisation=organisation,
            actor=actor,
            action="ticket_type.created",
            event=event,
            data={"name": ticket_type.name, "ticket_type": ticket_type.pk, "key": idempotency_key},
        )
    return ticket_type


def _lock_ticket_type(event: Event, ticket_type_id: int) -> TicketType:
    ticket_type = TicketType.objects.select_for_update().filter(pk=ticket_type_id, event=event).first()
    if ticket_type is None:
        raise Http404("No such ticket type.")
    return ticket_type


def ticket_type_update(
    *, actor: User, organisation: Organisation, public_id: str, ticket_type_id: int, settings: TicketTypeSettings
) -> TicketType:
    """Change the ticket type; what didn't change is neither saved nor recorded. Orders keep the prices they
    were sold at. Refused with SetupError: a capacity below the tickets sold (`tickets_sold`)."""
    with transaction.atomic():
        event = _event_for_ticket_types(actor, organisation, public_id)
        ticket_type = _lock_ticket_type(event, ticket_type_id)
        changed = [
            f.name
            for f in fields(settings)
            if f.name != "attendee_fields" and getattr(ticket_type, f.name) != getattr(settings, f.name)
        ]
        if settings.attendee_fields is not None and personal_data_fields_set(
            ticket_type=ticket_type, specs=settings.attendee_fields
        ):
            changed.append("attendee_fields")
        if not changed:
            return ticket_type
        capacity = settings.capacity if "capacity" in changed else None
        if capacity is not None and capacity < (sold := tickets_sold(ticket_type)):
            raise SetupError(
                f"The capacity of {ticket_type.name} can't be {capacity}: {sold} tickets are sold or being paid for."
            )
        for name in changed:
            if name != "attendee_fields":
                setattr(ticket_type, name, getattr(settings, name))
        _validate_ticket_type(ticket_type, event.currency)
        ticket_type.save()
        if "requires_personal_data" in changed:
            personal_data_flags_refresh(ticket_type=ticket_type)
        audit_record(
            organisation=organisation,
            actor=actor,
            action="ticket_type.changed",
            event=event,
            data={"name": ticket_type.name, "fields": ", ".join(_TICKET_TYPE_LABELS[n] for n in changed)},
        )
    return ticket_type


def ticket_type_delete(*, actor: User, organisation: Organisation, public_id: str, ticket_type_id: int) -> None:
    """Delete a ticket type nobody has ordered. Refused with SetupError once an order has it (its orders and
    tickets refer to it). Deleted already (a double submit): 404."""
    with transaction.atomic():
        event = _event_for_ticket_types(actor, organisation, public_id)
        ticket_type = _lock_ticket_type(event, ticket_type_id)
        if orders := Order.objects.filter(lines__ticket_type=ticket_type).distinct().count():
            counted = "an order has it" if orders == 1 else f"{orders} orders have it"
            raise SetupError(
                f"{ticket_type.name} can't be deleted: {counted}. Set its capacity to the tickets sold to stop sales."
            )
        name = ticket_type.name
        ticket_type.delete()
        audit_record(
            organisation=organisation, actor=actor, action="ticket_type.deleted", event=event, data={"name": name}
        )
