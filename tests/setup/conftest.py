"""Fixtures of the setup tests: owners and managers, and the links in emails (`sent_emails`: tests/conftest.py)."""

import re

import pytest

from organiser_portal.models import Membership

Role = Membership.Role


@pytest.fixture
def owner(member):
    return member(Role.OWNER, user__first_name="Olga", user__last_name="Owner")


@pytest.fixture
def manager(member):
    return member(Role.MANAGER)


def link_in(email) -> str:
    """The path of the portal link in an email's plain text (PORTAL_URL taken off)."""
    match = re.search(r"https://portal\.test(/\S+)", email.body)
    assert match, email.body
    return match.group(1)
