"""Outgoing messages (the outbox) and every delivery event the email service reports about them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from guests.models import Customer
from orders.models import Order
from organiser_portal.models import Organisation
from organiser_portal.phones import phone_international


class MessageStatus(models.TextChoices):
    """Where a message stands, and what each failure says about its cause (the order page's advice relies on it).

    - deferred: a transient failure (mailbox full, greylisting, "try again later", a 4.x.x status, a soft
      bounce); the service may still deliver it, and a later delivery wins. Never the address's fault.
    - bounced: a permanent failure of the address (hard bounce, no such mailbox, invalid address).
    - rejected: the email service refused the address itself (invalid, suppressed after earlier bounces
      or complaints) and did not try to send.
    - failed: our side or unknown (the service timed out, refused our credentials or is not configured;
      nothing to send); never the address's fault.
    - complained: the recipient marked the message as spam.

    An auto-reply (out of office) sent back as a bounce changes no status: it is kept as a delivery event
    and noted on the order's timeline.
    """

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    COMPLAINED = "complained", "Marked as spam"


# How far a message has come; an event never moves a message to a lower stage.
# A bounce or complaint after "delivered" is news (a late bounce), so they rank above it.
STAGE = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DEFERRED: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.FAILED: 5,
    MessageStatus.REJECTED: 5,
    MessageStatus.BOUNCED: 5,
    MessageStatus.COMPLAINED: 6,
}


class OutgoingMessage(models.Model):
    class Kind(models.TextChoices):
        TICKETS = "tickets", "Tickets"
        TICKETS_RESEND = "tickets_resend", "Tickets (resent)"
        REFUND_NOTICE = "refund_notice", "Refund notice"
        CANCELLATION_NOTICE = "cancellation_notice", "Cancellation notice"
        MEMBER_INVITATION = "member_invitation", "Member invitation"
        PASSWORD_RESET = "password_reset", "Password reset"
        PERSONALISATION_REQUEST = "personalisation_request", "Attendee details request"
        # One ticket (its PDF) to its holder: a transfer's new holder, a reissued ticket's holder.
        TICKET_TRANSFER = "ticket_transfer", "Transferred ticket"
        TICKET_REISSUE = "ticket_reissue", "Reissued ticket"
        # An SMS with the link to the order's tickets page (notifications/sms.py).
        TICKETS_SMS = "tickets_sms", "Tickets link"
        # "Find my tickets": links to the tickets pages of the recipient's current orders (tickets.find_tickets).
        TICKETS_LINKS = "tickets_links", "Links to the tickets"
        # A customer account's "confirm your email address" link (guests.verification).
        CUSTOMER_VERIFICATION = "customer_verification", "Email verification"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    TICKET_KINDS = frozenset({Kind.TICKETS, Kind.TICKETS_RESEND})
    # Emails to a member about their login, not about an order: no order, and `user` says whose account.
    ACCOUNT_KINDS = frozenset({Kind.MEMBER_INVITATION, Kind.PASSWORD_RESET})
    # Emails with one ticket to its holder (not the order's tickets email: "Order email status" ignores them).
    ONE_TICKET_KINDS = frozenset({Kind.TICKET_TRANSFER, Kind.TICKET_REISSUE})
    Status = MessageStatus

    # None only for a password reset: a login belongs to no one organisation.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="account_messages",
        help_text="The member an invitation or password reset is for.",
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        help_text="The customer account a verification email is for.",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=254, help_text="An email address, or an SMS's number in E.164 (+49…).")
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    status_reason = models.CharField(max_length=300, blank=True, help_text="Why, in the email service's words.")
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Claims so far: each is one try at sending.")
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="Not claimed before this time: the backoff after a failed try."
    )
    handed_over_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current try was handed to the email service. Sending with this set: the outcome is "
        "unconfirmed, and the message is never sent again blindly.",
    )
    pdf_attached = models.BooleanField(
        default=True,
        db_default=True,
        help_text="A tickets email: the PDF attached, or (False) the link to the customer's tickets page instead.",
    )
    unconfirmed_resends = models.PositiveSmallIntegerField(
        default=0, help_text="Sent again because the email service never confirmed a hand-over (at most once)."
    )
    idempotency_key = models.CharField(
        max_length=80, blank=True, help_text="From the form that asked for it: a double submit queues one message."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(default=timezone.now, help_text="When the current status was reached.")
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["order", "-created_at"], name="message_order_created"),
            models.Index(fields=["provider_message_id"], name="message_provider_id"),
            models.Index(fields=["status", "created_at"], name="message_status_created"),
            # The SMS sending limit per number (orders/sms_limits.py): an organisation's SMS to one number lately.
            models.Index(
                fields=["organisation", "recipient", "-created_at"],
                condition=Q(channel="sms"),
                name="message_sms_recipient_created",
            ),
            # An order's tickets emails, newest first (guests/at_risk.py): whether a deferral is stale, read from the
            # index alone, and the latest tickets email without a sort. The kinds are TICKET_KINDS.
            models.Index(
                fields=["order", "-created_at", "-id"],
                condition=Q(kind__in=["tickets", "tickets_resend"]),
                name="message_order_tickets",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, organisation__isnull=False)
                | Q(kind__in=["member_invitation", "password_reset"], user__isnull=False)
                | Q(kind="customer_verification", customer__isnull=False, organisation__isnull=False),
                name="message_about_an_order_or_an_account",
            ),
            # Per order: a form's key names one action on one order; the same key on another order is another action.
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_unique_order_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient_shown}"

    @property
    def recipient_shown(self) -> str:
        """The recipient as a person reads it: an SMS's number in international form ("+49 151 23456789")."""
        return phone_international(self.recipient) if self.channel == self.Channel.SMS else self.recipient


class DeliveryEvent(models.Model):
    """One event from the email service's webhook, kept exactly once.

    `event_type` is the event's class, not only the service's word for it: a soft bounce is stored as
    deferred (transient), an out-of-office sent as a bounce as autoresponded, only a permanent failure as
    bounced (`notifications.webhooks.delivery_class`); `raw` keeps what the service said.
    """

    class Type(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        DEFERRED = "deferred", "Deferred"
        BOUNCED = "bounced", "Bounced"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        COMPLAINED = "complained", "Complained"
        AUTORESPONDED = "autoresponded", "Auto-reply"
        OPENED = "opened", "Opened"
        CLICKED = "clicked", "Clicked"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        UNKNOWN = "unknown", "Unknown"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, related_name="+")
    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, null=True, related_name="events")
    event_type = models.CharField(max_length=16, choices=Type.choices)
    occurred_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["message", "occurred_at"], name="delivery_event_message")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.occurred_at:%Y-%m-%d %H:%M}"


class Suppression(models.Model):
    """An address the organisation's emails should not go to any more: it hard-bounced or marked an email as spam.

    Written where delivery events are recorded (services/delivery.py), once per address (any case) while it is
    on the list. Removing it (services/suppression.py) keeps the row with who removed it and why, so a later
    bounce puts the address back on the list as a new row.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Marked as spam"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True, help_text="Why, in the email service's words.")
    source_message = models.ForeignKey(
        OutgoingMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("address"),
                condition=Q(removed_at__isnull=True),
                name="suppression_unique_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    @property
    def active(self) -> bool:
        return self.removed_at is None
