"""Orders, their lines, payments, refunds and the append-only order timeline."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from guests.models import Customer
from organiser_portal.addresses import address_validate
from organiser_portal.codes import new_order_code
from organiser_portal.matching import name_key
from organiser_portal.models import Event, Organisation, TicketType
from organiser_portal.phones import phone_e164
from organiser_portal.search_keys import SearchKeysModel, SearchKeysQuerySet

# A bulk send's job row lives in its own module (orders.models stays readable); it is this app's model.
from .bulk_record import BulkSend as BulkSend
from .import_models import ImportRun as ImportRun  # a model of this app, in its own module for its size

ZERO = Decimal("0")
IMPORTED = ["order.imported", "order.imported_held"]  # the timeline entry an import writes on each of its orders


class OrderEmailStatus(models.TextChoices):
    """ "Order email status": the status of the order's latest ticket email, or none sent yet.

    The values are those of `notifications.models.MessageStatus` (a test holds them equal), so the
    notification services copy a message's status onto its order as it is.
    """

    NOT_SENT = "not_sent", "Not sent"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Deferred"
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    COMPLAINED = "complained", "Marked as spam"


# Still on their way: the guest tables poll these for news.
EMAIL_IN_FLIGHT = frozenset(
    {OrderEmailStatus.QUEUED, OrderEmailStatus.SENDING, OrderEmailStatus.SENT, OrderEmailStatus.DEFERRED}
)


class Order(SearchKeysModel):
    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        PROCESSING_PAYMENT = "processing_payment", "Processing payment"
        CONFIRMING_PAYMENT = "confirming_payment", "Confirming payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="orders")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="orders")
    code = models.CharField(max_length=12, default=new_order_code)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    contact_name = models.CharField(max_length=200)
    # Not an EmailField: Django's validator refuses internationalised addresses (müller@bücher.de).
    contact_email = models.CharField(max_length=254, validators=[address_validate])
    contact_phone = models.CharField(max_length=40, blank=True)
    # Written from contact_name / contact_phone on every write (refresh_search_keys), for the search.
    name_key = models.CharField(max_length=1000, blank=True, editable=False)
    contact_phone_e164 = models.CharField(max_length=16, blank=True, editable=False)
    address = models.TextField(blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.RESERVED)
    currency = models.CharField(max_length=3)
    promo_code = models.CharField(max_length=40, blank=True)
    # The order's reference in the system it was sold in, for orders brought in by an import (orders.imports):
    # unique per event, so importing the same file twice creates nothing the second time.
    external_reference = models.CharField(max_length=100, blank=True, default="", db_default="")
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, help_text="Including taxes and fees.")
    # Money back that succeeded, and money on its way back (refunds requested, processing or confirming).
    # Together they never exceed what was paid: the constraint below holds it even against two racing requests.
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refunding_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, db_default=ZERO)
    tickets_held = models.BooleanField(
        default=False,
        help_text="Paid, but the event holds tickets for review: nothing is sent until someone sends them.",
    )
    complimentary = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Given away (box office): every ticket at no charge, no booking fee; nothing to refund.",
    )
    # The key of the portal form that created the order (orders.box_office): a double submit makes one order.
    idempotency_key = models.CharField(max_length=80, blank=True, default="", db_default="", editable=False)
    # The status of the latest ticket email, kept here so lists can filter and sort on it;
    # written only by the notification services, in the same transaction as the message.
    email_status = models.CharField(max_length=16, choices=OrderEmailStatus.choices, default=OrderEmailStatus.NOT_SENT)
    # The customer's tickets page link carries this number (tickets.pages): "New link" raises it, voiding every
    # link sent before.
    tickets_page_version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = SearchKeysQuerySet["Order"].as_manager()
    SEARCH_KEY_SOURCES = frozenset({"contact_name", "contact_phone", "event"})
    SEARCH_KEYS = ("name_key", "contact_phone_e164")

    # The allowed moves of DESIGN.md §3; `orders.services` changes the status only through this table.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.RESERVED: frozenset({Status.PROCESSING_PAYMENT, Status.EXPIRED, Status.CANCELLED}),
        Status.PROCESSING_PAYMENT: frozenset({Status.CONFIRMING_PAYMENT, Status.EXPIRED, Status.CANCELLED}),
        Status.CONFIRMING_PAYMENT: frozenset({Status.PAID, Status.EXPIRED}),
        Status.PAID: frozenset({Status.REFUNDED, Status.CANCELLED}),
        Status.EXPIRED: frozenset(),
        Status.REFUNDED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="order_unique_code_per_org"),
            models.UniqueConstraint(
                fields=["event", "external_reference"],
                condition=~Q(external_reference=""),
                name="order_unique_external_reference",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="order_discount_non_negative"),
            models.CheckConstraint(condition=Q(complimentary=False) | Q(total=0), name="order_complimentary_free"),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("total")),
                name="order_refund_within_total",
            ),
            models.CheckConstraint(
                condition=Q(refunding_total__gte=0) & Q(refunded_total__lte=F("total") - F("refunding_total")),
                name="order_refunds_within_total",
            ),
        ]
        indexes = [
            models.Index(Upper("code"), name="order_code_upper"),
            models.Index(Lower("contact_email"), name="order_email_lower"),
            models.Index(fields=["contact_phone"], name="order_phone"),
            models.Index(fields=["organisation", "contact_phone_e164"], name="order_org_phone_e164"),
            models.Index(fields=["event", "-created_at", "-id"], name="order_event_created"),
            models.Index(fields=["event", "status", "-created_at"], name="order_event_status"),
            models.Index(fields=["event", "email_status", "-created_at"], name="order_event_email_status"),
            models.Index(fields=["organisation", "-created_at", "-id"], name="order_org_created"),
            # The Orders list across events (guests.selectors.orders_list) under its filters, newest first.
            models.Index(fields=["organisation", "status", "-created_at", "-id"], name="order_org_status"),
            models.Index(fields=["organisation", "email_status", "-created_at", "-id"], name="order_org_email_status"),
            models.Index(
                fields=["organisation", "-created_at", "-id"], condition=Q(tickets_held=True), name="order_org_held"
            ),
            # Orders still waiting for their payment, for the expiry timers (orders.payments): a few rows of millions.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["reserved", "processing_payment", "confirming_payment"]),
                name="order_awaiting_payment",
            ),
            # The at-risk list (guests/at_risk.py): paid orders whose tickets email failed or is deferred, a few
            # percent of an event, newest first; counted from the index alone.
            models.Index(
                fields=["event", "-created_at", "-id", "email_status"],
                condition=Q(
                    status="paid", email_status__in=["bounced", "rejected", "failed", "complained", "deferred"]
                ),
                name="order_event_at_risk",
            ),
            # A full name, folded (name_key), newest first, straight from the index (guests.search).
            models.Index(
                F("organisation"), F("name_key"), F("created_at").desc(), F("id").desc(), name="order_org_name_key"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def refresh_search_keys(self) -> None:
        """name_key from contact_name (organiser_portal.matching); contact_phone_e164 from contact_phone, read
        as written in the event's country (or its organisation's), '' when it is no possible number."""
        self.name_key = name_key(self.contact_name)
        self.contact_phone_e164 = phone_e164(self.contact_phone, self.event.phone_region) if self.contact_phone else ""

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    @property
    def is_partially_refunded(self) -> bool:
        return self.status == self.Status.PAID and self.refunded_total > 0

    @property
    def status_label(self) -> str:
        if self.is_partially_refunded:
            return "Paid · partially refunded"
        if self.complimentary and self.status == self.Status.PAID:
            return "Paid · complimentary"
        return self.Status(self.status).label  # get_status_display() flattens the choices on every call

    @property
    def email_status_label(self) -> str:
        return OrderEmailStatus(self.email_status).label


class OrderLine(models.Model):
    """One ticket type in an order. Amounts are totals for the line; prices include tax."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    booking_fee = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=ZERO,
        help_text="The booking fee the buyer paid; the organiser keeps it.",
    )
    tax = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(discount__gte=0) & Q(booking_fee__gte=0) & Q(tax__gte=0),
                name="order_line_amounts_non_negative",
            ),
        ]

    @property
    def gross(self) -> Decimal:
        """What the buyer pays for this line: prices less discount plus booking fees, tax included."""
        return self.unit_price * self.quantity - self.discount + self.booking_fee

    @property
    def subtotal(self) -> Decimal:
        """With discounts and fees, without tax."""
        return self.gross - self.tax


