"""The organiser's own attendee fields of a ticket type, as its settings page writes them (one per line: label,
kind, required), and the `personal_data_missing` flags they decide. setup.services calls these while it holds the
ticket type's lock and records the change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from organiser_portal.models import TicketType

from .models import PersonalDataField, Ticket
from .personalisation import details_missing, personal_data_fields


def personal_data_flags_refresh(*, ticket_type: TicketType) -> int:
    """Recompute `personal_data_missing` for every ticket of the type, after its settings or fields changed
    (setup.services). Returns how many tickets changed flag."""
    fields = personal_data_fields([ticket_type.pk])[ticket_type.pk]
    changed = []
    tickets = Ticket.objects.filter(ticket_type=ticket_type).only(
        "id", "attendee_name", "attendee_email", "attendee_data", "personal_data_missing", "ticket_type_id"
    )
    for ticket in tickets.iterator(chunk_size=2000):
        ticket.ticket_type = ticket_type
        missing = details_missing(ticket, fields)
        if missing != ticket.personal_data_missing:
            ticket.personal_data_missing = missing
            changed.append(ticket)
    Ticket.objects.bulk_update(changed, ["personal_data_missing"], batch_size=2000)
    return len(changed)


# --- The organiser's fields, as the ticket type's settings page writes them -----------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One organiser-defined field as the settings form gives it."""

    label: str
    kind: str = PersonalDataField.Kind.TEXT
    choices: tuple[str, ...] = ()
    required: bool = False


FIELD_LINES_HELP = (
    "One field per line: its label, then optionally | date or | choice: A, B, C, and | required. "
    "E.g. “Date of birth | date | required” or “T-shirt size | choice: S, M, L”. "
    "Name and email are always asked."
)
_MAX_FIELDS = 12


def field_specs_parse(text: str) -> list[FieldSpec]:
    """The fields written one per line (FIELD_LINES_HELP). ValidationError naming the line that is wrong."""
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [part.strip() for part in line.split("|")]
        if not parts[0]:
            if any(parts):
                raise ValidationError(f"Line {number}: start with the field's label.")
            continue
        label, kind, required = parts[0][:80], str(PersonalDataField.Kind.TEXT), False
        choices: tuple[str, ...] = ()
        for part in parts[1:]:
            word, _sep, rest = part.partition(":")
            word = word.strip().lower()
            if word == "required":
                required = True
            elif word in ("optional", ""):
                pass
            elif word in ("text", "date"):
                kind = word
            elif word == "choice":
                kind = PersonalDataField.Kind.CHOICE
                choices = tuple(dict.fromkeys(c.strip()[:80] for c in rest.split(",") if c.strip()))
                if len(choices) < 2:
                    raise ValidationError(f"Line {number}: a choice needs at least two options, e.g. choice: S, M, L.")
            else:
                raise ValidationError(f"Line {number}: “{part}” is not text, date, choice: …, required or optional.")
        key = _field_key(label)
        if key in seen or key in ("name", "email"):
            raise ValidationError(f"Line {number}: {label} is asked already.")
        seen.add(key)
        specs.append(FieldSpec(label=label, kind=kind, choices=choices, required=required))
    if len(specs) > _MAX_FIELDS:
        raise ValidationError(f"At most {_MAX_FIELDS} fields.")
    return specs


def field_specs_text(fields: Iterable[PersonalDataField]) -> str:
    """The fields as the settings form shows them (the reverse of `field_specs_parse`)."""
    lines = []
    for data_field in fields:
        parts = [data_field.label]
        if data_field.kind == PersonalDataField.Kind.CHOICE:
            parts.append(f"choice: {', '.join(data_field.choices)}")
        elif data_field.kind == PersonalDataField.Kind.DATE:
            parts.append("date")
        if data_field.required:
            parts.append("required")
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def _field_key(label: str) -> str:
    return slugify(label).replace("-", "_")[:40] or "field"


def personal_data_fields_set(*, ticket_type: TicketType, specs: Sequence[FieldSpec]) -> bool:
    """Make the type's fields these, in this order (answers stay with a field whose label stays); the caller
    (setup.services, holding the type's lock) checks the permission and records the change. Returns whether
    anything changed; the tickets' `personal_data_missing` flags are then recomputed."""
    current = list(PersonalDataField.objects.filter(ticket_type=ticket_type))
    wanted = [
        (_field_key(s.label), s.label, s.kind, list(s.choices), s.required, position)
        for position, s in enumerate(specs)
    ]
    have = [(f.key, f.label, f.kind, list(f.choices), f.required, f.position) for f in current]
    if wanted == have:
        return False
    PersonalDataField.objects.filter(ticket_type=ticket_type).exclude(key__in=[w[0] for w in wanted]).delete()
    for key, label, kind, choices, required, position in wanted:
        PersonalDataField.objects.update_or_create(
            ticket_type=ticket_type,
            key=key,
            defaults={
                "organisation_id": ticket_type.organisation_id,
                "label": label,
                "kind": kind,
                "choices": choices,
                "required": required,
                "position": position,
            },
        )
    personal_data_flags_refresh(ticket_type=ticket_type)
    return True
