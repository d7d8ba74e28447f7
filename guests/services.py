"""Writes of the guests app."""

from __future__ import annotations

from django.db import connection, transaction

from orders.models import Order
from organiser_portal.models import Organisation

from .models import Customer, NameWord

MIN_WORD = 3  # shorter words carry too few trigrams to correct anything

# Distinct upper-cased words of order and customer names, added to the vocabulary; words already there stay.
_REFRESH_SQL = """
INSERT INTO guests_nameword (organisation_id, word)
SELECT DISTINCT organisation_id, word FROM (
    SELECT organisation_id, regexp_split_to_table(UPPER(contact_name::text), '[\\s-]+') AS word
      FROM orders_order {where}
    UNION ALL
    SELECT organisation_id, regexp_split_to_table(UPPER(name::text), '[\\s-]+') AS word
      FROM guests_customer {where}
) names
WHERE length(word) >= %s AND length(word) <= 200
ON CONFLICT (organisation_id, word) DO NOTHING
"""


def _words(name: str) -> set[str]:
    return {w for w in name.upper().replace("-", " ").split() if MIN_WORD <= len(w) <= 200}


def name_words_refresh(*, organisation: Organisation | None = None) -> int:
    """Add every word of the organisation's (or all organisations') order and customer names to NameWord.

    Safe to run any time and twice: it only adds missing words. A word whose last name was changed
    away stays; the search then finds nothing more for it, which costs one cheap query. Returns the
    number of words added.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            where = "WHERE organisation_id = %s" if organisation else ""
            params: list[int] = [organisation.pk, organisation.pk] if organisation else []
            with connection.cursor() as cur:
                cur.execute(_REFRESH_SQL.format(where=where), [*params, MIN_WORD])
                return cur.rowcount
        # The embedded SQLite default holds demo-sized data: collect the words in Python.
        orders = Order.objects.all()
        customers = Customer.objects.all()
        if organisation:
            orders, customers = orders.filter(organisation=organisation), customers.filter(organisation=organisation)
        wanted = {
            (org_id, word)
            for rows in (
                orders.values_list("organisation_id", "contact_name"),
                customers.values_list("organisation_id", "name"),
            )
            for org_id, name in rows.distinct()
            for word in _words(name)
        }
        have = set(NameWord.objects.values_list("organisation_id", "word"))
        new = [NameWord(organisation_id=org_id, word=word) for org_id, word in sorted(wanted - have)]
        NameWord.objects.bulk_create(new, ignore_conflicts=True)
        return len(new)
