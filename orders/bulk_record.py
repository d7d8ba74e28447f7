"""The record of a bulk send (orders/bulk.py): one row per confirmed job, its progress and what it skipped."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from organiser_portal.models import Event, Organisation


class BulkSend(models.Model):
    """One bulk send on an event's guest list: held tickets released, or tickets resent, for many orders at once.

    Confirmed once (orders/bulk.py): `order_ids` are the orders that were to be sent then, in the order they go.
    A task works through them from `position`, each through the order's own service with the idempotency key
    `message_key`, and keeps the counts here so the progress bar survives a reload and a
    task killed halfway goes on where it stopped without sending anything twice.
    """

    class Action(models.TextChoices):
        SEND_HELD = "send_held", "Send held tickets"
        RESEND = "resend", "Resend tickets"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Queueing emails"
        DONE = "done", "Done"
        FAILED = "failed", "Stopped by an error"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bulk_sends")
    action = models.CharField(max_length=16, choices=Action.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    order_ids = models.JSONField(default=list, help_text="The orders to send, in sending order.")
    total = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0, help_text="How many of order_ids have been worked through.")
    done = models.PositiveIntegerField(default=0, help_text="Orders whose email was queued.")
    skipped = models.PositiveIntegerField(default=0)
    # Orders left out: at confirmation (the confirmation listed them) and on the way ({code, reason}).
    skipped_orders = models.JSONField(default=list, blank=True)
    addresses = models.PositiveIntegerField(default=0, help_text="Distinct addresses at confirmation.")
    per_minute = models.PositiveIntegerField(help_text="Emails handed to the email service per minute.")
    first_send_at = models.DateTimeField(default=timezone.now, help_text="When the first email is due.")
    error = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=80, help_text="From the confirmation form: one job per submit.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["event", "-created_at"], name="bulk_send_event_created")]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "idempotency_key"], name="bulk_send_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.total} order{'' if self.total == 1 else 's'}"

    @property
    def message_key(self) -> str:
        """The idempotency key of this job's message on each order (keys are unique per order): a task run again
        after a crash finds the message it queued and queues nothing twice."""
        return f"bulk-{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.position / self.total)
