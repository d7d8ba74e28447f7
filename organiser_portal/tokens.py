"""The signed, expiring links of member emails: an invitation to set a password, and a password reset.

Both are Django's password-reset tokens (`PasswordResetTokenGenerator`): an HMAC of the user's id, password hash,
last login and email with a timestamp, signed with SECRET_KEY. Setting the password changes the hash, so a link
works once; it expires after its timeout. The invitation's tokens have their own salt (a reset link can't be used
as an invitation, nor the other way round) and their own timeout, INVITATION_TIMEOUT (seconds, default 7 days).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.timesince import timeuntil


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "organiser_portal.tokens.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        """As for a password reset (signature, used once), but expiring after INVITATION_TIMEOUT."""
        if not (user and token):
            return False
        try:
            ts_b36, _ = str(token).split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        if self._num_seconds(self._now()) - timestamp > settings.INVITATION_TIMEOUT:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


invitation_tokens = InvitationTokenGenerator()
password_reset_tokens = default_token_generator


def member_link_parts(user, tokens: PasswordResetTokenGenerator) -> dict[str, str]:
    """The `uidb64` and `token` URL arguments of a member email's link for `user`."""
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": tokens.make_token(user)}


def valid_for(seconds: int) -> str:
    """How long a link works, in words: "7 days", "1 hour"."""
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now)


def invitation_valid_for() -> str:
    return valid_for(settings.INVITATION_TIMEOUT)


def password_reset_valid_for() -> str:
    return valid_for(settings.PASSWORD_RESET_TIMEOUT)
