"""Moments as a reader far from the server reads them: in the event's time zone, labelled with that zone.

Everything here formats; nothing converts a stored value. Pages wrap themselves in `{% timezone event.time_zone %}`;
text that leaves the portal (the ticket email, the PDF, the scanner's answer) is formatted here explicitly, because
the worker and the API render outside any page's zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.utils import formats, timezone

# The ticket email's and the PDF's full date: "Saturday 7 March 2026, 19:00".
LONG_FORMAT = "l j F Y, H:i"


def zone_of(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def in_zone(when: datetime, tz: str | tzinfo) -> datetime:
    """`when` on the clocks of `tz` (the same instant)."""
    return timezone.localtime(when, zone_of(tz))


def zone_abbreviation(local: datetime) -> str:
    """The label of a local time: "EDT", "AEDT", "IST"; zones without a letter abbreviation get their offset, "UTC+04"."""
    name = local.tzname() or ""
    return name if name[:1].isalpha() else f"UTC{name}"


def local_text(when: datetime, tz: str | tzinfo, fmt: str = LONG_FORMAT) -> str:
    """`when` in `tz`, formatted and labelled: "Saturday 7 March 2026, 19:00 EST"."""
    local = in_zone(when, tz)
    # date_format writes an aware datetime on its own clock: no second conversion to the active zone.
    return f"{formats.date_format(local, fmt)} {zone_abbreviation(local)}"


def span_text(starts: datetime, ends: datetime, tz: str | tzinfo) -> tuple[str, str]:
    """An event's start and end as two labelled texts; the end drops its date on the same day, and the start drops
    its label when the end carries the same one: ("Saturday 7 March 2026, 19:00", "23:00 EST"). An event that runs
    across a daylight-saving change keeps a label on each side: ("… 01:00 EST", "04:00 EDT")."""
    local_start, local_end = in_zone(starts, tz), in_zone(ends, tz)
    start_label, end_label = zone_abbreviation(local_start), zone_abbreviation(local_end)
    end_format = "H:i" if local_start.date() == local_end.date() else LONG_FORMAT
    start = formats.date_format(local_start, LONG_FORMAT)
    if start_label != end_label:
        start = f"{start} {start_label}"
    return start, f"{formats.date_format(local_end, end_format)} {end_label}"
