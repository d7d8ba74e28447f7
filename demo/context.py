"""What the demo's story steps (crowd, mail, money, scans) read from the order story that runs them.

Protocols rather than the classes themselves, so the steps depend on this small module and not on
demo/story.py, which calls them: the demo's imports run one way like the product's.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from organiser_portal.models import Event

from .clock import Clock

if TYPE_CHECKING:
    from orders.services import LineRequest
    from organiser_portal.models import TicketType

    from .people import People


class Builder(Protocol):
    """The demo as a whole: its clock's "now", its people and its identifiers."""

    rng: random.Random
    now: datetime
    people: People
    users: dict[str, Any]

    def code(self, length: int) -> str: ...


class StoryContext(Protocol):
    """One event's order stories: the generator, the demo clock, the event and who acts on its orders."""

    b: Builder
    rng: random.Random
    clock: Clock
    event: Event
    ticket_types: list[TicketType]
    staff: list[Any]
    agents: list[Any]

    def sale_time(self, story: str, mail: str) -> datetime: ...

    def lines(self, story: str) -> list[LineRequest]: ...
