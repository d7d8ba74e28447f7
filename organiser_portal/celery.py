"""The Celery app. Settings live in settings.py under the CELERY_ prefix."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "organiser_portal.settings")

app = Celery("organiser_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
