"""Short public identifiers that people read aloud and type: order codes, ticket IDs, event IDs.

The alphabet leaves out characters that are easy to confuse (0/O, 1/I/L, 5/S, 2/Z, 8/B).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def new_code(length: int) -> str:
    """`length` characters of ALPHABET, uniformly random: one draw below 25^length written in base 25 (a draw
    per character cost an import of 100,000 tickets seconds of CPU)."""
    n = secrets.randbelow(len(ALPHABET) ** length)
    chars = []
    for _ in range(length):
        n, digit = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def new_secret() -> str:
    """An unguessable token for QR codes: short enough for a small QR, 160 bits of entropy."""
    return secrets.token_urlsafe(20)


ORDER_CODE_LENGTH = 7
TICKET_ID_LENGTH = 9
EVENT_ID_LENGTH = 6


def new_order_code() -> str:
    return new_code(ORDER_CODE_LENGTH)


def new_ticket_id() -> str:
    return new_code(TICKET_ID_LENGTH)


def new_event_id() -> str:
    return new_code(EVENT_ID_LENGTH)


# Attempts at a row with fresh codes: a second collision in a row is one in tens of millions at a million orders.
CODE_ATTEMPTS = 5


def with_fresh_codes(create: Callable[[], T], *, collided: Callable[[], bool], attempts: int = CODE_ATTEMPTS) -> T:
    """`create()` in a savepoint, called again (it must draw new codes each call) when it fails because a code
    was already taken, which `collided()` tells after the failure (it looks the codes up: no database's error
    text needs reading). Any other IntegrityError, or a collision `attempts` times over, is raised.

    Order codes are unique per organisation in 25⁷ ≈ 6.1 billion: at a million orders, one new order in
    ~6,100 drew a code in use and failed before this (issue 16). Call it inside the caller's transaction.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return create()
        except IntegrityError:
            if attempt == attempts or not collided():
                raise
            log.info("A new code collided with one in use (attempt %s): drawing again", attempt)
    raise AssertionError("unreachable")
