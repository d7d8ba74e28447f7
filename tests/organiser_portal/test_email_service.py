"""EMAIL_SERVICE chooses the email service; only its tracking webhook is mounted, every other /anymail/ URL
is a 404 (never anymail's 500 for a service the portal isn't configured for)."""

import importlib

import pytest
from anymail.urls import urlpatterns as anymail_urlpatterns
from django.core.exceptions import ImproperlyConfigured
from django.urls import clear_url_caches

import notifications.urls
import organiser_portal.urls
from notifications.checks import email_webhook_checks
from organiser_portal.email_config import anymail_services, email_config

SECRET = "hook-user:hook-password"
EVERY_ANYMAIL_URL = sorted(
    {f"/anymail/{p.pattern}".replace("^", "").replace("(_mime)?/$", "/") for p in anymail_urlpatterns}
)


def test_any_anymail_service_with_its_own_variables():
    config = email_config(
        {
            "EMAIL_SERVICE": "SendGrid",
            "SENDGRID_API_KEY": "SG.key",
            "ANYMAIL_SENDGRID_TRACK_CLICKS_AS": "false",
            "ANYMAIL_WEBHOOK_SECRET": SECRET,
            "MAILGUN_API_KEY": "another service's key",
            "SENDGRID_MERGE_FIELD_FORMAT": "-{}-",
        }
    )
    assert config.service == "sendgrid"
    assert config.backend == "anymail.backends.sendgrid.EmailBackend"
    assert config.webhooks == ("sendgrid",)
    assert config.anymail == {
        "SENDGRID_API_KEY": "SG.key",
        "SENDGRID_TRACK_CLICKS_AS": False,
        "WEBHOOK_SECRET": SECRET,
        "SENDGRID_MERGE_FIELD_FORMAT": "-{}-",
    }
    assert {"postmark", "mailgun", "amazon_ses", "brevo", "mailjet", "sparkpost", "resend"} <= anymail_services()


def test_amazon_ses_reads_json_settings_and_the_aws_region():
    config = email_config(
        {"EMAIL_SERVICE": "amazon_ses", "ANYMAIL_WEBHOOK_SECRET": SECRET, "AWS_REGION": "eu-central-1"}
    )
    assert config.anymail["AMAZON_SES_CLIENT_PARAMS"] == {"region_name": "eu-central-1"}
    params = '{"region_name": "us-east-1", "config": {"connect_timeout": 5}}'
    config = email_config(
        {"EMAIL_SERVICE": "amazon_ses", "ANYMAIL_WEBHOOK_SECRET": SECRET, "AMAZON_SES_CLIENT_PARAMS": params}
    )
    assert config.anymail["AMAZON_SES_CLIENT_PARAMS"] == {"region_name": "us-east-1", "config": {"connect_timeout": 5}}


@pytest.mark.parametrize(
    ("environ", "service", "backend", "webhooks"),
    [
        ({}, "sandbox", "notifications.sandbox.EmailBackend", ("postmark",)),
        ({"EMAIL_SERVICE": "file"}, "file", "django.core.mail.backends.filebased.EmailBackend", ()),
        ({"EMAIL_SERVICE": "smtp"}, "smtp", "django.core.mail.backends.smtp.EmailBackend", ()),
        # EMAIL_BACKEND, as set before EMAIL_SERVICE existed, still chooses.
        (
            {"EMAIL_BACKEND": "anymail.backends.mailgun.EmailBackend", "ANYMAIL_WEBHOOK_SECRET": SECRET},
            "mailgun",
            "anymail.backends.mailgun.EmailBackend",
            ("mailgun",),
        ),
        (
            {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"},
            "file",
            "django.core.mail.backends.filebased.EmailBackend",
            (),
        ),
        ({"EMAIL_BACKEND": "my.own.Backend"}, "custom", "my.own.Backend", ()),
        # A service without delivery reports: no webhook, so no webhook secret to give.
        ({"EMAIL_SERVICE": "scaleway"}, "scaleway", "anymail.backends.scaleway.EmailBackend", ()),
        # Switching services: the old one's reports still come in while EMAIL_WEBHOOKS lists it.
        (
            {"EMAIL_SERVICE": "brevo", "EMAIL_WEBHOOKS": "brevo, postmark", "ANYMAIL_WEBHOOK_SECRET": SECRET},
            "brevo",
            "anymail.backends.brevo.EmailBackend",
            ("brevo", "postmark"),
        ),
    ],
)
def test_service_backend_and_webhooks(environ, service, backend, webhooks):
    config = email_config(environ)
    assert (config.service, config.backend, config.webhooks) == (service, backend, webhooks)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EMAIL_SERVICE": "postmak"}, "'postmak' is not an email service; choose one of: amazon_ses"),
        ({"EMAIL_SERVICE": "postmark"}, "needs ANYMAIL_WEBHOOK_SECRET"),
        (
            {"EMAIL_SERVICE": "file", "EMAIL_WEBHOOKS": "mailgunn"},
            "names no email service anymail has a webhook for: mailgunn",
        ),
    ],
)
def test_a_wrong_configuration_stops_the_start(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        email_config(environ)


@pytest.fixture
def mount(settings):
    """mount(service): the URLs as a portal started with EMAIL_SERVICE=service would serve them."""
    original = settings.EMAIL_WEBHOOKS

    def reload_urls() -> None:
        importlib.reload(notifications.urls)
        importlib.reload(organiser_portal.urls)
        clear_url_caches()

    def mount(service: str, **environ: str) -> None:
        config = email_config({"EMAIL_SERVICE": service, "ANYMAIL_WEBHOOK_SECRET": SECRET, **environ})
        settings.EMAIL_WEBHOOKS, settings.ANYMAIL = config.webhooks, config.anymail
        reload_urls()

    yield mount
    settings.EMAIL_WEBHOOKS = original
    reload_urls()


@pytest.mark.parametrize(
    ("service", "mounted"),
    [
        ("sandbox", "/anymail/postmark/tracking/"),
        ("mailgun", "/anymail/mailgun/tracking/"),
        ("amazon_ses", "/anymail/amazon_ses/tracking/"),
        ("brevo", "/anymail/brevo/tracking/"),
    ],
)
def test_only_the_chosen_services_tracking_webhook_is_mounted(mount, client, service, mounted):
    mount(service, MAILGUN_WEBHOOK_SIGNING_KEY="mailgun-signing-key")
    assert email_webhook_checks() == []
    # Mounted: anymail refuses a report without the webhook secret (400, or 401 from Amazon SES).
    assert client.post(mounted, "{}", content_type="application/json").status_code in (400, 401)
    others = [url for url in EVERY_ANYMAIL_URL if url != mounted]
    assert len(others) >= 25
    assert {
        url: client.post(url, "{}", content_type="application/json").status_code for url in others
    } == dict.fromkeys(others, 404)
    assert client.get("/anymail/").status_code == 404


def test_a_mounted_webhook_missing_its_settings_is_reported_at_start(mount):
    mount("mailgun")
    (error,) = email_webhook_checks()
    assert error.id == "notifications.E001"
    assert "/anymail/mailgun/tracking/" in error.msg and "MAILGUN_WEBHOOK_SIGNING_KEY" in error.msg


def test_nothing_is_mounted_for_a_local_service(mount, client):
    mount("file")
    assert {url: client.post(url).status_code for url in EVERY_ANYMAIL_URL} == dict.fromkeys(EVERY_ANYMAIL_URL, 404)
