"""Fixtures of the setup tests: owners and managers, and emails sent in process through Django's locmem backend."""

import re

import pytest
from django.core import mail

from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership

Role = Membership.Role


@pytest.fixture
def owner(member):
    return member(Role.OWNER, user__first_name="Olga", user__last_name="Owner")


@pytest.fixture
def manager(member):
    return member(Role.MANAGER)


@pytest.fixture
def sent_emails(settings):
    """Queued messages are sent in process right after commit (as on the embedded default), through the
    locmem backend: `sent_emails` is mail.outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_URL = "https://portal.test"
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    mail.outbox = []
    yield mail.outbox
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


def link_in(email) -> str:
    """The path of the portal link in an email's plain text (PORTAL_URL taken off)."""
    match = re.search(r"https://portal\.test(/\S+)", email.body)
    assert match, email.body
    return match.group(1)
