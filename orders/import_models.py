"""ImportRun: one upload of an order file into an event (orders.imports). A model of the orders app, kept beside
orders/models.py, which re-exports it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from organiser_portal.models import Event, Organisation


class ImportRun(models.Model):
    """One upload of orders sold elsewhere into an event (orders.imports): the file as uploaded, what its
    check found, and how far the import is. Rows are read again from `content` when the import runs, so the
    confirm step needs no second upload.

    `errors` is a list of {"row": file row number (1 is the header), "reference", "message"}, at most
    MAX_ERRORS of them (`error_count` counts them all). `progress` counts the orders written so far."""

    class Status(models.TextChoices):
        CHECKED = "checked", "Checked"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    MAX_ERRORS = 1000

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="import_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CHECKED)
    send_tickets = models.BooleanField(default=False)
    row_count = models.PositiveIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    ticket_count = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0, help_text="Orders of the file imported before.")
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    failure = models.CharField(max_length=500, blank=True, help_text="Why the import stopped, when it failed.")
    progress = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["event", "-created_at"], name="import_run_event_created")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.file_name})"

    @property
    def can_start(self) -> bool:
        """Checked, without an error, and with something to create."""
        return self.status == self.Status.CHECKED and self.error_count == 0 and self.order_count > 0

    @property
    def by_name(self) -> str:
        """Who uploaded it, as the page names them."""
        user = self.created_by
        return (user.get_full_name() or user.username) if user is not None else "—"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
