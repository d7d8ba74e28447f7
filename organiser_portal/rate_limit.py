"""Rate limits for the public pages (the customer's tickets page, "Find my tickets"): at most `count` requests per
`seconds` for one key (a client's address, an email address), counted in the Redis cache.

A fixed window: the counter of the current window (`seconds` long) is created by the first request and
expires with the window. Keys are hashed, so no email address is stored in Redis. When the cache can't be
reached the request is let through and the outage logged: a public page must not fail because Redis does
(the caller decides whether an action is too costly to allow unlimited, `when_down`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimit:
    """At most `count` requests per `seconds` for one key of the limit `name`."""

    name: str
    count: int
    seconds: int

    @classmethod
    def from_setting(cls, name: str, text: str) -> RateLimit:
        """From "<count>/<seconds>" (settings: RATE_LIMITS); ValueError for anything else."""
        count, _, seconds = text.partition("/")
        limit = cls(name, int(count), int(seconds))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError(f"Rate limit {name}: {text!r} is not <count>/<seconds> with both at least 1")
        return limit


def rate_limit(name: str) -> RateLimit:
    """The limit `name` as settings.RATE_LIMITS sets it."""
    return RateLimit.from_setting(name, settings.RATE_LIMITS[name])


def _key(limit: RateLimit, who: str, now: float) -> str:
    digest = hashlib.sha256(f"{settings.RATE_LIMIT_NAMESPACE}:{who}".encode()).hexdigest()[:32]
    return f"rate:{limit.name}:{digest}:{int(now // limit.seconds)}"


def rate_limit_allows(limit: RateLimit, who: str, *, when_down: bool = True) -> bool:
    """Count one request of `who` (a client's address, an email address) and say whether it is within the
    limit. When the cache can't be reached: `when_down`."""
    key = _key(limit, who, time.time())
    try:
        if cache.add(key, 1, limit.seconds + 1):
            return True
        try:
            count = cache.incr(key)
        except ValueError:  # the window ended between add and incr: this is the new window's first request
            cache.add(key, 1, limit.seconds + 1)
            return True
    except Exception as error:  # whatever the backend raises: the public page answers anyway
        log.warning("Rate limit %s not counted, the cache can't be reached: %s", limit.name, error)
        return when_down
    return count <= limit.count
