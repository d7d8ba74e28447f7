"""Whose fault a refusal was, read from the email service's reason text: the address's, what the email carried,
or the sending domain's.

The services pass the receiving server's words through (Postmark's `Details`, SendGrid's `reason`, …), with the
SMTP enhanced status code when there is one (RFC 3463: X.1.x addressing, X.7.x security or policy). A reason is
about the address when it says so even if it also says "blocked" or "spam" ("suppressed after a spam complaint").
"""

from __future__ import annotations

import re

# Refused for what it carried: some mailbox providers block PDF attachments from unknown senders (SMTP 5.7.x
# "policy", "attachment not allowed", "blocked", "spam").
_CONTENT = re.compile(r"attach|block|polic|content|spam|virus|malware|\b5\.7\.\d", re.IGNORECASE)
# The address itself (suppressed, deactivated, no such mailbox, a domain that doesn't exist).
_ADDRESS = re.compile(
    r"suppress|inactive|deactivat|unsubscrib|invalid (?:e-?mail|recipient|address)|no such (?:user|mailbox)"
    r"|unknown (?:user|recipient)|does not exist|not found|\b5\.1\.\d",
    re.IGNORECASE,
)
# The sending domain (its SPF, DKIM or DMARC, its reputation): our side.
_SENDER = re.compile(r"dmarc|\bspf\b|dkim|reputation", re.IGNORECASE)


def mentions_content(reason: str) -> bool:
    """Whether the reason speaks of what the email carried (attachment, policy, spam filter, SMTP 5.7.x)."""
    return bool(_CONTENT.search(reason))


def for_sender(reason: str) -> bool:
    """Whether the receiving server refused mail from the sending domain (SPF, DKIM, DMARC, reputation)."""
    return bool(_SENDER.search(reason))


def for_content(reason: str) -> bool:
    """Whether the refusal was for what the email carried, not for its address or its sender."""
    return mentions_content(reason) and not _ADDRESS.search(reason) and not for_sender(reason)


def bounce_blames_address(reason: str) -> bool:
    """Whether a hard bounce shows the address is bad, so it belongs on the suppression list: every bounce but one
    refused for its content or its sending domain (the guest's mailbox is fine; the next email may well arrive)."""
    return not for_content(reason) and not for_sender(reason)
