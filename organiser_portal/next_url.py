"""Where a page goes back to: a `next` parameter, taken only when it is a page of this organisation on this site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, url: str | None, org: str) -> str | None:
    """`url` when it is a path of the organisation `org` (its slug) on this site ("/o/<org>/…", its query kept),
    else None: another host, a scheme, a protocol-relative "//host", anything `redirect()` would read as a URL
    name or a relative URL ("orders", "x.html"), another organisation's page or a page outside the organisations
    ("/o/other/…", "/accounts/…"), a control character (a browser drops a tab or a newline from a link), or a
    "." or ".." segment, written or percent-encoded, that a browser would resolve out of `/o/<org>/`."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    if not url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return None
    segments = unquote(urlsplit(url).path).replace("\\", "/").split("/")
    if any(segment in (".", "..") for segment in segments) or segments[1:3] != ["o", org] or len(segments) < 4:
        return None
    return url
