from django.apps import AppConfig


class OrganiserPortalConfig(AppConfig):
    name = "organiser_portal"
    default_auto_field = "django.db.models.BigAutoField"
