"""Writes of the guests app."""

from __future__ import annotations

from django.db import transaction

from organiser_portal.models import Organisation

from . import sql

MIN_WORD = 3  # shorter words carry too few trigrams to correct anything


def name_words_refresh(*, organisation: Organisation | None = None) -> int:
    """Add every word of the organisation's (or all organisations') order and customer names to NameWord.

    Safe to run any time and twice: it only adds missing words. A word whose last name was changed
    away stays; the search then finds nothing more for it, which costs one cheap query. Returns the
    number of words added.
    """
    with transaction.atomic():
        return sql.name_words_insert(organisation_id=organisation.pk if organisation else None, min_length=MIN_WORD)
