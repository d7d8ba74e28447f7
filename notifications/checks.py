"""System check: each mounted tracking webhook has the settings its email service needs (Mailgun's signing key…).

Anymail reads them when the view is built, so without this a missing one is a 500 on every delivery report.
"""

from typing import Any

from anymail.exceptions import AnymailConfigurationError
from django.core.checks import Error
from django.urls import URLPattern, get_resolver


def email_webhook_checks(**kwargs: Any) -> list[Error]:
    namespace = get_resolver().namespace_dict.get("anymail")
    if namespace is None:
        return []
    prefix, resolver = namespace
    errors = []
    for pattern in resolver.url_patterns:
        view = pattern.callback if isinstance(pattern, URLPattern) else None
        try:
            if view is not None:
                view.view_class(**view.view_initkwargs)  # type: ignore[attr-defined]
        except AnymailConfigurationError as error:
            url = f"/{prefix}{pattern.pattern}"
            errors.append(Error(f"{url} can't take reports: {error}", id="notifications.E001"))
    return errors
