"""Suggest the address a guest probably meant when their email bounced: gmial.com → gmail.com, .con → .com."""

from __future__ import annotations

COMMON_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.de",
    "hotmail.co.uk",
    "outlook.com",
    "outlook.de",
    "live.com",
    "live.de",
    "msn.com",
    "yahoo.com",
    "yahoo.de",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "freenet.de",
    "posteo.de",
    "mailbox.org",
    "protonmail.com",
    "proton.me",
    "mail.com",
    "orange.fr",
    "free.fr",
    "btinternet.com",
)
_KNOWN = frozenset(COMMON_DOMAINS)

# Endings typed wrong often enough to correct even on domains we don't know.
TLD_TYPOS = {
    "con": "com",
    "cmo": "com",
    "ocm": "com",
    "cm": "com",
    "om": "com",
    "comm": "com",
    "coom": "com",
    "vom": "com",
    "xom": "com",
    "cpm": "com",
    "ne": "net",
    "nte": "net",
    "ent": "net",
    "nett": "net",
    "ogr": "org",
    "orgg": "org",
    "dee": "de",
    "ed": "de",
}


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def suggest_email(address: str) -> str | None:
    """The corrected address, or None when the domain looks fine (or nothing close is known)."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    domain = domain.lower().rstrip(".")
    if domain in _KNOWN:
        return None
    best, best_distance = None, 3
    for known in COMMON_DOMAINS:
        d = _distance(domain, known)
        limit = 1 if len(known) <= 6 else 2  # short domains (web.de, me.com) are one typo from many real ones
        if d <= limit and d < best_distance:
            best, best_distance = known, d
    if best is None:
        name, dot, tld = domain.rpartition(".")
        if dot and name and tld in TLD_TYPOS:
            best = f"{name}.{TLD_TYPOS[tld]}"
    return f"{local}@{best}" if best and best != domain else None
