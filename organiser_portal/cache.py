"""The cache for values that can always be computed again (rendered PDFs), so that Redis being down or
hanging never fails a page: a read that fails is a miss, a write that fails is dropped.

Only for values stored under a key derived from their content, which nothing ever invalidates: a dropped
write then can't leave a stale value behind that comes back with Redis.

After a failure the cache is left alone for `retry_after` seconds, so a Redis that hangs costs one socket
timeout (CACHES in settings.py) per process and window, not one per call. An outage is logged at warning
once, when it starts, and its end at info.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches

log = logging.getLogger(__name__)


class BestEffortCache:
    def __init__(self, alias: str = DEFAULT_CACHE_ALIAS, *, retry_after: float = 30.0) -> None:
        self.alias = alias
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    def get(self, key: str) -> Any | None:
        """The cached value, or None when there is none or the cache can't be reached."""
        if not self._worth_trying():
            return None
        try:
            value = caches[self.alias].get(key)
        except Exception as error:  # whatever the backend raises: the value can be computed again
            self._failed(error)
            return None
        self._answered()
        return value

    def set(self, key: str, value: Any, timeout: float) -> None:
        """Keep the value for `timeout` seconds if the cache can be reached; otherwise drop it."""
        if not self._worth_trying():
            return
        try:
            caches[self.alias].set(key, value, timeout)
        except Exception as error:
            self._failed(error)
            return
        self._answered()

    def _worth_trying(self) -> bool:
        return not self._down or time.monotonic() >= self._retry_at

    def _failed(self, error: Exception) -> None:
        with self._lock:
            started = not self._down
            self._down, self._retry_at = True, time.monotonic() + self.retry_after
        if started:
            log.warning(
                "Cache %r unavailable, working without it and trying again every %g s: %s",
                self.alias,
                self.retry_after,
                error,
            )

    def _answered(self) -> None:
        if self._down:
            with self._lock:
                ended, self._down = self._down, False
            if ended:
                log.info("Cache %r answers again", self.alias)
