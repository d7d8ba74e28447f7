"""Requests no page can answer, refused before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

# Machines' endpoints answer in JSON (the scanner API, the email services' webhooks).
_JSON_PREFIXES = ("/api/", "/anymail/")
_NUL = "\x00"


def _has_nul(request: HttpRequest) -> bool:
    if _NUL in request.path:
        return True
    if any(_NUL in key or any(_NUL in value for value in values) for key, values in request.GET.lists()):
        return True
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return any(
            _NUL in key or any(_NUL in v for v in values if isinstance(v, str)) for key, values in request.POST.lists()
        )
    return False


class RefuseNulBytes:
    """A NUL byte (U+0000, `%00`) in the path, the query string or a form field answers 400 with a message.

    No order code, ticket ID, event ID, search or form value holds one, and PostgreSQL text can't store one:
    before, such a request reached the database and answered 500 (an attack review found it in every order
    URL, the search box and the email-status poll). JSON bodies are the API's own to check (tickets.api).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _has_nul(request):
            return self.get_response(request)
        detail = "The request holds a NUL byte (%00), which no order code, ID, search or form field may contain."
        if request.path.startswith(_JSON_PREFIXES):
            return JsonResponse({"error": "bad_request", "detail": detail}, status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
