"""Where a page goes back to: a `next` parameter, taken only when it is a path on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it is a path on this site ("/o/…", its query kept), else None: another host, a scheme, a
    protocol-relative "//host", or anything `redirect()` would read as a URL name or a relative URL ("orders",
    "x.html") is ignored."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    if not url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return None
    return url
