"""What production settings must hold, shared by settings.py (which refuses to start without them) and the
deploy system checks (organiser_portal/checks.py, `manage.py check --deploy`).

Imports nothing from Django: settings.py reads it before Django is set up.
"""

# Built into the embedded default (`make run`) and printed in the repository, so anyone can sign a delivery
# event with it: the portal accepts it only with DEBUG on.
DEMO_WEBHOOK_SECRET = "demo-webhook:demo-secret"
# Values published as examples in earlier versions of .env.example: as public as the demo one.
PUBLISHED_WEBHOOK_SECRETS = frozenset({DEMO_WEBHOOK_SECRET, "webhook-user:long-random-password"})
WEBHOOK_PASSWORD_MIN_LENGTH = 16

MAKE_WEBHOOK_SECRET = (
    "Set ANYMAIL_WEBHOOK_SECRET to user:password with a long random password, made for example with "
    "python -c \"import secrets; print('anymail:' + secrets.token_urlsafe(32))\", "
    "and give the email service the same user:password in its webhook URL (https://user:password@host/anymail/…)."
)


def webhook_secret_problem(secret: str | list[str] | tuple[str, ...]) -> str | None:
    """Why `secret` (anymail's WEBHOOK_SECRET: one user:password, or several while rotating) can't guard the
    delivery webhooks in production, or None when it can."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(secrets):
        return f"ANYMAIL_WEBHOOK_SECRET is not set. {MAKE_WEBHOOK_SECRET}"
    for value in secrets:
        if value in PUBLISHED_WEBHOOK_SECRETS:
            return (
                f"ANYMAIL_WEBHOOK_SECRET is the published example {value!r}: anyone could forge delivery events. "
                f"{MAKE_WEBHOOK_SECRET}"
            )
        user, colon, password = value.partition(":")
        if not colon or not user:
            return f"ANYMAIL_WEBHOOK_SECRET must have the form user:password. {MAKE_WEBHOOK_SECRET}"
        if len(password) < WEBHOOK_PASSWORD_MIN_LENGTH:
            return (
                f"ANYMAIL_WEBHOOK_SECRET's password has {len(password)} characters; it needs at least "
                f"{WEBHOOK_PASSWORD_MIN_LENGTH}. {MAKE_WEBHOOK_SECRET}"
            )
    return None


# The SMS sandbox signs its delivery reports like Twilio, with this secret when DEBUG is on (public, like the
# demo webhook secret); outside DEBUG with its own, or one derived from SECRET_KEY.
DEMO_SMS_SANDBOX_SECRET = "demo-sms-sandbox-secret"
SMS_PROVIDERS = ("sandbox", "twilio")


def sms_settings_problem(*, provider: str, account_sid: str, auth_token: str, sender: str) -> str | None:
    """Why the SMS settings can't send, or None when they can. Twilio needs its account SID, its auth token (it
    signs the status callbacks with it: without it every delivery report would be refused) and a sender
    (TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID)."""
    if provider not in SMS_PROVIDERS:
        return f"SMS_PROVIDER is {provider!r}; it must be one of {', '.join(SMS_PROVIDERS)}."
    if provider != "twilio":
        return None
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", account_sid),
            ("TWILIO_AUTH_TOKEN", auth_token),
            ("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID", sender),
        )
        if not value
    ]
    if missing:
        return (
            f"SMS_PROVIDER is twilio but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: "
            "take them from the Twilio console (Account Info, and a phone number or Messaging Service)."
        )
    return None
