"""The core's background work."""

from celery import shared_task

from .health import heartbeat_record


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Beat asks for it every HEARTBEAT_EVERY seconds; /health/ reads its age (organiser_portal.health)."""
    heartbeat_record()
