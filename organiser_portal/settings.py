"""Settings for Organiser Portal, read from the environment (see .env.example).

Without any environment the portal runs on the embedded default: SQLite under
var/, Celery tasks run in process after commit, and email goes to the sandbox email
service: files a person can read, and delivery reports a moment later.
"""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from organiser_portal.deploy import (
    DEMO_SMS_SANDBOX_SECRET,
    DEMO_WEBHOOK_SECRET,
    SMS_PROVIDERS,
    sms_settings_problem,
    webhook_secret_problem,
)

from .csp_policy import CSP_POLICY
from .db_timeouts import db_timeout_options
from .email_config import email_config
from .observability import logging_config, sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-only-for-debug")
else:
    SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Outside DEBUG the portal is served over HTTPS only: plain HTTP is redirected, browsers are told to remember
# that (HSTS; sent on HTTPS responses only, so `make run` over http:// never gets it), cookies never travel
# in clear. `manage.py check --deploy` complains about each one turned off outside DEBUG.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS_PROXY)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading commits the whole domain, and its other sites, to HTTPS in browsers for months: the domain
# owner's decision, so off unless asked for, and Django's reminder about it (W021) silenced until then.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
# Neither cookie is read by scripts (htmx sends the CSRF token from the page) or sent on other sites' requests.
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "anymail",
    "axes",
    "csp",
    "organiser_portal",
    "guests",
    "orders",
    "tickets",
    "notifications",
    # Organisation setup: team, invitations, password emails, regions, events and ticket types.
    "setup",
    # Demo data and its commands: imports every app, imported by none.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "organiser_portal.observability.RequestId",
    "organiser_portal.middleware.RefuseNulBytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns its lockout into the "too many failed logins" page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "organiser_portal.urls"
