"""Guest: a customer account within one organisation. Guest-checkout orders have none."""

from django.db import models
from django.db.models.functions import Lower, Upper

from organiser_portal.models import Organisation


class Guest(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="guests")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    verified = models.BooleanField(
        default=False, help_text="The customer confirmed this email address; only they can change it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "organisation", name="guest_unique_email_per_org"),
        ]
        indexes = [
            models.Index(Lower("email"), name="guest_email_lower"),
            models.Index(Upper("name"), name="guest_name_upper"),
            models.Index(fields=["phone"], name="guest_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
