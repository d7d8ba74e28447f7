import pytest


@pytest.fixture
def every_webhook_configured(settings):
    """The tests mount every email service's webhook; give each the secret anymail needs to start answering."""
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-test",
        "MAILERSEND_SIGNING_SECRET": "secret-test",
        "POSTAL_WEBHOOK_KEY": "key-test",
        "UNISENDER_GO_API_KEY": "key-test",
        "MANDRILL_WEBHOOK_KEY": "key-test",
    }
