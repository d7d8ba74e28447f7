"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, see /work/shared/BROWSER.md)
against pytest-django's live server. Never `playwright install`: these machines can't fetch its browser."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from . import a11y


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    """Where the browser tests save their screenshots: the README's docs/screenshots/ when
    SAVE_SCREENSHOTS=1 (to refresh them on purpose), else a temporary folder, so a test run
    leaves the work tree as it found it."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(page):
    """Playwright's page, failing the test when the browser refused something under the portal's
    Content-Security-Policy (an inline script or handler, eval, a resource from elsewhere): Chromium reports each
    refusal on the console."""
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield page
    assert not refused, "refused by the Content-Security-Policy:\n" + "\n".join(refused)


@pytest.fixture
def assert_accessible():
    """`assert_accessible(page, "what is on screen")`: fails on any serious or critical axe-core violation of
    the page as it is now, and on a control whose name doesn't start with its visible label (tests/e2e/a11y.py).
    Call it in any browser test once the page, menu or dialog to check is showing."""
    return a11y.assert_accessible


@pytest.fixture
def demo(transactional_db):
    """The demo organisation with its logins (README), as `make run` seeds it."""
    call_command("seed_demo", "--allow-demo-logins", verbosity=0)
