"""Tickets (one admission each), the door scanners and the scans they report."""

import hashlib
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from orders.models import Order, OrderLine
from organiser_portal.codes import new_secret, new_ticket_id
from organiser_portal.models import Event, Organisation, TicketType

# No scan or first use is older than this: a scanner clock at year 1 once stored a time Python can't read back.
PLAUSIBLE_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


class Ticket(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"

    class InvalidReason(models.TextChoices):
        NONE = "", "—"
        TRANSFERRED = "transferred", "transferred"
        CANCELLED = "cancelled", "cancelled"
        REFUNDED = "refunded", "refunded"
        # Replaced by a ticket with a new ID and code (tickets.transfers): the old code is answered "reissued".
        REISSUED = "reissued", "reissued"
        # The new ticket of a transfer that was cancelled: the original is valid again.
        TRANSFER_CANCELLED = "transfer_cancelled", "transfer cancelled"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="tickets")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="tickets")
    public_id = models.CharField("ticket ID", max_length=16, unique=True, default=new_ticket_id)
    secret = models.CharField(max_length=64, unique=True, default=new_secret, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)
    invalid_reason = models.CharField(max_length=24, choices=InvalidReason.choices, blank=True, default="")
    used_at = models.DateTimeField(null=True, blank=True, help_text="First admitted scan.")
    attendee_name = models.CharField(max_length=200, blank=True)
    attendee_email = models.EmailField(max_length=254, blank=True)
    attendee_data = models.JSONField(default=dict, blank=True)
    # Whether the ticket's type needs personal data that is still missing (a required field blank): written by
    # tickets.personalisation on every change of the details, so lists filter on it without reading the types.
    personal_data_missing = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="valid", invalid_reason="") | Q(status="invalid"),
                name="ticket_valid_has_no_invalid_reason",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(used_at__gte=PLAUSIBLE_SINCE), name="ticket_used_at_plausible"
            ),
        ]
        indexes = [
            # "Personal data missing" in the guest list and the Orders list: a few rows of many.
            models.Index(fields=["order"], condition=Q(personal_data_missing=True), name="ticket_data_missing"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID

    @property
    def display_status(self) -> str:
        """Valid · unused, Valid · used, Invalid, Invalid · transferred / cancelled / refunded / reissued / …"""
        if self.is_valid:
            return "Valid · used" if self.used_at else "Valid · unused"
        if self.invalid_reason:
            return f"Invalid · {self.get_invalid_reason_display()}"
        return "Invalid"


class AccessArea(models.Model):
    """A part of an event's venue a ticket may or may not enter (Main entrance, VIP, Backstage …).

    An event with no areas admits every valid ticket wherever it is scanned; once it has areas, a scan at an
    area admits only the ticket types that area admits (`all_ticket_types`, else `ticket_types`)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="access_areas")
    name = models.CharField(max_length=120)
    all_ticket_types = models.BooleanField(
        default=True, help_text="Admits every ticket type of the event, also those added later."
    )
    ticket_types = models.ManyToManyField(
        TicketType, blank=True, related_name="access_areas", help_text="Admitted when not all ticket types are."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["event", "name"]
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="access_area_unique_name")]

    def __str__(self) -> str:
        return self.name


class AccessPoint(models.Model):
    """A gate or door of an access area; scanner devices are placed at one."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(AccessArea, on_delete=models.CASCADE, related_name="points")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["area", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="access_point_unique_name")]

    def __str__(self) -> str:
        return self.name


def token_hash(token: str) -> str:
    """What is stored of a scanner's bearer token: its SHA-256 (the token itself is shown once, at creation)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ScannerDevice(models.Model):
    """A door scanner (app or handheld) that reports check-ins through the API with its own bearer token."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scanner_devices")
    name = models.CharField(max_length=120, help_text="Shown as the device of its scans, e.g. “Gate A”.")
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scanner_devices",
        help_text="Bound to this event: it checks in for no other. Empty: each scan names its event.",
    )
    access_point = models.ForeignKey(
        AccessPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        help_text="Where it stands: its scans are at this point and its area unless a scan names another.",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=8, editable=False, help_text="The token's last characters, to tell tokens apart."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def set_token(self, token: str) -> None:
        self.token_hash = token_hash(token)
        self.token_hint = token[-4:]

    def clean(self) -> None:
        if self.event is not None and self.event.organisation_id != self.organisation_id:
            raise ValidationError({"event": "This event belongs to another organisation."})
        if self.access_point is not None and self.access_point.area.event_id != self.event_id:
            raise ValidationError({"access_point": "This access point belongs to another event."})


class Scan(models.Model):
    class Result(models.TextChoices):
        ADMITTED = "admitted", "Admitted"
        DENIED = "denied", "Denied"

    class Reason(models.TextChoices):
        NONE = "", "—"
        ALREADY_USED = "already_used", "Already used"
        INVALID = "invalid", "Ticket invalid"
        WRONG_EVENT = "wrong_event", "Wrong event"
        UNKNOWN = "unknown", "Unknown code"
        AREA_NOT_ALLOWED = "area_not_allowed", "Area not allowed"
        REISSUED = "reissued", "Reissued"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scans")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="scans")
    raw_code = models.CharField(
        max_length=200, blank=True, help_text="What the scanner read, kept when no ticket matched."
    )
    scanned_at = models.DateTimeField(default=timezone.now)
    # The names as they were when scanned (kept when an area is renamed or deleted), and the configured rows.
    access_area = models.CharField(max_length=120, blank=True)
    access_point = models.CharField(max_length=120, blank=True)
    area = models.ForeignKey(
        AccessArea, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans", db_index=False
    )
    point = models.ForeignKey(
        AccessPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans", db_index=False
    )
    result = models.CharField(max_length=8, choices=Result.choices)
    reason = models.CharField(max_length=16, choices=Reason.choices, blank=True, default="")
    device = models.CharField(max_length=120, blank=True, help_text="The scanner's name when it reported.")
    scanner = models.ForeignKey(
        ScannerDevice, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans", editable=False
    )
    client_scan_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The scanner's own ID of this scan: a re-sent upload is kept once.",
    )

    class Meta:
        ordering = ["-scanned_at", "-id"]
        indexes = [
            models.Index(fields=["ticket", "-scanned_at"], name="scan_ticket_time"),
            # The event's scan log, newest first by keyset, whole or by area or point (tickets.selectors).
            models.Index(fields=["event", "-scanned_at", "-id"], name="scan_event_time"),
            models.Index(fields=["area", "-scanned_at", "-id"], name="scan_area_time"),
            models.Index(fields=["point", "-scanned_at", "-id"], name="scan_point_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(scanned_at__gte=PLAUSIBLE_SINCE), name="scan_time_plausible"),
            models.CheckConstraint(
                condition=Q(result="admitted", reason="") | Q(result="denied") & ~Q(reason=""),
                name="scan_denied_has_reason",
            ),
            models.UniqueConstraint(
                fields=["scanner", "client_scan_id"],
                condition=~Q(client_scan_id=""),
                name="scan_unique_client_scan_id",
            ),
        ]


class PersonalDataField(models.Model):
    """A detail the organiser asks of each attendee of a ticket type that requires personal data, beside the
    attendee's name and email which every such type asks. Answers are kept in Ticket.attendee_data under the
    field's `key`, as text (a date as YYYY-MM-DD, a choice as the option's text)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        DATE = "date", "Date"
        CHOICE = "choice", "Choice"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, related_name="personal_data_fields")
    key = models.SlugField(max_length=40, help_text="Where the answer is kept in the ticket's attendee data.")
    label = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text="The options of a choice, in order.")
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["ticket_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_type", "key"], name="personal_data_field_unique_key"),
        ]

    def __str__(self) -> str:
        return self.label


class PersonalisationLink(models.Model):
    """A link sent to the customer to fill in the attendee details of their order's tickets themselves.

    The URL carries this row's id signed with SECRET_KEY (tickets.links), so it can't be guessed or altered;
    it works until `expires_at` unless revoked, and only ever for this order."""

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        GERMAN = "de", "Deutsch"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="personalisation_links")
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    recipient = models.CharField(max_length=254)
    idempotency_key = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="personalisation_link_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Personalisation link {self.pk} of {self.order_id}"

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class TicketReplacement(models.Model):
    """A ticket replaced by a new one (tickets.transfers): transferred to another person, or reissued with a new
    ticket ID and QR code. The old ticket stays, invalid ("transferred", "reissued"), so its code is still known
    at the door; the new one is issued on the same order line. A transfer can be cancelled while its new ticket
    is unused: the new ticket becomes invalid ("transfer cancelled"), the old one valid again."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        REISSUE = "reissue", "Reissue"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="ticket_replacements")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    old_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replacements")
    new_ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="replaces")
    holder_name = models.CharField(max_length=200, blank=True, help_text="A transfer's new holder.")
    holder_email = models.EmailField(max_length=254, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(
        max_length=80, blank=True, help_text="From the form that asked for it: a double submit replaces once."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            # A ticket is replaced by at most one ticket at a time (also when two requests race past the lock).
            models.UniqueConstraint(
                fields=["old_ticket"], condition=Q(status="active"), name="ticket_replacement_one_active"
            ),
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ticket_replacement_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(kind="transfer") | Q(status="active"), name="ticket_replacement_only_transfers_cancel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_ticket_id} → {self.new_ticket_id}"
