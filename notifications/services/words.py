"""How the timeline names messages: each kind in words, and the namespace of its entries."""

from __future__ import annotations

from ..models import OutgoingMessage

Kind = OutgoingMessage.Kind

# How the timeline names each kind of email ("Tickets email delivered to …").
KIND_WORDS: dict[str, str] = {
    Kind.TICKETS: "Tickets",
    Kind.TICKETS_RESEND: "Resent tickets",
    Kind.REFUND_NOTICE: "Refund notice",
    Kind.CANCELLATION_NOTICE: "Cancellation notice",
    Kind.MEMBER_INVITATION: "Member invitation",
    Kind.PASSWORD_RESET: "Password reset",
    Kind.PERSONALISATION_REQUEST: "Attendee details request",
    Kind.TICKET_TRANSFER: "Transferred ticket",
    Kind.TICKET_REISSUE: "Reissued ticket",
    Kind.TICKETS_SMS: "Tickets link",
    Kind.TICKETS_LINKS: "Links to the tickets",
    Kind.CUSTOMER_VERIFICATION: "Email verification",
}


def timeline_prefix(channel: str) -> str:
    """The namespace of a message's timeline entries: "email.sent", "sms.delivered" …"""
    return "sms" if channel == OutgoingMessage.Channel.SMS else "email"
