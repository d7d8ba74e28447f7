"""The tracking webhooks of the email services in settings.EMAIL_WEBHOOKS, at /anymail/<service>/tracking/.

Only those are mounted: anymail's view of a service the portal doesn't use fails on its missing settings
(a 500 to anyone who asks), and it would accept reports about messages that service never sent.
Inbound email is not used by the portal, so no inbound URL is mounted either.
"""

from anymail.urls import urlpatterns as anymail_urlpatterns
from django.conf import settings
from django.urls import URLPattern, path

from .webhook_guard import webhook_guard
from .webhooks import recorded_together

app_name = "anymail"  # reverse("anymail:postmark_tracking_webhook"), as anymail's own URLs are named


def tracking_urlpatterns(services: tuple[str, ...]) -> list[URLPattern]:
    """Anymail's tracking webhooks of `services`, each behind webhook_guard (a body it can't use is a 400),
    a request's events recorded together (webhooks.recorded_together)."""
    # Mandrill's one combined endpoint is named "mandrill_webhook" (plus its older tracking alias).
    names = {f"{service}_{kind}" for service in services for kind in ("tracking_webhook", "webhook")}
    return [
        path(str(pattern.pattern), webhook_guard(recorded_together(pattern.callback)), name=pattern.name)
        for pattern in anymail_urlpatterns
        if isinstance(pattern, URLPattern) and pattern.name in names
    ]


urlpatterns = tracking_urlpatterns(tuple(settings.EMAIL_WEBHOOKS))
