"""A settable clock for building demo history: while it runs, `django.utils.timezone.now()` (and so every
`default=timezone.now`, `auto_now` and service that stamps a time) answers the story's time instead of
the real one, so services write the timeline as it would have happened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo

from django.utils import timezone as django_timezone


class Clock:
    def __init__(self) -> None:
        self.at: datetime | None = None


@contextmanager
def demo_clock() -> Iterator[Clock]:
    clock = Clock()
    real: type[datetime] = getattr(django_timezone, "datetime")  # noqa: B009 (not in the stubs)

    class ClockDatetime(real):  # type: ignore[misc,valid-type]
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:
            if clock.at is None:
                return real.now(tz)
            return clock.at.astimezone(tz) if tz is not None else clock.at.replace(tzinfo=None)

    setattr(django_timezone, "datetime", ClockDatetime)  # noqa: B010
    try:
        yield clock
    finally:
        setattr(django_timezone, "datetime", real)  # noqa: B010
