"""Loaded by pytest before Django (addopts `-p tests.env`): tests run against the real
PostgreSQL and Redis on this machine unless DATABASE_URL / REDIS_URL say otherwise."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/organiser_portal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# DEBUG is off in the tests, where the portal refuses the public demo webhook secret.
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "tests-hook:tests-only-webhook-password")
os.environ.setdefault("STATIC_MANIFEST", "0")
# The sandbox payment provider's refunds take their steps at once (the embedded default waits 2 s per step).
os.environ.setdefault("SANDBOX_REFUND_STEP_SECONDS", "0")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# The webhook tests post each service's reports: mount every tracking webhook (production mounts only its own).
os.environ.setdefault(
    "EMAIL_WEBHOOKS",
    "amazon_ses,brevo,mailersend,mailgun,mailjet,mailtrap,mandrill,postal,postmark,resend,sendgrid,sendinblue,"
    "sparkpost,unisender_go",
)
# Playwright's sync API runs an event loop; Django's ORM is used from the same thread in e2e tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
