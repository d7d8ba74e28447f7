"""The guests app's hand-written SQL, with its portable form (the search keeps its own, in search.py): the
name vocabulary (NameWord), its refresh and the lookup of the words spelt like a word typed.

`organiser_portal.db.is_postgres` decides which form runs; tests/guests/test_sql_forms.py runs both on the
same data.
"""

from __future__ import annotations

from difflib import get_close_matches

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import F, TextField
from django.db.models.functions import Cast, Upper

from orders.models import Order
from organiser_portal.db import Table, is_postgres
from organiser_portal.matching import fold

from .models import Customer, NameWord

ORDER, CUSTOMER, NAME_WORD = Table(Order), Table(Customer), Table(NameWord)
MAX_WORD = NameWord._meta.get_field("word").max_length or 200

# Distinct folded words (name_key) of order and customer names, added to the vocabulary; words already there stay.
_NAME_WORDS_SQL = f"""
INSERT INTO {NAME_WORD} ({NAME_WORD.organisation}, {NAME_WORD.word})
SELECT DISTINCT organisation_id, word FROM (
    SELECT {ORDER.organisation} AS organisation_id,
           regexp_split_to_table({ORDER.name_key}::text, '[\\s-]+') AS word
      FROM {ORDER} {{where_order}}
    UNION ALL
    SELECT {CUSTOMER.organisation} AS organisation_id,
           regexp_split_to_table({CUSTOMER.name_key}::text, '[\\s-]+') AS word
      FROM {CUSTOMER} {{where_customer}}
) names
WHERE length(word) >= %s AND length(word) <= {MAX_WORD}
ON CONFLICT ({NAME_WORD.organisation}, {NAME_WORD.word}) DO NOTHING
"""
_NAME_WORDS = {
    False: _NAME_WORDS_SQL.format(where_order="", where_customer=""),
    True: _NAME_WORDS_SQL.format(
        where_order=f"WHERE {ORDER.organisation} = %s", where_customer=f"WHERE {CUSTOMER.organisation} = %s"
    ),
}


def name_words_insert(*, organisation_id: int | None, min_length: int) -> int:
    """Add every word (`min_length` to MAX_WORD letters) of the organisation's (or, for None, all
    organisations') order and customer names to NameWord; words already there stay. Returns how many were added."""
    if is_postgres():
        params = [organisation_id, organisation_id] if organisation_id is not None else []
        with connection.cursor() as cursor:
            cursor.execute(_NAME_WORDS[organisation_id is not None], [*params, min_length])
            return cursor.rowcount
    # The portable form: the embedded SQLite default holds demo-sized data, so the words are collected in Python.
    orders, customers = Order.objects.all(), Customer.objects.all()
    if organisation_id is not None:
        orders, customers = (
            orders.filter(organisation_id=organisation_id),
            customers.filter(organisation_id=organisation_id),
        )
    wanted = {
        (org_id, word)
        for rows in (
            orders.values_list("organisation_id", "name_key"),
            customers.values_list("organisation_id", "name_key"),
        )
        for org_id, key in rows.distinct()
        for word in key.replace("-", " ").split()
        if min_length <= len(word) <= MAX_WORD
    }
    have = set(NameWord.objects.values_list("organisation_id", "word"))
    new = [NameWord(organisation_id=org_id, word=word) for org_id, word in sorted(wanted - have)]
    NameWord.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def similar_words(organisation_id: int, word: str, *, limit: int = 2) -> list[str]:
    """The words of the organisation's names spelt most like `word`, folded (matching.fold), most similar
    first: pg_trgm's `%` over NameWord's trigram index on PostgreSQL, otherwise difflib over the same words."""
    word = fold(word)
    words = NameWord.objects.filter(organisation_id=organisation_id)
    if is_postgres():
        upper = Upper(Cast(F("word"), TextField()))  # what the trigram index is built on (migration_ops.trigram_index)
        return list(
            words.alias(word_upper=upper)
            .filter(word_upper__trigram_similar=word.upper())
            .annotate(similarity=TrigramSimilarity(upper, word.upper()))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)[:limit]
        )
    return get_close_matches(word, list(words.values_list("word", flat=True)), n=limit, cutoff=0.75)
