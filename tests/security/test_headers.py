"""What every answer tells the browser (issue 16, "Locks on the doors"): a Content-Security-Policy with no inline
script, cookies no script reads and no other site sends; and no template that would need an inline script."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def test_every_page_has_a_policy_without_inline_scripts(client, member):
    client.force_login(member())
    for url in (reverse("login"), reverse("dashboard"), reverse("health")):
        policy = directives(client.get(url, follow=True))
        assert policy["script-src"] == ["'self'"], url
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"] and policy["base-uri"] == ["'self'"]


def test_cookies_are_http_only_and_same_site(client, member):
    page = client.get(reverse("login"))
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    user = member()
    client.post(reverse("login"), {"username": user.username, "password": "pw"})
    session = client.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


# An attribute that runs script: onclick=, onchange=, … and htmx's hx-on (which needs eval).
_HANDLER = re.compile(r"""\s(on[a-z]+|hx-on[:\w-]*)\s*=""", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_has_an_inline_script_or_handler(path):
    if "email" in path.parts:  # emails are read in mail programs, not under the portal's policy
        return
    text = path.read_text()
    assert not _HANDLER.search(text), "move the handler into static/js/portal.js (a data- attribute)"
    assert not _INLINE_SCRIPT.search(text), "move the script into a static file"
