"""Customer: a customer account within one organisation. Guest-checkout orders have none."""

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower, Upper

from organiser_portal.models import Organisation


class Customer(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="customers")
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
            models.UniqueConstraint(Lower("email"), "organisation", name="customer_unique_email_per_org"),
        ]
        indexes = [
            models.Index(Lower("email"), name="customer_email_lower"),
            # A full name as typed, newest account first, straight from the index (guests.search).
            models.Index(F("organisation"), Upper("name"), F("id").desc(), name="customer_org_name"),
            models.Index(fields=["phone"], name="customer_phone"),
            # The Customers list, newest account first (guests.selectors.customers_list).
            models.Index(fields=["organisation", "-id"], name="customer_org_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class NameWord(models.Model):
    """One distinct upper-cased word of the names on an organisation's orders and customer accounts.

    The vocabulary the search box corrects a misspelt name against (pg_trgm's recipe): a trigram
    lookup over a few thousand words costs ~1 ms, over a million names ~1 s. Filled by
    guests.services.name_words_refresh (periodic task, and after the seed commands).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "word"], name="nameword_unique_per_org")]

    def __str__(self) -> str:
        return self.word
