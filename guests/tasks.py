"""Celery tasks: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def name_words_refresh() -> int:
    """Keep the search box's typo vocabulary current (run by beat, see CELERY_BEAT_SCHEDULE)."""
    return services.name_words_refresh()
