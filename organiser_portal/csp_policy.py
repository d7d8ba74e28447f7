"""The Content-Security-Policy every answer carries (django-csp; settings.CONTENT_SECURITY_POLICY)."""

from typing import Any

from csp.constants import NONE, SELF, UNSAFE_INLINE

# Content-Security-Policy (django-csp) on every answer: scripts only from the portal's own static files (no inline
# script, no event handler attribute, no eval: static/js/portal.js holds what pages need), nothing framed, forms
# post only here. Inline styles stay allowed (style attributes, htmx's indicator style); images may be data: URLs
# (the QR codes on the order page).
CSP_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
