"""Row ids as someone typed or posted them (a form field, a provider's metadata)."""

from __future__ import annotations

import re

# ASCII digits within PostgreSQL's bigint. str.isdigit() also says yes to "²" (int() then fails) and to "١٢"
# (int() reads it), and an unbounded number overflows the query.
_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: object) -> int | None:
    """The id `value` names: an int for a string of 1–18 ASCII digits (or an int in that range), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None