WSGI_APPLICATION = "organiser_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organiser_portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL cuts a statement running longer than DB_STATEMENT_TIMEOUT and a wait for a lock longer than
# DB_LOCK_TIMEOUT (seconds; 0 = never), so one stuck row or query can't hold every web process and worker.
# `manage.py migrate` lifts both for itself (organiser_portal/db_timeouts.py); `make bench-data` sets them to 0.
DB_STATEMENT_TIMEOUT = env.float("DB_STATEMENT_TIMEOUT", default=30.0)
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=10.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = db_timeout_options(
        statement=DB_STATEMENT_TIMEOUT, lock=DB_LOCK_TIMEOUT
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process task runner and the web request read at the same time. IMMEDIATE takes the write
    # lock when a transaction begins, so a transaction that read first and writes later waits its turn (timeout,
    # seconds) instead of failing at once with "database is locked" when the sandbox's delivery-report thread
    # wrote in between (seen on Resend by SMS).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The order page's and every page's fixed-shape queries reuse SQL compiled once per process (a few ms of CPU
# per page; organiser_portal/compiled_queries.py). It reads Django internals and runs only on the Django
# release it was verified with; off (0) runs the plain ORM everywhere.
COMPILED_QUERIES = env.bool("COMPILED_QUERIES", default=True)
# A refund still "Confirming refund" after this many hours is flagged on its order, in the header and in the
# Orders list's "Refund stuck" filter: someone should ask the payment provider.
REFUND_STUCK_AFTER_HOURS = env.float("REFUND_STUCK_AFTER_HOURS", default=24.0)

REDIS_URL = env.str("REDIS_URL", default="")
# The cache (rendered PDFs) in a Redis of its own, which may evict (allkeys-lru): a full cache must never refuse
# the task queue's writes, so production gives the queue's Redis (REDIS_URL) noeviction and the cache its own
# (docker-compose.yml). Default: the queue's Redis.
CACHE_URL = env.str("CACHE_URL", default=REDIS_URL)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # Only rendered PDFs, read through organiser_portal.cache: a Redis that hangs costs this once.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database only: agents log in and work while Redis is down, and a logout or a
# password change can't leave a session in Redis that comes back with it. The cost is one indexed query
# per page (bench/NOTES.md).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
CONTENT_SECURITY_POLICY = CSP_POLICY  # organiser_portal/csp_policy.py
LOGIN_URL = "login"
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one email address from one
# client, that pair is refused for LOGIN_COOLOFF_MINUTES, before any password is checked (each check costs
# ~300 ms of CPU). Attempts are kept in the database, so the throttle holds while Redis is down. A success
# clears the pair's failures. The client is REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address
# they put in X-Forwarded-For (organiser_portal.login_throttle.client_ip): an X-Forwarded-For header sent
# by the client itself is never believed, so rotating it doesn't escape the limit.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "organiser_portal.login_throttle.client_ip"
AXES_USERNAME_CALLABLE = "organiser_portal.login_throttle.username"
AXES_VERBOSE = False
AXES_ALLOWED_CORS_ORIGINS = ""  # its JSON answer to scripts on other sites: none
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Email ---
# EMAIL_SERVICE chooses who sends (organiser_portal/email_config.py, .env.example): any email service anymail
# supports, with its own <SERVICE>_* variables, or the sandbox of the embedded default, which writes each
# message to EMAIL_FILE_PATH and plays its delivery report back through the webhook (notifications/sandbox.py).
# The user:password the email service sends its delivery webhooks with. The demo default is public, so
# outside DEBUG the portal refuses to start without a strong one of its own, as for SECRET_KEY. Empty (as in a
# .env made from .env.example) counts as unset.
webhook_secret = env.str("ANYMAIL_WEBHOOK_SECRET", default="") or (DEMO_WEBHOOK_SECRET if DEBUG else "")
if not DEBUG and (problem := webhook_secret_problem(webhook_secret)):
    raise ImproperlyConfigured(problem)
EMAIL = email_config({**os.environ, "ANYMAIL_WEBHOOK_SECRET": webhook_secret})
EMAIL_SERVICE = EMAIL.service
EMAIL_BACKEND = EMAIL.backend
EMAIL_WEBHOOKS = EMAIL.webhooks
ANYMAIL = EMAIL.anymail
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# How long after sending the sandbox reports what happened to a message, in seconds.
EMAIL_SANDBOX_DELAY = env.float("EMAIL_SANDBOX_DELAY", default=2.0)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Seconds the email service's API (anymail's REQUESTS_TIMEOUT) or the mail server (EMAIL_TIMEOUT, SMTP) may take
# to answer. Short, so a slow service ties a worker up briefly; an answer lost to it leaves the message
# unconfirmed, never resent blindly (docs/reliability.md).
EMAIL_SERVICE_TIMEOUT = env.float("EMAIL_SERVICE_TIMEOUT", default=10.0)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=EMAIL_SERVICE_TIMEOUT)
ANYMAIL.setdefault("REQUESTS_TIMEOUT", EMAIL_SERVICE_TIMEOUT)
# Tries per message (each claim is one), and the first pause between them in seconds (doubled each time, at most
# 30 min).
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=9)
EMAIL_RETRY_DELAY = env.float("EMAIL_RETRY_DELAY", default=30.0)
# Seconds after a hand-over whose answer was lost (and no delivery event came) before the sweeper settles it: asks
# the service when it can tell (the sandbox), else sends once more. Longer than any service's webhook delay.
EMAIL_UNCONFIRMED_RESEND_AFTER = env.int("EMAIL_UNCONFIRMED_RESEND_AFTER", default=3600)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tickets <tickets@portal.example>")
# Where the portal is reached, for the links in emails sent outside a request (invitations, password resets).
# Under DEBUG the address `make run` serves (its PORT, 8000 unless given), so links work on any port. Outside
# DEBUG, PORT is not read: a platform's own PORT (or a non-number there) changes nothing.
PORTAL_URL = env.str(
    "PORTAL_URL",
    default=f"http://127.0.0.1:{env.int('PORT', default=8000)}" if DEBUG else f"https://{ALLOWED_HOSTS[0]}",
)
PORTAL_URL = PORTAL_URL.rstrip("/")
# How long a team invitation's link to set a password works, in seconds (default 7 days); a password reset
# link works PASSWORD_RESET_TIMEOUT seconds (default 1 hour).
INVITATION_TIMEOUT = env.int("INVITATION_TIMEOUT", default=7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
# The customer's tickets page (tickets/pages.py): its link works until this many days after the event ends.
TICKETS_PAGE_DAYS_AFTER_EVENT = env.int("TICKETS_PAGE_DAYS_AFTER_EVENT", default=7)
# The public pages' rate limits (organiser_portal/rate_limit.py), "<count>/<seconds>" per key, counted in the
# cache: the tickets page per client; "Find my tickets" per client and per email address.
RATE_LIMITS = {
    "tickets_page": env.str("RATE_LIMIT_TICKETS_PAGE", default="60/300"),
    "find_tickets_client": env.str("RATE_LIMIT_FIND_TICKETS_CLIENT", default="10/3600"),
    "find_tickets_address": env.str("RATE_LIMIT_FIND_TICKETS_ADDRESS", default="3/3600"),
}
# Part of every rate-limit key: tests give each test its own counters.
RATE_LIMIT_NAMESPACE = ""
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Bulk sends on a guest list (orders/bulk.py): emails handed to the email service per minute (the pacing, kept
# under the service's sending limits), and the most orders one bulk send takes.
BULK_SEND_PER_MINUTE = env.int("BULK_SEND_PER_MINUTE", default=120)
BULK_SEND_MAX_ORDERS = env.int("BULK_SEND_MAX_ORDERS", default=10_000)
# The at-risk list (guests/at_risk.py): a ticket email still deferred this many hours after its last news.
AT_RISK_DEFERRED_HOURS = env.float("AT_RISK_DEFERRED_HOURS", default=6.0)
ANYMAIL["WEBHOOK_SECRET"] = webhook_secret
# The largest delivery webhook body read (notifications/webhook_guard.py); a SendGrid batch of 1,000 events is ~1 MB.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, WEBHOOK_MAX_BODY_BYTES)

# --- SMS (notifications/sms.py, .env.example) --------------------------------
# SMS_PROVIDER: `sandbox` (the embedded default and tests: SMS written to SMS_FILE_PATH, reports played back
# through the status webhook, signed like Twilio's) or `twilio`. SMS share the outbox's EMAIL_* tries and waits.
SMS_PROVIDER = env.str("SMS_PROVIDER", default="sandbox").strip().lower()
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Seconds Twilio's API may take to answer; an answer lost to it leaves the SMS unconfirmed, never resent blindly.
SMS_SERVICE_TIMEOUT = env.float("SMS_SERVICE_TIMEOUT", default=10.0)
# Sending limits (orders/sms_limits.py, README "SMS"): tickets SMS per order in a rolling hour and 24 hours, and
# per number across the organisation in 24 hours; 0 switches a limit off. Counted in the database, not Redis.
SMS_LIMIT_PER_ORDER_HOUR = env.int("SMS_LIMIT_PER_ORDER_HOUR", default=3)
SMS_LIMIT_PER_ORDER_DAY = env.int("SMS_LIMIT_PER_ORDER_DAY", default=5)
SMS_LIMIT_PER_NUMBER_DAY = env.int("SMS_LIMIT_PER_NUMBER_DAY", default=10)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_SANDBOX_DELAY = env.float("SMS_SANDBOX_DELAY", default=2.0)
# The sandbox's report signing secret: public with DEBUG on; else its own or from SECRET_KEY (no forged reports).
SMS_SANDBOX_SECRET = env.str("SMS_SANDBOX_SECRET", default="") or (
    DEMO_SMS_SANDBOX_SECRET if DEBUG else hashlib.sha256(f"sms-sandbox:{SECRET_KEY}".encode()).hexdigest()
)
_sms_sender = TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID
sms_problem = sms_settings_problem(
    provider=SMS_PROVIDER, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN, sender=_sms_sender
)
# With DEBUG a Twilio without its settings only fails its sends (and `check --deploy`); outside DEBUG it can't start.
if sms_problem and (not DEBUG or SMS_PROVIDER not in SMS_PROVIDERS):
    raise ImproperlyConfigured(sms_problem)

# --- Payment providers (orders/payment_providers.py, .env.example) ---------
# Stripe is enabled when its secret key is set; the others by PAYMENT_PROVIDERS. The sandbox moves no money:
# its refunds walk their states one step every SANDBOX_REFUND_STEP_SECONDS (README "Demo").
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
PAYMENT_PROVIDERS = [p for p in env.list("PAYMENT_PROVIDERS", default=["manual", "sandbox", "paypal"]) if p != "stripe"]
if STRIPE_SECRET_KEY:
    PAYMENT_PROVIDERS.append("stripe")
    if not DEBUG and not STRIPE_WEBHOOK_SECRET:
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET: refunds would never finish."
        )
SANDBOX_REFUND_STEP_SECONDS = env.float("SANDBOX_REFUND_STEP_SECONDS", default=2.0)
# A reserved order expires after this long without a payment; a payment still processing or confirming after
# PAYMENT_ABANDONED_MINUTES ends as expired (orders/payments.py, run by celery beat).
ORDER_RESERVATION_MINUTES = env.int("ORDER_RESERVATION_MINUTES", default=15)
PAYMENT_ABANDONED_MINUTES = env.int("PAYMENT_ABANDONED_MINUTES", default=60)
# Order imports (orders/imports.py, docs/import.md): the largest file accepted, in bytes. A larger upload
# is refused with a form error (put the same cap on request bodies in the proxy in front of the portal).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20_000_000)
# A refund processing or confirming for this long is asked about again (the webhook may have been lost).
REFUND_POLL_AFTER_MINUTES = env.int("REFUND_POLL_AFTER_MINUTES", default=5)

# --- Celery ----------------------------------------------------------------
# With REDIS_URL unset, tasks run in process (eager) after the transaction
# commits, so the embedded default needs no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=2000)
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down or hangs, since an action publishes before its page answers:
# the outbox sweeper sends later. The worker's BRPOP is read by its event loop, which no socket timeout cuts.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 1,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # The outbox sweeper: messages left queued (broker down at commit, lost task) are handed over again.
    "sweep-outbox": {"task": "notifications.tasks.sweep_outbox", "schedule": 60.0},
    # The search box's typo vocabulary (guests.NameWord): new names become correctable within 15 minutes.
    "refresh-name-words": {"task": "guests.tasks.name_words_refresh", "schedule": 900.0},
    # The worker's heartbeat, whose age /health/ reports (organiser_portal.health.HEARTBEAT_EVERY).
    "worker-heartbeat": {"task": "organiser_portal.tasks.heartbeat", "schedule": 30.0},
    # Reserved orders past ORDER_RESERVATION_MINUTES and abandoned payments end as expired (orders.payments).
    "expire-reservations": {"task": "orders.tasks.reservations_expire", "schedule": 60.0},
    "expire-abandoned-payments": {"task": "orders.tasks.payments_expire_abandoned", "schedule": 300.0},
    # Refunds whose submit task was lost, or whose provider answer is overdue, are asked about again.
    "poll-refunds": {"task": "orders.tasks.refunds_poll_stale", "schedule": 120.0},
}

# Logs: one JSON object per line outside DEBUG (LOG_FORMAT=json), a readable line with DEBUG; every line
# carries the request id (organiser_portal.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
# Error reporting to Sentry when a DSN is given; nothing is sent without one.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENABLED = sentry_init(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default="production"),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)
