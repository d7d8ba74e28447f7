"""Who is trying to log in, as django-axes counts failures (settings: AXES_*, TRUSTED_PROXY_COUNT)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n > 0 the address the n-th proxy from
    us saw (the n-th entry from the right of X-Forwarded-For; REMOTE_ADDR when the header is shorter). Entries
    further left were written by the client and are never read."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def username(request: HttpRequest, credentials: dict | None) -> str:
    """The email address tried, as the login form takes it (case-insensitively), so "Anna@x" and "anna@x"
    count as one."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()[:254]
