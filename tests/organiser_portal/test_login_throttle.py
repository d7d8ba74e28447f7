"""Login throttling (django-axes): wrong passwords for one address from one client are limited, before any
password is checked; a spoofed X-Forwarded-For doesn't escape the limit (issue 16, "Locks on the doors")."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from organiser_portal.login_throttle import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # ten logins a test


@pytest.fixture
def user(fast_hasher):
    return UserFactory(username="agent@example.com", email="agent@example.com")


def log_in(client, password: str, *, username: str = "agent@example.com", **meta):
    return client.post(reverse("login"), {"username": username, "password": password}, **meta)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_the_limit_of_wrong_ones_is_refused(client, user):
    for _ in range(LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the login page again, with its error
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    right = log_in(client, "pw")
    assert right.status_code == 429 and not logged_in(client)


def test_below_the_limit_the_right_password_logs_in_and_clears_the_failures(client, user):
    for _ in range(LIMIT - 1):
        log_in(client, "wrong")
    assert log_in(client, "pw").status_code == 302 and logged_in(client)
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_the_address_counts_whatever_its_case(client, user):
    for i in range(LIMIT):
        log_in(client, "wrong", username="Agent@Example.com" if i % 2 else "agent@example.com")
    assert log_in(client, "pw").status_code == 429


def test_a_spoofed_forwarded_for_header_does_not_escape_the_limit(client, user):
    for i in range(LIMIT):
        log_in(client, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert log_in(client, "pw", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_another_client_is_not_locked_out(client, user):
    for _ in range(LIMIT):
        log_in(client, "wrong", REMOTE_ADDR="192.0.2.1")
    assert log_in(client, "pw", REMOTE_ADDR="192.0.2.2").status_code == 302


def test_the_pause_ends_after_the_cool_off(client, user, settings):
    for _ in range(LIMIT):
        log_in(client, "wrong")
    assert log_in(client, "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert log_in(client, "pw").status_code == 302 and logged_in(client)


def test_behind_trusted_proxies_the_proxys_entry_is_the_client(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our proxy saw; "6.6.6.6" came from the client
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"  # fewer entries than proxies: the header can't be trusted
