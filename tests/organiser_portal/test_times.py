"""organiser_portal.times: the event's clocks and their label, whatever zone is active."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from organiser_portal.times import local_text, span_text, zone_abbreviation


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize("active", ["Europe/Berlin", "UTC", "Pacific/Auckland"])
def test_local_text_is_on_the_events_clocks_whatever_zone_is_active(active):
    with timezone.override(active), translation.override("en"):
        assert local_text(utc(2026, 3, 8, 0, 0), "America/New_York") == "Saturday 7 March 2026, 19:00 EST"


@pytest.mark.parametrize(
    ("when", "zone", "label"),
    [
        (utc(2026, 11, 1, 5, 30), "America/New_York", "EDT"),  # the first 01:30 of the night clocks go back
        (utc(2026, 11, 1, 6, 30), "America/New_York", "EST"),  # the second
        (utc(2026, 7, 1, 12, 0), "Asia/Kolkata", "IST"),
        (utc(2026, 7, 1, 12, 0), "Asia/Dubai", "UTC+04"),  # the zone database has no letters for it
        (utc(2026, 7, 1, 12, 0), "UTC", "UTC"),
    ],
)
def test_zone_abbreviation(when, zone, label):
    assert zone_abbreviation(when.astimezone(ZoneInfo(zone))) == label


def test_span_text_labels_once_on_one_day_and_each_side_across_a_change():
    with translation.override("en"):
        assert span_text(utc(2026, 7, 1, 17, 0), utc(2026, 7, 1, 21, 0), "Europe/Berlin") == (
            "Wednesday 1 July 2026, 19:00",
            "23:00 CEST",
        )
        assert span_text(utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0), "Europe/Berlin") == (
            "Sunday 29 March 2026, 01:00 CET",
            "04:00 CEST",
        )
