"""What operators read: a request id on every log line and response, JSON logs, and Sentry when configured.

- Every request gets an id: the proxy's `X-Request-ID` when it is a sane token (letters, digits, `-`, `_`,
  `.`, up to 64 characters), else a new one (32 hex digits). It is answered in `X-Request-ID` and carried by
  every log line written while the request runs (`request_id`; "-" outside a request, e.g. in a worker).
- `LOG_FORMAT=json` (the default outside DEBUG) writes one JSON object per line with `time` (ISO 8601, UTC, Z),
  `level`, `logger`, `message`, `request_id` and any exception; `text` (the default with DEBUG) a readable line.
- With `SENTRY_DSN` set, errors and unhandled exceptions go to Sentry (sentry-sdk's Django and Celery
  integrations), tagged with the request id; no personal data (`send_default_pii` off).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request_id() -> str:
    """The id of the request being answered, "-" outside one."""
    return _request_id.get()


def _given_or_new(given: str) -> str:
    return given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex


def request_started(sender: Any, environ: dict | None = None, **kwargs: Any) -> None:
    """Signal receiver (django.core.signals.request_started, WSGI): the request's id, set before any middleware
    runs, so Django's own lines about the request ("Not Found: …", written after the middleware) carry it too."""
    _request_id.set(_given_or_new((environ or {}).get("HTTP_X_REQUEST_ID", "")))


def request_finished(sender: Any, **kwargs: Any) -> None:
    """Signal receiver (django.core.signals.request_finished): lines after the answer belong to no request."""
    _request_id.set("-")


class RequestId:
    """Middleware: answers the request's id in X-Request-ID and keeps it on the request (request.request_id)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id.get()
        if request_id == "-":  # a request made without the handler's signals (RequestFactory in tests)
            request_id = _given_or_new(request.headers.get(REQUEST_ID_HEADER, ""))
            _request_id.set(request_id)
        request.request_id = request_id  # type: ignore[attr-defined]
        _tag_sentry(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (logging config: filters → request_id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def _utc(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


class UtcTextFormatter(logging.Formatter):
    """Times in UTC, whatever the process's time zone (Django sets TZ to settings.TIME_ZONE)."""

    converter = staticmethod(_utc)


def _json_formatter(**kwargs: Any) -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class UtcJsonFormatter(JsonFormatter):
        converter = staticmethod(_utc)

    return UtcJsonFormatter(**kwargs)


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    """settings.LOGGING for `fmt` "json" or "text". Raises ValueError for another format."""
    if fmt not in ("json", "text"):
        raise ValueError(f"LOG_FORMAT must be 'json' or 'text', not {fmt!r}.")
    formatters = {
        "json": {
            "()": "organiser_portal.observability._json_formatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%SZ",
        },
        "text": {
            "()": "organiser_portal.observability.UtcTextFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%SZ",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "organiser_portal.observability.RequestIdFilter"}},
        "formatters": {fmt: formatters[fmt]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": level},
        # axes says at INFO that each successful login cleared no failures: noise; its failures are WARNINGs.
        # twilio's HTTP client logs every request's headers at INFO: noise; the outbox logs what matters.
        "loggers": {
            "weasyprint": {"level": "ERROR"},
            "fontTools": {"level": "ERROR"},
            "axes": {"level": "WARNING"},
            "twilio.http_client": {"level": "WARNING"},
        },
    }


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Start sentry-sdk when `dsn` is set; returns whether it started. Its Django and Celery integrations
    are enabled by sentry-sdk itself when those packages are installed."""
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
    )
    return True


def _tag_sentry(request_id: str) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - installed with the portal
        return
    if sentry_sdk.get_client().is_active():
        sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)
