from django.apps import AppConfig


class SetupConfig(AppConfig):
    """Organisation setup: the team (invitations, roles, region limits), members' password emails, regions,
    events and their ticket types."""

    name = "setup"
    verbose_name = "Organisation setup"
