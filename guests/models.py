"""Customer: a customer account within one organisation. Guest-checkout orders have none."""

from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from organiser_portal.matching import name_key
from organiser_portal.models import Organisation
from organiser_portal.phones import phone_e164
from organiser_portal.search_keys import SearchKeysModel, SearchKeysQuerySet


class Customer(SearchKeysModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    # Written from name / phone on every write (refresh_search_keys), for the search.
    name_key = models.CharField(max_length=1000, blank=True, editable=False)
    phone_e164 = models.CharField(max_length=16, blank=True, editable=False)
    address = models.TextField(blank=True)
    verified = models.BooleanField(
        default=False, help_text="The customer confirmed this email address; only they can change it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SearchKeysQuerySet["Customer"].as_manager()
    SEARCH_KEY_SOURCES = frozenset({"name", "phone", "organisation"})
    SEARCH_KEYS = ("name_key", "phone_e164")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "organisation", name="customer_unique_email_per_org"),
        ]
        indexes = [
            models.Index(Lower("email"), name="customer_email_lower"),
            # A full name, folded (name_key), newest account first, straight from the index (guests.search).
            models.Index(F("organisation"), F("name_key"), F("id").desc(), name="customer_org_name_key"),
            models.Index(fields=["phone"], name="customer_phone"),
            # The Customers list, newest account first (guests.selectors.customers_list).
            models.Index(fields=["organisation", "-id"], name="customer_org_newest"),
            models.Index(fields=["organisation", "phone_e164"], name="customer_org_phone_e164"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def refresh_search_keys(self) -> None:
        """name_key from name (organiser_portal.matching); phone_e164 from phone, read as written in the
        organisation's country, '' when it is no possible number."""
        self.name_key = name_key(self.name)
        self.phone_e164 = phone_e164(self.phone, self.organisation.country) if self.phone else ""


class NameWord(models.Model):
    """One distinct folded word (organiser_portal.matching.name_key) of the names on an organisation's orders and customer accounts.

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
