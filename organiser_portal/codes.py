"""Short public identifiers that people read aloud and type: order codes, ticket IDs, event IDs.

The alphabet leaves out characters that are easy to confuse (0/O, 1/I/L, 5/S, 2/Z, 8/B).
"""

import secrets

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def new_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


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
