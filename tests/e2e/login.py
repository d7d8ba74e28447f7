"""Logging in through the login form, as a person does."""

from playwright.sync_api import Page, expect


def log_in(page: Page, live_server, username: str, password: str = "pw") -> None:
    """Log in with the form; "pw" is every tests/factories.py user's password. Waits for My events."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My events")).to_be_visible()
