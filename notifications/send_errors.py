"""How sending a message can fail, as the outbox tells the cases apart (notifications.emails, notifications.sms)."""

from __future__ import annotations

from .models import OutgoingMessage


class PermanentSendError(Exception):
    """The message can't be sent, and trying again won't help: "rejected" when the email service refused
    the address itself, "failed" for anything else (nothing to send, a refusal not about the address)."""

    def __init__(self, reason: str, *, status: str = OutgoingMessage.Status.FAILED):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class OurSideConfigurationError(PermanentSendError):
    """The email service isn't configured or refused our credentials: a person must fix the settings.

    Fails the message at once (retrying can't help) and is logged as an error; never the address's fault.
    """


class TemporarySendError(Exception):
    """The email service surely did not take the message: it could not be reached (connection refused, name
    not found, connect timeout) or answered with an error of its own; or we failed before handing it over.
    Worth trying again."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class UnconfirmedSendError(Exception):
    """The message was handed to the email service and its answer was lost (a read timeout after the request
    went out, a connection broken mid-answer, an answer we could not read): the service may have taken it.
    Never retried blindly: a delivery event or a later check settles it (docs/reliability.md)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class HandOverRefused(Exception):
    """The message is no longer in this try (claimed again or moved meanwhile): nothing was sent."""
