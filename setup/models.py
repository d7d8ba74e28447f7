"""What was changed in an organisation's setup, by whom and when: the audit list of the Team and event settings."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from organiser_portal.models import Event, Organisation


class AuditEntry(models.Model):
    """One change that matters (a role changed, a member removed, "send tickets automatically" switched …),
    written by the setup service in the same transaction as the change. Append-only.

    `action` is a namespaced code ("member.role_changed"); `data` keeps what the list shows (names, old → new).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="audit_org_created"),
            models.Index(fields=["event", "-created_at"], name="audit_event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d %H:%M}"
