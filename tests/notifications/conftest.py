"""Fixtures for the send pipeline: anymail's test backend, tasks run in process."""

import pytest
from django.core import mail

from organiser_portal.celery import app as celery_app


@pytest.fixture
def test_backend(settings):
    """Send through anymail's test backend: messages land in mail.outbox with their anymail params."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def eager_tasks():
    """Celery tasks run in process when queued (as on the embedded default), errors raised."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old
