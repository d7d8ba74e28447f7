"""Which email service sends, read from the environment: EMAIL_SERVICE and that service's own variables.

EMAIL_SERVICE names any email service django-anymail supports (postmark, mailgun, amazon_ses, sendgrid,
brevo, mailjet, sparkpost, resend, …), or a local one: `sandbox` (the embedded default: files in var/mail/
plus delivery reports played back through the webhook), `file`, `smtp` or `console`. The chosen service's
settings are passed through as they are named in anymail's documentation: every `<SERVICE>_<SETTING>` and
`ANYMAIL_<SERVICE>_<SETTING>` variable (MAILGUN_API_KEY, ANYMAIL_SENDGRID_API_KEY …) lands in ANYMAIL.
Only the chosen service's tracking webhook is mounted (notifications/urls.py): an unmounted service's
URL is a 404, not an anymail view that fails on its missing configuration.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .deploy import DEMO_WEBHOOK_SECRET

LOCAL_BACKENDS = {
    "sandbox": "notifications.sandbox.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
# The sandbox's delivery reports are shaped as Postmark's and come in through its tracking webhook.
SANDBOX_WEBHOOK = "postmark"
SANDBOX_WEBHOOK_SECRET = DEMO_WEBHOOK_SECRET
_NOT_SERVICES = {"__init__", "base", "base_requests", "console", "test"}


def _anymail_modules(package: str) -> frozenset[str]:
    """The service modules in anymail.<package> (found without importing anymail, which needs settings)."""
    spec = importlib.util.find_spec("anymail")
    if spec is None or spec.origin is None:
        return frozenset()
    return frozenset(p.stem for p in (Path(spec.origin).parent / package).glob("*.py") if p.stem not in _NOT_SERVICES)


def anymail_services() -> frozenset[str]:
    """Every email service the installed anymail has a backend for."""
    return _anymail_modules("backends")


@dataclass(frozen=True)
class EmailConfig:
    service: str  # an anymail service, a LOCAL_BACKENDS key, or "custom" (EMAIL_BACKEND names a class)
    backend: str
    webhooks: tuple[str, ...]  # the services whose tracking webhooks are mounted
    anymail: dict[str, Any] = field(default_factory=dict)


def _value(raw: str) -> Any:
    """JSON objects, lists and true/false become what they say (AMAZON_SES_CLIENT_PARAMS, *_TRACK_* flags)."""
    if raw[:1] in "{[" or raw.lower() in ("true", "false"):
        try:
            return json.loads(raw.lower() if raw.lower() in ("true", "false") else raw)
        except ValueError:
            pass
    return raw


def _service_from_backend(backend: str) -> str:
    """EMAIL_BACKEND, as set before EMAIL_SERVICE existed, read as the service it names."""
    parts = backend.split(".")
    if len(parts) == 4 and parts[:2] == ["anymail", "backends"]:
        return parts[2]
    return next((name for name, path in LOCAL_BACKENDS.items() if path == backend), "custom")


def email_config(environ: Mapping[str, str]) -> EmailConfig:
    backend = environ.get("EMAIL_BACKEND", "")
    service = environ.get("EMAIL_SERVICE", "").strip().lower() or (
        _service_from_backend(backend) if backend else "sandbox"
    )
    services = anymail_services()
    reporting = services & _anymail_modules("webhooks")  # Scaleway, for one, has no tracking webhook
    if service in LOCAL_BACKENDS:
        backend = LOCAL_BACKENDS[service]
    elif service in services:
        backend = f"anymail.backends.{service}.EmailBackend"
    elif service == "custom" and not backend:
        raise ImproperlyConfigured("EMAIL_SERVICE=custom needs EMAIL_BACKEND (the email backend's dotted path)")
    elif service != "custom":
        known = ", ".join(sorted(services | LOCAL_BACKENDS.keys()))
        raise ImproperlyConfigured(f"EMAIL_SERVICE={service!r} is not an email service; choose one of: {known}")

    anymail: dict[str, Any] = {}
    prefix = service.upper() + "_"
    for name, raw in environ.items():
        if name.startswith("ANYMAIL_"):
            anymail[name.removeprefix("ANYMAIL_")] = _value(raw)
        elif service in services and name.startswith(prefix):
            anymail.setdefault(name, _value(raw))
    if service == "amazon_ses" and "AWS_REGION" in environ:
        anymail.setdefault("AMAZON_SES_CLIENT_PARAMS", {"region_name": environ["AWS_REGION"]})
    if service == "sandbox":
        anymail.setdefault("WEBHOOK_SECRET", SANDBOX_WEBHOOK_SECRET)
    elif service in reporting and not anymail.get("WEBHOOK_SECRET"):
        # Without it anymail accepts anyone's delivery reports: a forged "delivered" would hide a bounce.
        raise ImproperlyConfigured(
            f"EMAIL_SERVICE={service} needs ANYMAIL_WEBHOOK_SECRET (user:password for its tracking webhook)"
        )

    default_webhooks = (SANDBOX_WEBHOOK,) if service == "sandbox" else (service,) if service in reporting else ()
    listed = [w.strip().lower() for w in environ.get("EMAIL_WEBHOOKS", "").split(",") if w.strip()]
    unknown = sorted(set(listed) - reporting)
    if unknown:
        raise ImproperlyConfigured(
            f"EMAIL_WEBHOOKS names no email service anymail has a webhook for: {', '.join(unknown)}"
        )
    return EmailConfig(service=service, backend=backend, webhooks=tuple(listed) or default_webhooks, anymail=anymail)
