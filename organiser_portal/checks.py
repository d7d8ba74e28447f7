"""The portal's own `manage.py check --deploy` checks (registered in apps.py): what Django's deploy checks
don't know about this portal. Clean output with production settings means they are safe."""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Warning
from django.core.files.storage import storages

from .deploy import sms_settings_problem, webhook_secret_problem


def check_webhook_secret(app_configs, **kwargs) -> list[CheckMessage]:
    problem = webhook_secret_problem(settings.ANYMAIL.get("WEBHOOK_SECRET", ""))
    return [Error(problem, id="organiser_portal.E001")] if problem else []


def check_sms_settings(app_configs, **kwargs) -> list[CheckMessage]:
    problem = sms_settings_problem(
        provider=settings.SMS_PROVIDER,
        account_sid=settings.TWILIO_ACCOUNT_SID,
        auth_token=settings.TWILIO_AUTH_TOKEN,
        sender=settings.TWILIO_FROM or settings.TWILIO_MESSAGING_SERVICE_SID,
    )
    return [Error(problem, id="organiser_portal.E004")] if problem else []


def check_secure_cookies(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.DEBUG or (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        return []
    return [
        Error(
            "The session and CSRF cookies are sent over plain HTTP outside DEBUG: a login can be stolen on the way.",
            hint="Serve the portal over HTTPS and leave SECURE_COOKIES unset (on outside DEBUG), or set it to 1.",
            id="organiser_portal.E002",
        )
    ]


def check_static_manifest(app_configs, **kwargs) -> list[CheckMessage]:
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        if settings.DEBUG:
            return []
        return [
            Warning(
                "Static files are served under their plain names outside DEBUG: after a release, browsers keep "
                "the old CSS from their cache.",
                hint="Leave STATIC_MANIFEST unset (on outside DEBUG) and collect with scripts/build_static.sh.",
                id="organiser_portal.W001",
            )
        ]
    if storage.manifest_storage.exists(storage.manifest_name):
        return []
    return [
        Error(
            f"{storage.manifest_name} is missing from STATIC_ROOT ({settings.STATIC_ROOT}): every page answers 500.",
            hint="Collect the static files with DEBUG off, as the Dockerfile does: scripts/build_static.sh.",
            id="organiser_portal.E003",
        )
    ]
