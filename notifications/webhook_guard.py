"""A guard around the email services' tracking webhooks: a body the portal can't use is a JSON 400, never a 500.

Anymail parses each service's body and sends one signal per event; anything it can't parse, and anything our
receiver can't use, would otherwise be a 500, which the services take as "try again later" and repeat for
days. The guard answers 400 (logged, nothing stored) for:

- a body that is not UTF-8, or larger than settings.WEBHOOK_MAX_BODY_BYTES;
- JSON that doesn't parse or nests deeper than MAX_DEPTH (Python's parser would recurse until it fails);
- a NUL character or half a UTF-16 surrogate pair in any string (PostgreSQL text can hold neither);
- an event anymail or the receiver fails on (a type it didn't expect, a value out of range).

A batch (SendGrid and SparkPost post a JSON list of events) that fails as a whole is read again one event at a
time, so its good events are still stored; storing an event is idempotent (DeliveryEvent's dedup key), so the
events stored before the failure are not stored twice. The answer is then 200 with how many were refused.

Database errors that are not about the input (the database is down, a lock timed out) still answer 5xx:
the service retries later, which is what should happen.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException

log = logging.getLogger(__name__)

# What the services post their JSON as (Amazon SNS: text/plain).
_JSON_TYPES = frozenset({"application/json", "text/plain", ""})
MAX_DEPTH = 32  # the services' events nest 5 levels at most (Amazon SES inside SNS)

# What a body the portal can't use raises in anymail's parsers and in the receiver. DataError: a value
# PostgreSQL refuses (out of range). Not DatabaseError as a whole: an outage must stay a 5xx.
# RawPostDataException: a form post to a service that reads JSON (the form was parsed, the body is gone).
INPUT_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    DataError,
    RawPostDataException,
    RecursionError,  # JSON nested too deep, posted under another content type
)


class BadBody(ValueError):
    """Why a webhook body is refused, in words for the 400's JSON and the log."""


def _depth(text: str) -> int:
    """How deep the JSON text nests, counting brackets outside strings, without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_strings(value: Any) -> None:
    """Raise BadBody when a string in the parsed JSON holds NUL or a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise BadBody("A field holds a NUL character.")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody("A field holds half a UTF-16 surrogate pair.") from None


def parsed_body(request: HttpRequest) -> Any:
    """The body's JSON when it is JSON (None for a form post, which the NUL middleware already checked).

    Raises BadBody for a body the portal can't use (see the module's docstring)."""
    if request.content_type not in _JSON_TYPES:
        return None  # a form post (Mailgun's older webhooks): its fields were checked for NUL by the middleware
    too_big = BadBody(f"The body is larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        raise too_big
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("The body is not UTF-8.") from None
    if "\x00" in text:
        raise BadBody("The body holds a NUL character.")
    if _depth(text) > MAX_DEPTH:
        raise BadBody(f"The JSON nests deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadBody(f"The body is not valid JSON: {exc.msg} at character {exc.pos}.") from None
    _check_strings(value)
    if not isinstance(value, dict | list) or value == []:
        raise BadBody("The body is not a JSON object or a list of events.")
    return value


def _refused(request: HttpRequest, reason: str) -> JsonResponse:
    log.warning("Webhook body refused at %s: %s", request.path, reason)
    return JsonResponse({"error": reason}, status=400)


def _one_event_at_a_time(view: Callable[..., HttpResponse], request: HttpRequest, events: list, *args, **kwargs):
    refused = 0
    for event in events:
        single = copy.copy(request)
        single._body = json.dumps([event]).encode()  # what HttpRequest.body returns once read
        try:
            response = _read(view, single, *args, **kwargs)
        except INPUT_ERRORS as exc:
            log.warning("Webhook event refused at %s: %r", request.path, exc)
            refused += 1
            continue
        if response.status_code >= 400:
            return response  # refused as a whole (its signature or credentials): the same for each event
    if refused == len(events):
        return _refused(request, "No event of the batch could be read.")
    return JsonResponse({"stored": len(events) - refused, "refused": refused})


def _read(view: Callable[..., HttpResponse], request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """The view's answer. A timestamp the platform can't hold is OverflowError, whatever the platform says:
    `datetime.fromtimestamp` raises OSError EOVERFLOW on Linux for some (1e17 s: a Brevo `ts_epoch` of 1e20 ms),
    which anymail's parsers don't catch. Any other OSError (the machine's, not the body's) goes on."""
    try:
        return view(request, *args, **kwargs)
    except OSError as exc:
        if exc.errno == errno.EOVERFLOW:
            raise OverflowError(str(exc)) from exc
        raise


def webhook_guard(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`view` (an anymail tracking webhook) behind the checks of this module."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            body = parsed_body(request)
        except BadBody as exc:
            return _refused(request, str(exc))
        try:
            return _read(view, request, *args, **kwargs)
        except INPUT_ERRORS as exc:
            if isinstance(body, list) and len(body) > 1:
                return _one_event_at_a_time(view, request, body, *args, **kwargs)
            return _refused(request, f"An event could not be read: {type(exc).__name__}.")

    return guarded
