"""Attendee details (personalisation): what a ticket type asks, when the details are frozen, and every write.

A ticket type with `requires_personal_data` asks each attendee's name and email, plus the organiser's own fields
(PersonalDataField: text, date or choice, required or not). Agents fill them in on the order's ⋯ Open
personalisation page (`ticket_personalise`); the customer on the public page of a signed link
(`personalisation_link_send`, `ticket_personalise_by_customer`). Each changed ticket gets one timeline entry
("ticket.personalised": old → new, and who) in the transaction of the change, and its `personal_data_missing`
flag, which the lists filter on, is kept true while a required detail is blank.

An event may freeze the details N days before it starts (Event.personal_data_frozen_days): from then on only
a role with Perm.PERSONALISE_FROZEN (managers and owners) may change them, and the public page refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from notifications.models import OutgoingMessage
from notifications.services import message_queue
from orders import rules
from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.timeline import timeline_record
from organiser_portal.models import Event
from organiser_portal.permissions import Perm, require_perm
from organiser_portal.times import local_text

from .links import link_expiry
from .models import PersonalDataField, PersonalisationLink, Ticket

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NAME_MAX = Ticket._meta.get_field("attendee_name").max_length or 200
VALUE_MAX = 200


class PersonalisationError(OrderActionError):
    """Attendee details that can't be saved now (frozen, a ticket not of this order, a value a field refuses).
    Its text is shown on the page; `errors` maps a ticket ID to {field key: why} where one value is at fault."""

    def __init__(self, message: str, errors: dict[str, dict[str, str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


@dataclass(frozen=True)
class AttendeeDetails:
    """One ticket's details as given: the attendee's name and email, and the organiser's fields by key (a date
    as YYYY-MM-DD, a choice as its option's text, "" for blank)."""

    name: str
    email: str
    data: dict[str, str] = field(default_factory=dict)


# --- What a ticket type asks --------------------------------------------------------------------------------


def personal_data_fields(ticket_type_ids: Iterable[int]) -> dict[int, list[PersonalDataField]]:
    """ticket type id → its organiser-defined fields in order (one query); a type without any maps to []."""
    ids = set(ticket_type_ids)
    fields: dict[int, list[PersonalDataField]] = {pk: [] for pk in ids}
    for data_field in PersonalDataField.objects.filter(ticket_type_id__in=ids):
        fields[data_field.ticket_type_id].append(data_field)
    return fields


def details_missing(ticket: Ticket, fields: Sequence[PersonalDataField]) -> bool:
    """Whether the ticket's type asks for details the ticket still lacks: the name, the email or a required field."""
    if not ticket.ticket_type.requires_personal_data:
        return False
    if not ticket.attendee_name.strip() or not ticket.attendee_email.strip():
        return True
    data = ticket.attendee_data or {}
    return any(f.required and not str(data.get(f.key, "")).strip() for f in fields)


def tickets_needing_details(tickets: Iterable[Ticket]) -> list[Ticket]:
    """The valid tickets whose type asks for personal data: the blocks of the personalisation form."""
    return [t for t in tickets if t.is_valid and t.ticket_type.requires_personal_data]


# --- Freezing ------------------------------------------------------------------------------------------------


def frozen_since(event: Event) -> datetime | None:
    """When the event's attendee details freeze (its start less Event.personal_data_frozen_days), or None."""
    if event.personal_data_frozen_days is None:
        return None
    return event.starts_at - timedelta(days=event.personal_data_frozen_days)


def is_frozen(event: Event, now: datetime | None = None) -> bool:
    since = frozen_since(event)
    return since is not None and (now or timezone.now()) >= since


def frozen_words(event: Event) -> str:
    """ "Attendee details are frozen since Fri 12 Dec 2026, 20:00 (7 days before the event)"."""
    since = frozen_since(event)
    assert since is not None
    days = event.personal_data_frozen_days
    return (
        f"Attendee details are frozen since {local_text(since, event.tzinfo)} "
        f"({days} day{'s' if days != 1 else ''} before the event)"
    )


def refusal_frozen(event: Event, *, may_change_frozen: bool, now: datetime | None = None) -> str | None:
    """Why this actor can't change attendee details of the event now (frozen and not a manager), or None."""
    if may_change_frozen or not is_frozen(event, now):
        return None
    return f"{frozen_words(event)}: only a manager can change them"


# --- Checking the values ----------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _value_error(data_field: PersonalDataField, value: str) -> str | None:
    if not value:
        return "This field is required." if data_field.required else None
    if len(value) > VALUE_MAX:
        return f"At most {VALUE_MAX} characters."
    if data_field.kind == PersonalDataField.Kind.DATE:
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            return "Enter a valid date."
    if data_field.kind == PersonalDataField.Kind.CHOICE and value not in data_field.choices:
        return f"Choose one of: {', '.join(data_field.choices)}."
    return None


