"""Columns derived from others for the search (a folded name, a phone number in E.164), written with their
source on every write, never by hand.

A model that has them inherits `SearchKeysModel`, names its source and derived fields and computes them in
`refresh_search_keys()`; its manager comes from `SearchKeysQuerySet`. Then `save()` (also with
`update_fields` naming a source field), `objects.create()`, `objects.bulk_create()` and
`objects.bulk_update()` all write the derived columns. `QuerySet.update()` of a source field bypasses
them: nothing in the product does that (tests/organiser_portal/test_search_keys.py checks each write path).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db import models

M = TypeVar("M", bound="SearchKeysModel")


class SearchKeysModel(models.Model):
    SEARCH_KEY_SOURCES: ClassVar[frozenset[str]] = frozenset()  # the fields the keys are computed from
    SEARCH_KEYS: ClassVar[tuple[str, ...]] = ()  # the fields refresh_search_keys writes

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.refresh_search_keys()
        elif self.SEARCH_KEY_SOURCES & set(update_fields):
            self.refresh_search_keys()
            kwargs["update_fields"] = [*update_fields, *(f for f in self.SEARCH_KEYS if f not in update_fields)]
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        """Set the derived fields from their sources (in memory; the caller saves)."""
        raise NotImplementedError


class SearchKeysQuerySet(models.QuerySet[M]):
    """bulk_create and bulk_update that write the derived search keys with their sources."""

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        objs = list(objs)
        for obj in objs:
            obj.refresh_search_keys()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[M], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)
        if objs and objs[0].SEARCH_KEY_SOURCES & set(fields):
            for obj in objs:
                obj.refresh_search_keys()
            fields += [f for f in objs[0].SEARCH_KEYS if f not in fields]
        return super().bulk_update(objs, fields, batch_size=batch_size)
