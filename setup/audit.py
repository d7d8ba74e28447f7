"""The audit list of organisation setup: the one writer, and the words each action code is shown with.

Every code a setup service writes has a sentence here; the Team and event settings pages show entries through
`audit_sentence`, with who and when beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from organiser_portal.models import Event, Organisation

from .models import AuditEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# action code → sentence; {placeholders} are filled from the entry's data.
ACTIONS: dict[str, str] = {
    "member.invited": "Invited {member} as {role}",
    "member.invitation_resent": "Sent the invitation to {member} again",
    "member.role_changed": "Changed {member}'s role: {old} → {new}",
    "member.regions_changed": "Changed {member}'s regions: {old} → {new}",
    "member.removed": "Removed {member} ({role}) from the team",
    "region.created": "Created the region {name}",
    "region.renamed": "Renamed the region {old} to {new}",
    "region.deleted": "Deleted the region {name}",
    "event.created": "Created the event {name}",
    "event.changed": "Changed {fields}",
    "event.send_tickets_switched": "Switched “send tickets automatically” {state}",
    "event.guest_checkout_switched": "Switched guest checkout {state}",
    "ticket_type.created": "Added the ticket type {name}",
    "ticket_type.changed": "Changed the ticket type {name}: {fields}",
    "ticket_type.deleted": "Deleted the ticket type {name}",
}


def audit_record(
    *, organisation: Organisation, actor: User, action: str, data: dict[str, Any], event: Event | None = None
) -> AuditEntry:
    """Write one entry; call in the transaction of the change it records. Raises KeyError for an unknown code."""
    ACTIONS[action]  # every code has its words
    return AuditEntry.objects.create(organisation=organisation, event=event, actor=actor, action=action, data=data)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def audit_sentence(entry: AuditEntry) -> str:
    """The entry in words: "Changed Anna Müller's role: Support agent → Manager"."""
    return ACTIONS.get(entry.action, entry.action).format_map(_Blank(entry.data))