class Payment(models.Model):
    """Money the buyer paid (or tried to) through one payment provider (orders.payment_providers).

    `provider` is a provider key ("manual", "sandbox", "stripe", "paypal"); `method` says how the buyer paid
    within it, in words a person reads ("Cash", "Bank transfer", "Card"). `processing_fee` is the provider's
    fee on this payment, which the organiser bears; the buyer's booking fee is on the order lines.
    """

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(max_length=40)
    method = models.CharField(max_length=40, blank=True, default="", db_default="")
    reference = models.CharField(max_length=120, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    processing_fee = models.DecimalField(
        max_digits=10, decimal_places=2, default=ZERO, help_text="The payment provider's fee, borne by the organiser."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(processing_fee__gte=0), name="payment_amounts_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} payment {self.reference or self.pk}"


class Refund(models.Model):
    """Money going back to the buyer, through the payment it was paid with.

    `amount` is what goes back in total, booking fee included when `booking_fee_refunded` is set;
    `booking_fee_kept` is the part of the chosen tickets' booking fee the organiser keeps. Each attempt at the
    provider is sent with the key `attempt_key` (the refund's idempotency key and its attempt number), so a
    retry after an error is a new request and a repeated attempt never reaches the provider twice.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PROCESSING = "processing", "Refunding"
        CONFIRMING = "confirming", "Confirming refund"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Refund error"

    # The allowed moves; orders.services changes a refund's status only through this table.
    # failed → requested is a retry.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.PROCESSING, Status.CONFIRMING, Status.SUCCEEDED, Status.FAILED}),
        Status.PROCESSING: frozenset({Status.CONFIRMING, Status.SUCCEEDED, Status.FAILED}),
        Status.CONFIRMING: frozenset({Status.SUCCEEDED, Status.FAILED}),
        Status.SUCCEEDED: frozenset(),
        Status.FAILED: frozenset({Status.REQUESTED}),
    }
    IN_FLIGHT = frozenset({Status.REQUESTED, Status.PROCESSING, Status.CONFIRMING})

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    booking_fee_kept = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=ZERO,
        help_text="Booking fee of the chosen tickets the organiser keeps.",
    )
    booking_fee_refunded = models.BooleanField(default=False, db_default=False)
    tickets = models.ManyToManyField("tickets.Ticket", blank=True, related_name="refunds")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    attempt = models.PositiveSmallIntegerField(default=1, db_default=1)
    provider_reference = models.CharField(max_length=120, blank=True, default="", db_default="")
    notify_customer = models.BooleanField(default=True, db_default=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(booking_fee_kept__gte=0), name="refund_amounts_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="refund_status_changed")]

    def __str__(self) -> str:
        return f"Refund {self.pk} ({self.get_status_display().lower()})"

    @property
    def attempt_key(self) -> str:
        """The idempotency key sent to the provider for the current attempt."""
        return f"{self.idempotency_key}:{self.attempt}"

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class TimelineEntry(models.Model):
    """What happened to an order. Append-only; written by services in the same transaction as the change."""

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        SYSTEM = "system", "System"
        WEBHOOK = "webhook", "Email service"
        PROVIDER = "provider", "Payment provider"
        SMS_PROVIDER = "sms", "SMS provider"
        CUSTOMER = "customer", "Customer"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timeline")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    action = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["order", "-created_at", "-id"], name="timeline_order_created")]
        indexes += [models.Index(F("data__run"), F("id"), name="timeline_run", condition=Q(action__in=IMPORTED))]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Timeline entries are append-only.")
        super().save(*args, **kwargs)
