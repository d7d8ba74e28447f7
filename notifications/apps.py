from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.core.checks import register

        from organiser_portal.health import check_register

        from . import tasks  # noqa: F401  registers the tasks, which the services hand work to by name
        from .checks import email_webhook_checks
        from .health import outbox_check
        from .webhooks import handle_tracking

        check_register("outbox", outbox_check)

        tracking.connect(handle_tracking, dispatch_uid="notifications.handle_tracking")
        register(email_webhook_checks)