def details_errors(details: AttendeeDetails, fields: Sequence[PersonalDataField]) -> dict[str, str]:
    """{"name" | "email" | field key: why} for values the ticket's type refuses; {} when every value is fine.
    The name and the email are required; the organiser's fields as they say."""
    errors: dict[str, str] = {}
    if not details.name:
        errors["name"] = "This field is required."
    elif len(details.name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    if not details.email:
        errors["email"] = "This field is required."
    else:
        try:
            validate_email(details.email)
        except ValidationError:
            errors["email"] = "Enter a valid email address."
    for data_field in fields:
        if error := _value_error(data_field, details.data.get(data_field.key, "")):
            errors[data_field.key] = error
    unknown = set(details.data) - {f.key for f in fields}
    if unknown:
        errors[sorted(unknown)[0]] = "This ticket type doesn't ask for it."
    return errors


def _cleaned(details: AttendeeDetails) -> AttendeeDetails:
    return AttendeeDetails(
        name=" ".join(details.name.split()),
        email=details.email.strip(),
        data={key: str(value).strip() for key, value in details.data.items()},
    )


# --- The writes ----------------------------------------------------------------------------------------------


def _changes(ticket: Ticket, new: AttendeeDetails, fields: Sequence[PersonalDataField]) -> dict[str, tuple[str, str]]:
    """label → (old, new) for every detail that differs."""
    changed: dict[str, tuple[str, str]] = {}
    if ticket.attendee_name != new.name:
        changed["name"] = (ticket.attendee_name, new.name)
    if ticket.attendee_email != new.email:
        changed["email"] = (ticket.attendee_email, new.email)
    old_data = ticket.attendee_data or {}
    for data_field in fields:
        old, value = str(old_data.get(data_field.key, "")), new.data.get(data_field.key, "")
        if old != value:
            changed[data_field.label] = (old, value)
    return changed


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("event", "organisation").get(pk=order.pk)


def _personalise(
    *,
    order: Order,
    details: Mapping[str, AttendeeDetails],
    actor: User | None,
    actor_kind: str,
    may_change_frozen: bool,
) -> list[Ticket]:
    """Steps 2–5 for both writers: lock, check, change and record. Returns the tickets that changed."""
    with transaction.atomic():
        order = _lock_order(order)
        tickets = {
            t.public_id: t
            for t in Ticket.objects.select_for_update(of=("self",))
            .filter(order=order, public_id__in=list(details))
            .select_related("ticket_type")
        }
        needing = tickets_needing_details(
            Ticket.objects.filter(order=order, status=Ticket.Status.VALID).select_related("ticket_type")
        )
        if reason := rules.refusal_personalise(order, tickets_needing_data=len(needing)):
            raise PersonalisationError(reason)
        if reason := refusal_frozen(order.event, may_change_frozen=may_change_frozen):
            raise PersonalisationError(reason)
        for public_id in details:
            ticket = tickets.get(public_id)
            if ticket is None:
                raise PersonalisationError(f"Ticket {public_id} is not a ticket of order {order.code}")
            if not ticket.is_valid:
                raise PersonalisationError(f"Ticket {public_id} is {ticket.display_status.lower()}")
            if not ticket.ticket_type.requires_personal_data:
                raise PersonalisationError(f"Ticket {public_id} needs no personal data")
        fields = personal_data_fields(t.ticket_type_id for t in tickets.values())
        cleaned = {public_id: _cleaned(d) for public_id, d in details.items()}
        errors = {
            public_id: found
            for public_id, d in cleaned.items()
            if (found := details_errors(d, fields[tickets[public_id].ticket_type_id]))
        }
        if errors:
            raise PersonalisationError("Some details need correcting: nothing was saved.", errors)
        changed_tickets = []
        for public_id, new in cleaned.items():
            ticket = tickets[public_id]
            type_fields = fields[ticket.ticket_type_id]
            changes = _changes(ticket, new, type_fields)
            if not changes:  # a double submit finds everything as it left it: nothing to do
                continue
            ticket.attendee_name, ticket.attendee_email = new.name, new.email
            ticket.attendee_data = {**(ticket.attendee_data or {}), **new.data}
            ticket.personal_data_missing = details_missing(ticket, type_fields)
            ticket.save(update_fields=["attendee_name", "attendee_email", "attendee_data", "personal_data_missing"])
            timeline_record(
                order=order,
                action="ticket.personalised",
                actor=actor,
                actor_kind=actor_kind,
                data={
                    "ticket": public_id,
                    "changes": "; ".join(
                        f"{label} {old or '—'} → {value or '—'}" for label, (old, value) in changes.items()
                    ),
                    "old": {label: old for label, (old, _v) in changes.items()},
                    "new": {label: value for label, (_o, value) in changes.items()},
                },
            )
            changed_tickets.append(ticket)
        return changed_tickets


def ticket_personalise(*, actor: User, order: Order, details: Mapping[str, AttendeeDetails]) -> list[Ticket]:
    """Save the attendee details an agent gave for some of the order's tickets (ticket ID → details), all or
    nothing; returns the tickets that changed, each with one "ticket.personalised" timeline entry (old → new).

    Perm.PERSONALISE on the order's organisation and region (else PermissionDenied, or Http404 for another's).
    Raises PersonalisationError, changing nothing, when: the order takes no details now (orders.rules
    .refusal_personalise), the details are frozen and the actor's role isn't allowed past the freeze, a ticket ID is
    not a valid ticket of this order needing personal data, or a value is refused (`errors` says which). Details
    equal to the stored ones change nothing, so a double submit writes nothing twice.
    """
    access = require_perm(actor, order.organisation, Perm.PERSONALISE, region_id=order.event.region_id)
    return _personalise(
        order=order,
        details=details,
        actor=actor,
        actor_kind=TimelineEntry.ActorKind.USER,
        may_change_frozen=access.can(Perm.PERSONALISE_FROZEN),
    )


def ticket_personalise_at_sale(*, actor: User, order: Order, details: Mapping[str, AttendeeDetails]) -> list[Ticket]:
    """As `ticket_personalise`, for the details the seller took with the order (orders.box_office, inside the
    sale's transaction, after the tickets were issued): the same checks and timeline entries, but no
    Perm.PERSONALISE and no freeze, since the details are given with the sale, not changed: Perm.CREATE_ORDERS
    instead (PermissionDenied). PersonalisationError, and the caller's transaction undoes the sale, on a refused
    value."""
    require_perm(actor, order.organisation, Perm.CREATE_ORDERS, region_id=order.event.region_id)
    kind = TimelineEntry.ActorKind.USER
    return _personalise(order=order, details=details, actor=actor, actor_kind=kind, may_change_frozen=True)


def ticket_personalise_by_customer(
    *, link: PersonalisationLink, details: Mapping[str, AttendeeDetails]
) -> list[Ticket]:
    """As `ticket_personalise`, for the customer on the public page of `link` (the timeline's actor is
    "Customer"): only the tickets of the link's order, never past the freeze, and PersonalisationError once the
    link is revoked or expired."""
    with transaction.atomic():
        locked = PersonalisationLink.objects.select_for_update().get(pk=link.pk)
        if not locked.usable(timezone.now()):
            raise PersonalisationError("This link no longer works.")
        return _personalise(
            order=link.order,
            details=details,
            actor=None,
            actor_kind=TimelineEntry.ActorKind.CUSTOMER,
            may_change_frozen=False,
        )


def personalisation_link_send(
    *, actor: User, order: Order, recipient: str, language: str, idempotency_key: str = ""
) -> PersonalisationLink:
    """Email the customer a signed link (tickets.links) to fill in the attendee details themselves, in
    `language` ("en" or "de"), through the outbox; the timeline notes the email as for any other.

    Perm.PERSONALISE as `ticket_personalise`. PersonalisationError when the order takes no details, or the
    details are frozen (the customer couldn't use the link). The same `idempotency_key` (a double submit) returns
    the first link and sends one email.
    """
    require_perm(actor, order.organisation, Perm.PERSONALISE, region_id=order.event.region_id)
    if language not in PersonalisationLink.Language.values:
        raise PersonalisationError(f"No email in the language {language!r}")
    with transaction.atomic():
        order = _lock_order(order)
        if idempotency_key and (done := order.personalisation_links.filter(idempotency_key=idempotency_key).first()):
            return done
        needing = tickets_needing_details(
            Ticket.objects.filter(order=order, status=Ticket.Status.VALID).select_related("ticket_type")
        )
        if reason := rules.refusal_personalise(order, tickets_needing_data=len(needing)):
            raise PersonalisationError(reason)
        if is_frozen(order.event):
            raise PersonalisationError(f"{frozen_words(order.event)}: the customer can't change them any more")
        link = PersonalisationLink.objects.create(
            organisation_id=order.organisation_id,
            order=order,
            language=language,
            recipient=recipient,
            idempotency_key=idempotency_key,
            created_by=actor,
            expires_at=link_expiry(order.event.ends_at),
        )
        message_queue(
            order=order,
            kind=OutgoingMessage.Kind.PERSONALISATION_REQUEST,
            recipient=recipient,
            actor=actor,
            idempotency_key=f"personalise:{link.pk}",
        )
        return link


def personalisation_link_revoke(*, actor: User, order: Order, link_id: int) -> PersonalisationLink:
    """Stop a link the customer was sent from working; revoking a revoked link changes nothing.
    Perm.PERSONALISE as `ticket_personalise`; Http404 semantics for a link of another order (DoesNotExist)."""
    require_perm(actor, order.organisation, Perm.PERSONALISE, region_id=order.event.region_id)
    with transaction.atomic():
        link = PersonalisationLink.objects.select_for_update().get(pk=link_id, order=order)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
    return link
