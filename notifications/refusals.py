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
# The recipient's mailbox is gone, whatever else the reason says ("550 5.1.1 user unknown; spam policy", "… spf=pass"):
# RFC 3463 X.1.1 bad mailbox, X.1.2 bad system, X.1.10 null MX, X.2.1 mailbox disabled, or the usual words for them.
_RECIPIENT = (
    r"no such (?:user|mailbox|recipient)|unknown (?:user|recipient)|(?:user|recipient|mailbox) unknown"
    r"|mailbox (?:disabled|not found)|invalid recipient|\b5\.1\.(?:1|2|10)\b|\b5\.2\.1\b"
)
# The address itself (suppressed, deactivated, no such mailbox, a domain that doesn't exist).
_ADDRESS = re.compile(
    rf"{_RECIPIENT}|invalid (?:e-?mail|address)|suppress|inactive|deactivat|unsubscrib|does not exist|not found"
    r"|\b5\.1\.\d",
    re.IGNORECASE,
)
# Our sender address or domain refused by name (X.1.7, X.1.8; "Sender address rejected: User unknown"): our side,
# even when the words are a mailbox's.
_SENDER_NAMED = re.compile(r"sender (?:address|domain)|\b5\.1\.[78]\b", re.IGNORECASE)
# The sending domain (its SPF, DKIM or DMARC, its reputation, our sender address): our side.
_SENDER = re.compile(rf"dmarc|\bspf\b|dkim|reputation|{_SENDER_NAMED.pattern}", re.IGNORECASE)
_RECIPIENT_GONE = re.compile(_RECIPIENT, re.IGNORECASE)


def mentions_content(reason: str) -> bool:
    """Whether the reason speaks of what the email carried (attachment, policy, spam filter, SMTP 5.7.x)."""
    return bool(_CONTENT.search(reason))


def for_sender(reason: str) -> bool:
    """Whether the receiving server refused mail from the sending domain (SPF, DKIM, DMARC, reputation), not a
    recipient whose mailbox is gone."""
    if _SENDER_NAMED.search(reason):
        return True
    return bool(_SENDER.search(reason)) and not _RECIPIENT_GONE.search(reason)


def for_content(reason: str) -> bool:
    """Whether the refusal was for what the email carried, not for its address or its sender."""
    return mentions_content(reason) and not _ADDRESS.search(reason) and not for_sender(reason)


def bounce_blames_address(reason: str) -> bool:
    """Whether a hard bounce shows the address is bad, so it belongs on the suppression list: every bounce but one
    refused for its content or its sending domain (the guest's mailbox is fine; the next email may well arrive).
    A mailbox that is gone outweighs whatever else the reason says, unless it is our sender address's."""
    if _SENDER_NAMED.search(reason):
        return False
    return bool(_RECIPIENT_GONE.search(reason)) or (not for_content(reason) and not for_sender(reason))
