"""What the order page advises about the ticket email: the one place that decides which advice fits.

The advice follows from the order's "Order email status" and its cause as notifications/ defines
them: bounced is a permanent address failure, deferred a transient one the email service retries,
rejected the service refusing the address, failed our side (never the address's fault), complained
the guest marking it as spam. Before any of that: a contact email saved after the latest ticket email
and not sent to yet, because then the status is about the old address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from notifications.models import OutgoingMessage
from organiser_portal.permissions import Access, Perm, Role

from . import rules
from .email_typos import suggest_email
from .models import OrderEmailStatus as EmailStatus
from .selectors import OrderDetail

# The offers a banner can make; the template renders each as a button or link.
FIX_AND_RESEND = "fix_and_resend"  # correct to the suggested address and resend, one step
EDIT_CONTACT = "edit_contact"
RESEND = "resend"  # the resend dialog, to the contact email
RESEND_OTHER = "resend_other"  # the resend dialog with "another address, once" chosen
RESEND_NOW = "resend_now"  # one click: resend to the current contact email
RESEND_WITHOUT_PDF = "resend_without_pdf"  # the resend dialog with "without the PDF" (the tickets page link) chosen


@dataclass(frozen=True)
class Advice:
    # delivered, deferred, bounced, bounced_verified, rejected, failed, complained, not_resent,
    # refused_content (for what it carried: the PDF), refused_sender (the sending domain) …
    kind: str
    tone: str  # the alert's colour: danger, warning, info, secondary
    text: SafeString
    offers: tuple[str, ...] = ()
    suggestion: str | None = None  # the address the guest probably meant (fix and resend)
    note: str = ""  # what the role can't do, so the reader knows whom to ask

    @property
    def element_id(self) -> str:
        # An address fault keeps the banner's old id: tests and habits find it there.
        return "bounce-banner" if self.kind in {"bounced", "rejected"} else "delivery-advice"


def complained_addresses(detail: OrderDetail) -> frozenset[str]:
    """The addresses (lower case) whose guest marked one of this order's emails as spam."""
    return frozenset(m.recipient.lower() for m in detail.messages if m.status == OutgoingMessage.Status.COMPLAINED)


def unsent_contact_email(detail: OrderDetail) -> bool:
    """The contact email was changed after tickets were emailed, and no ticket email went to it since.

    From the data, not from a flash message: the newest "contact changed" entry that changed the
    email, against the ticket emails sent to the current address at or after it.
    """
    if detail.latest_ticket_message is None:
        return False
    changed_at = next(
        (
            e.created_at
            for e in detail.timeline  # newest first
            if e.action == "order.contact_changed" and "contact_email" in (e.data.get("new") or {})
        ),
        None,
    )
    if changed_at is None:
        return False
    current = detail.order.contact_email.lower()
    return not any(
        m.kind in OutgoingMessage.TICKET_KINDS and m.recipient.lower() == current and m.created_at >= changed_at
        for m in detail.messages
    )


def _allowed(access: Access, detail: OrderDetail, *offers: str) -> tuple[str, ...]:
    """The offers this person may use on this order now (role and the order's state)."""
    can_resend = access.can(Perm.RESEND) and not rules.refusal_resend(
        detail.order, valid_tickets=detail.valid_ticket_count
    )
    can_edit = access.can(Perm.EDIT_CONTACT) and not rules.refusal_change_email(detail.order)
    needs = {
        FIX_AND_RESEND: can_edit and can_resend,
        EDIT_CONTACT: can_edit,
        RESEND: can_resend,
        RESEND_OTHER: can_resend,
        RESEND_NOW: can_resend,
        RESEND_WITHOUT_PDF: can_resend,
    }
    return tuple(offer for offer in offers if needs[offer])


def _role_note(access: Access, offers: tuple[str, ...], wanted: tuple[str, ...]) -> str:
    if wanted and not offers and not (access.can(Perm.RESEND) and access.can(Perm.EDIT_CONTACT)):
        return f"Your role ({Role(access.role).label}) can't do this: ask a support agent."
    return ""


def _reason(message: OutgoingMessage | None) -> str:
    return message.status_reason if message is not None else ""


