"""Production settings are safe or the portal says so: without a strong webhook secret it refuses to start
outside DEBUG, and `manage.py check --deploy` is clean only with safe settings.

Each case loads the settings in a subprocess with exactly the environment given (tests/production.py)."""

import os
import subprocess
import sys

import pytest

from organiser_portal.deploy import DEMO_WEBHOOK_SECRET
from tests import production

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.ANYMAIL['WEBHOOK_SECRET'])"
STRONG_KEY = "k" * 10 + "-a-strong-secret-key-for-these-tests-only-0123456789"


def start(cwd=production.ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        cwd=cwd,
        env=production.bare_env(DJANGO_SETTINGS_MODULE="organiser_portal.settings", **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(cwd, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def image_env(**overrides: str) -> dict[str, str]:
    return production.image_runtime_env(
        database_url=os.environ["DATABASE_URL"], redis_url=os.environ["REDIS_URL"], **overrides
    )


def test_without_a_webhook_secret_the_portal_refuses_to_start_outside_debug():
    started = start(DEBUG="0", SECRET_KEY=STRONG_KEY)
    assert started.returncode != 0
    assert "ImproperlyConfigured: ANYMAIL_WEBHOOK_SECRET is not set" in started.stderr
    # What to set, and how to make one.
    assert "user:password" in started.stderr and "secrets.token_urlsafe(32)" in started.stderr


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (DEMO_WEBHOOK_SECRET, "the published example 'demo-webhook:demo-secret'"),
        ("webhook-user:long-random-password", "the published example"),
        ("one-long-random-token-without-a-user", "must have the form user:password"),
        (":a-long-random-password-without-a-user", "must have the form user:password"),
        ("anymail:short-password", "password has 14 characters; it needs at least 16"),
    ],
)
def test_a_public_or_weak_webhook_secret_is_refused_outside_debug(secret, said):
    started = start(DEBUG="0", SECRET_KEY=STRONG_KEY, ANYMAIL_WEBHOOK_SECRET=secret)
    assert started.returncode != 0
    assert "ImproperlyConfigured: ANYMAIL_WEBHOOK_SECRET" in started.stderr and said in started.stderr


def test_a_strong_webhook_secret_starts():
    started = start(DEBUG="0", SECRET_KEY=STRONG_KEY, ANYMAIL_WEBHOOK_SECRET="anymail:0123456789abcdefXYZ")
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.strip() == "anymail:0123456789abcdefXYZ"


@pytest.mark.parametrize("unset", [{}, {"ANYMAIL_WEBHOOK_SECRET": ""}], ids=["unset", "empty"])
def test_with_debug_on_the_demo_secret_is_the_default(unset):
    """`make run` needs no configuration: its sandbox plays delivery events with the demo secret."""
    started = start(DEBUG="1", **unset)
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.strip() == DEMO_WEBHOOK_SECRET


def test_check_deploy_is_clean_with_the_documented_production_settings(production_image):
    checked = check_deploy(production_image, image_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


@pytest.mark.parametrize(
    ("unsafe", "reported"),
    [
        ({"SECURE_COOKIES": "0"}, ["organiser_portal.E002", "security.W012", "security.W016"]),
        ({"SECURE_HSTS_SECONDS": "0"}, ["security.W004"]),
        ({"BEHIND_TLS_PROXY": "0", "SECURE_SSL_REDIRECT": ""}, ["security.W008"]),
        ({"STATIC_MANIFEST": "0"}, ["organiser_portal.W001"]),
        ({"SECRET_KEY": "change-me"}, ["security.W009"]),
        ({"DEBUG": "1", "ANYMAIL_WEBHOOK_SECRET": ""}, ["security.W018", "organiser_portal.E001"]),
    ],
    ids=["cookies-in-clear", "no-hsts", "plain-http", "unhashed-static", "weak-secret-key", "debug"],
)
def test_check_deploy_fails_with_unsafe_production_settings(production_image, unsafe, reported):
    env = image_env(**unsafe)
    env = {name: value for name, value in env.items() if value != ""}  # "" here means unset
    checked = check_deploy(production_image, env)
    assert checked.returncode != 0
    for check_id in reported:
        assert check_id in checked.stderr, checked.stderr


def test_check_deploy_fails_when_the_static_files_were_not_collected(tmp_path):
    """The image's bug of issue 16: collected with DEBUG on, no manifest, every page a 500."""
    app = production.copy_build_context(tmp_path / "app")
    checked = check_deploy(app, image_env())
    assert checked.returncode != 0
    assert "organiser_portal.E003" in checked.stderr and "staticfiles.json is missing" in checked.stderr


TWILIO = {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_FROM": "+15005550006"}
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": STRONG_KEY, "ANYMAIL_WEBHOOK_SECRET": "anymail:0123456789abcdefXYZ"}


def test_twilio_without_its_auth_token_refuses_to_start_outside_debug():
    started = start(**PRODUCTION, **TWILIO)
    assert started.returncode != 0
    assert "ImproperlyConfigured: SMS_PROVIDER is twilio but TWILIO_AUTH_TOKEN is not set" in started.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({**TWILIO, "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_FROM": ""}, "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"),
        ({"SMS_PROVIDER": "nexmo"}, "SMS_PROVIDER is 'nexmo'; it must be one of sandbox, twilio"),
    ],
)
def test_incomplete_sms_settings_refuse_to_start_outside_debug(env, said):
    started = start(**PRODUCTION, **env)
    assert started.returncode != 0 and said in started.stderr


def test_twilio_with_its_settings_starts():
    assert start(**PRODUCTION, **TWILIO, TWILIO_AUTH_TOKEN="t" * 32).returncode == 0


def test_with_debug_on_twilio_without_its_token_starts_but_check_deploy_says_so(production_image):
    assert start(DEBUG="1", **TWILIO).returncode == 0
    checked = check_deploy(production_image, image_env(DEBUG="1", SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID="AC1"))
    assert checked.returncode != 0
    assert "organiser_portal.E004" in checked.stderr and "TWILIO_AUTH_TOKEN" in checked.stderr


@pytest.mark.parametrize("port", ["9000", "tcp://10.0.0.3:80", ""])
def test_outside_debug_port_changes_nothing(port):
    """`make run PORT=…` moves the demo's links; in production PORT (a platform's, whatever it holds) is not read."""
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.PORTAL_URL)",
        ],
        cwd=production.ROOT,
        env=production.bare_env(
            DJANGO_SETTINGS_MODULE="organiser_portal.settings",
            DEBUG="0",
            SECRET_KEY=STRONG_KEY,
            ANYMAIL_WEBHOOK_SECRET="anymail:0123456789abcdefXYZ",
            ALLOWED_HOSTS="portal.example.com",
            PORT=port,
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.strip() == "https://portal.example.com"
