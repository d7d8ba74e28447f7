from django.apps import AppConfig
from django.core.checks import Tags, register
from django.core.signals import request_finished, request_started

from . import checks, observability


class OrganiserPortalConfig(AppConfig):
    name = "organiser_portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        register(checks.check_webhook_secret, Tags.security, deploy=True)
        register(checks.check_sms_settings, Tags.security, deploy=True)
        register(checks.check_secure_cookies, Tags.security, deploy=True)
        register(checks.check_static_manifest, Tags.staticfiles, deploy=True)
        request_started.connect(observability.request_started, dispatch_uid="request_id_started")
        request_finished.connect(observability.request_finished, dispatch_uid="request_id_finished")