def delivery_advice(access: Access, detail: OrderDetail) -> Advice | None:
    """The advice the order page shows under the header, or None when there is nothing to say."""
    order, latest = detail.order, detail.latest_ticket_message
    recipient = latest.recipient if latest is not None else order.contact_email
    reason = _reason(latest)
    because = format_html(" ({})", reason) if reason else ""
    # The email is locked (rules.refusal_change_email) because the customer verified it: only they change it.
    verified = order.customer_id is not None and order.customer is not None and order.customer.verified

    def advice(kind: str, tone: str, text: SafeString, *wanted: str, suggestion: str | None = None) -> Advice:
        offers = _allowed(access, detail, *wanted)
        if FIX_AND_RESEND in offers and not suggestion:
            offers = tuple(o for o in offers if o != FIX_AND_RESEND)
        return Advice(kind, tone, text, offers, suggestion, _role_note(access, offers, wanted))

    if unsent_contact_email(detail):
        return advice(
            "not_resent",
            "warning",
            format_html(
                "The contact email is now <strong>{}</strong>, but the tickets have not been sent to it yet: "
                "the last tickets email went to {}.",
                order.contact_email,
                recipient,
            ),
            RESEND_NOW,
        )
    status = order.email_status
    if status == EmailStatus.DELIVERED:
        return advice(
            "delivered",
            "secondary",
            mark_safe(  # a constant: nothing to escape
                "Delivered to the guest's mail server. If they can't find it, ask them to look in their "
                "junk or spam folder."
            ),
        )
    if status == EmailStatus.DEFERRED:
        return advice(
            "deferred",
            "info",
            format_html(
                "Not delivered yet: the mail server of <strong>{}</strong> asked to try again later{} — "
                "for example a full mailbox or greylisting. The email service keeps trying by itself; "
                "nothing to do unless it stays Deferred for hours.",
                recipient,
                because,
            ),
        )
    if latest is not None and rules.refused_for_content(status, reason):
        # A content filter (often: PDF attachments from unknown senders), not the address: the same email
        # with the tickets page link instead of the PDF usually gets through.
        elsewhere = (
            format_html(
                " That was a send to another address, once: the order's contact <strong>{}</strong> is unchanged.",
                order.contact_email,
            )
            if recipient.lower() != order.contact_email.lower()
            else ""
        )
        return advice(
            "refused_content",
            "warning",
            format_html(
                "The tickets email to <strong>{}</strong> was refused for its content{}, not for the address: some "
                "mailbox providers block PDF attachments from unknown senders. Send it again without the PDF: the "
                "email then carries the link to the customer's tickets page instead.{}",
                recipient,
                because,
                elsewhere,
            ),
            RESEND_WITHOUT_PDF,
            RESEND_OTHER,
        )
    if latest is not None and rules.refused_for_sender(status, reason):
        return advice(
            "refused_sender",
            "warning",
            format_html(
                "The mail server of <strong>{}</strong> refused mail from your organisation's sending domain{}, "
                "not the guest's address. Tell your organisation's admin: the email service's domain settings "
                "(SPF, DKIM, DMARC) may need fixing. Resending before that will most likely fail again.",
                recipient,
                because,
            ),
        )
    if status == EmailStatus.FAILED:
        return advice(
            "failed",
            "warning",
            format_html(
                "The tickets email to <strong>{}</strong> was not sent because of a problem on our side{}, "
                "not the guest's address. Resend the tickets later; if it keeps failing, tell your "
                "organisation's admin: the email service's settings may need fixing.",
                recipient,
                because or " (the email service did not say why)",
            ),
            RESEND,
        )
    if status == EmailStatus.COMPLAINED:
        return advice(
            "complained",
            "warning",
            format_html(
                "<strong>{}</strong> marked the tickets email as spam. Their email service may now refuse or "
                "file our mail, and sending again can count as unwanted mail: resend only if the guest asks "
                "for it (the resend asks you to confirm).",
                recipient,
            ),
        )
    if status in (EmailStatus.BOUNCED, EmailStatus.REJECTED):
        if status == EmailStatus.BOUNCED:
            cause = format_html(
                "The tickets email to <strong>{}</strong> did not arrive{}. The address is probably wrong",
                recipient,
                format_html(": {}", reason) if reason else "",
            )
        else:
            cause = format_html(
                "The email service refused to send to <strong>{}</strong>{}: it holds the address as invalid "
                "or on its suppression list (after earlier bounces or a spam complaint)",
                recipient,
                because,
            )
        if latest is not None and recipient.lower() != order.contact_email.lower():
            # A one-off send to another address failed: the order's own contact is not in question.
            return advice(
                f"{status}_other_address",
                "warning",
                format_html(
                    "{}. That was a send to another address, once: the order's contact <strong>{}</strong> "
                    "is unchanged. Resend to the contact, or once to another address the guest gives you.",
                    cause,
                    order.contact_email,
                ),
                RESEND,
                RESEND_OTHER,
            )
        if verified:
            return advice(
                f"{status}_verified",
                "danger",
                format_html(
                    "{}. The customer's account is verified, so only they can change its email: ask them to "
                    "correct it in their account, and meanwhile send the tickets once to another address "
                    "they give you.",
                    cause,
                ),
                RESEND_OTHER,
            )
        return advice(
            status,
            "danger",
            format_html("{}: check it with the guest, fix the contact, then resend.", cause)
            if status == EmailStatus.BOUNCED
            else format_html("{}. Fix the address with the guest, or resend once to another address.", cause),
            FIX_AND_RESEND,
            EDIT_CONTACT,
            RESEND_OTHER,
            suggestion=suggest_email(order.contact_email or ""),
        )
    return None
