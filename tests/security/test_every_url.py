"""Every URL of the portal, asked by everyone who might ask (issue 16, "Suites that keep it so").

The URL patterns are enumerated from the resolver, their arguments filled from one organisation's objects (an
event in the North region, one in the South, an order with tickets, a refund, a customer account, a team, a door
setup), and each is requested with GET and POST as: nobody logged in, each role, a manager limited to the other
region, and another organisation's owner. Expected, from the permission table (organiser_portal.permissions):

- a page of the organisation: nobody → the login page; another organisation → 404; an object outside a
  region-limited member's regions → 404; a role without the permission → 403; with it → no refusal;
- a public page → answered (never a 5xx); a machine endpoint (webhooks, the scanner API) → 4xx without its
  credentials;
- a refused request changes nothing (counts and states of what the actions write).

Every URL name must be in ACCESS: a new view makes this test fail until someone says who may use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.urls import reverse

from organiser_portal.models import Membership
from organiser_portal.permissions import ROLE_PERMS, Perm
from tests.factories import OrganisationFactory

from .site import build_world, fingerprint, url_for, url_names

pytestmark = pytest.mark.django_db

Role = Membership.Role

PUBLIC, LOGIN, MACHINE = "public", "login", "machine"
# For each URL name: PUBLIC (anyone), LOGIN (any logged-in user), MACHINE (its own credentials), or the
# permission a member needs, with `scoped` when the URL names an event or an order (region limits apply).
ACCESS: dict[str, tuple[str | Perm, bool]] = {
    "login": (PUBLIC, False),
    "password_reset": (PUBLIC, False),
    "password_reset_done": (PUBLIC, False),
    "password_reset_confirm": (PUBLIC, False),
    "password_reset_complete": (PUBLIC, False),
    "invitation_accept": (PUBLIC, False),
    "health": (PUBLIC, False),
    "scanner_openapi": (PUBLIC, False),
    "personalise_public": (PUBLIC, False),  # the customer's signed link: a wrong token is a clear page
    "tickets_page": (PUBLIC, False),  # the customer's signed link: a wrong token is a clear page
    "tickets_page_pdf": (PUBLIC, False),
    "find_my_tickets": (PUBLIC, False),  # the organisation's public form: the same answer for every address
    "customer_verify": (PUBLIC, False),  # the verification email's signed link: a wrong token is a clear page
    "dashboard": (LOGIN, False),
    "logout": (LOGIN, False),
    "password_change": (LOGIN, False),
    "password_change_done": (LOGIN, False),
    "stripe_webhook": (MACHINE, False),
    "sms_status_webhook": (MACHINE, False),  # signed with X-Twilio-Signature
    "checkin_api": (MACHINE, False),
    "region_choose": (Perm.VIEW, False),
    "my_events": (Perm.VIEW, False),
    "search": (Perm.VIEW, False),
    "orders": (Perm.VIEW, False),
    "customers": (Perm.VIEW, False),
    "customer_detail": (Perm.VIEW, True),  # an account whose orders are all in other regions is not shown
    "customer_new": (Perm.LINK_CUSTOMERS, False),  # a region-limited member is told to create it from an order
    "customer_merge": (Perm.MANAGE_CUSTOMERS, True),
    "customer_send_verification": (Perm.LINK_CUSTOMERS, True),
    "order_customer_create": (Perm.LINK_CUSTOMERS, True),
    "order_customer_link": (Perm.LINK_CUSTOMERS, True),
    "order_customer_unlink": (Perm.LINK_CUSTOMERS, True),
    "orders_email_status": (Perm.VIEW, False),
    "event_guests": (Perm.VIEW, True),
    "event_at_risk": (Perm.VIEW, True),
    "event_bulk_confirm": (Perm.RESEND, True),  # and SEND_HELD for held tickets: the same roles
    "event_bulk_start": (Perm.RESEND, True),
    "event_bulk_detail": (Perm.VIEW, True),
    "suppressions": (Perm.VIEW, False),
    "suppression_remove": (Perm.MANAGE_SUPPRESSIONS, False),
    "event_scans": (Perm.VIEW, True),
    "order_detail": (Perm.VIEW, True),
    "order_refresh": (Perm.VIEW, True),
    "ticket_scans": (Perm.VIEW, True),
    "order_new": (Perm.CREATE_ORDERS, True),
    "order_resend": (Perm.RESEND, True),
    "order_resend_sms": (Perm.RESEND, True),
    "order_edit_contact": (Perm.EDIT_CONTACT, True),
    "order_fix_and_resend": (Perm.EDIT_CONTACT, True),
    "order_send_held": (Perm.SEND_HELD, True),
    "order_download": (Perm.DOWNLOAD_PDF, True),
    "order_tickets_page": (Perm.SHARE_TICKETS_PAGE, True),
    "ticket_pdf": (Perm.DOWNLOAD_PDF, True),
    "order_refund": (Perm.REFUND, True),
    "order_refund_retry": (Perm.REFUND, True),
    "order_cancel": (Perm.CANCEL, True),
    "order_personalise": (Perm.PERSONALISE, True),
    "order_personalise_link": (Perm.PERSONALISE, True),
    "order_personalise_link_revoke": (Perm.PERSONALISE, True),
    "ticket_transfer": (Perm.TRANSFER, True),
    "ticket_transfer_cancel": (Perm.TRANSFER, True),
    "ticket_reissue": (Perm.TRANSFER, True),
    "settings_home": (Perm.VIEW_MEMBERS, False),
    "team": (Perm.VIEW_MEMBERS, False),  # a POST (an invitation) needs MANAGE_MEMBERS: POSTED below
    "member_edit": (Perm.MANAGE_MEMBERS, False),
    "member_resend": (Perm.MANAGE_MEMBERS, False),
    "member_remove": (Perm.MANAGE_MEMBERS, False),
    "regions": (Perm.MANAGE_REGIONS, False),
    "region_edit": (Perm.MANAGE_REGIONS, False),
    "region_remove": (Perm.MANAGE_REGIONS, False),
    "settings_events": (Perm.MANAGE_EVENTS, False),
    "event_new": (Perm.MANAGE_EVENTS, False),
    "event_settings": (Perm.MANAGE_EVENTS, True),
    "ticket_type_new": (Perm.MANAGE_EVENTS, True),
    "ticket_type_edit": (Perm.MANAGE_EVENTS, True),
    "ticket_type_remove": (Perm.MANAGE_EVENTS, True),
    "event_door": (Perm.MANAGE_DOOR, True),
    "door_area": (Perm.MANAGE_DOOR, True),
    "door_point": (Perm.MANAGE_DOOR, True),
    "door_device": (Perm.MANAGE_DOOR, True),
    "door_device_change": (Perm.MANAGE_DOOR, True),
    "event_import": (Perm.IMPORT, True),
    "event_import_template": (Perm.IMPORT, True),
    "event_import_run": (Perm.IMPORT, True),
    "event_import_confirm": (Perm.IMPORT, True),
    "event_import_errors": (Perm.IMPORT, True),
}


# URLs whose POST needs more than their GET.
POSTED: dict[str, Perm] = {"team": Perm.MANAGE_MEMBERS}


def access(name: str) -> tuple[str | Perm, bool]:
    """ACCESS's rule for the URL; the email services' delivery webhooks (notifications.urls mounts those of
    settings.EMAIL_WEBHOOKS: every service in the tests) are machine endpoints, behind their secret."""
    if name.endswith("_webhook") and name != "stripe_webhook":
        return (MACHINE, False)
    return ACCESS[name]


def test_every_url_says_who_may_use_it():
    unknown = {name for name in url_names() if not name.endswith("_webhook")} - set(ACCESS)
    assert not unknown, f"add these URL names to ACCESS with who may use them: {sorted(unknown)}"
    gone = set(ACCESS) - set(url_names())
    assert not gone, f"these URL names no longer exist: {sorted(gone)}"


def _login_page(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _expected(name: str, person: str | None, method: str = "get") -> str:
    """'login', 'refused' (403), 'missing' (404), 'allowed', or for public/machine URLs their own kinds."""
    rule, scoped = access(name)
    if method == "post" and name in POSTED:
        rule = POSTED[name]
    if rule in (PUBLIC, MACHINE):
        return rule
    if person is None:
        return "login"
    if rule == LOGIN:
        return "allowed"
    if person == "another organisation's owner":
        return "missing"
    if person == "manager in the South":
        return "missing" if scoped else ("allowed" if rule in ROLE_PERMS[Role.MANAGER] else "refused")
    return "allowed" if rule in ROLE_PERMS[person] else "refused"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """One organisation's objects, every URL's arguments, and the people who ask (site.build_world): built once
    for the module (a few seconds each time) and rolled back after it; each test's own writes are rolled back
    after the test, so every URL meets the same data."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world(OrganisationFactory(name="Festival GmbH", slug="festival"))
        transaction.set_rollback(True)


PEOPLE: list[str | None] = [None, *Role.values, "manager in the South", "another organisation's owner"]


@pytest.mark.parametrize("name", url_names())
def test_each_url_answers_each_person_as_the_permissions_say(client, world, every_webhook_configured, name):
    url = url_for(name, world["arguments"])
    for person, method in itertools.product(PEOPLE, ("get", "post")):
        client.logout()
        if person is not None:
            client.force_login(world["people"][person])
        expected = _expected(name, person, method)
        if expected == "allowed" and method == "post":
            continue  # an empty POST may be a valid action (remove a member): the action's own tests cover it
        before = fingerprint()
        response = getattr(client, method)(url)
        status = response.status_code
        said = f"{method.upper()} {url} as {person or 'nobody'}: {status}, expected {expected}"
        assert status < 500 or (name == "health" and status == 503), said  # health: 503 names what is down
        if method == "get" and status == 405 and expected in ("login", "missing", "refused"):
            continue  # a POST-only URL: GET is refused before anything is looked up
        if expected == "login":
            assert _login_page(response), said
        elif expected == "missing":
            assert status == 404, said
        elif expected == "refused":
            assert status == 403, said
        elif expected == "machine":  # a GET may be a service's handshake; a POST needs the credentials
            assert method == "get" or 400 <= status < 500, said
        elif expected == "allowed":
            assert status not in (403, 404), said
            assert name == "logout" or not _login_page(response), said  # logging out leads to the login page
        if expected in ("login", "missing", "refused", "machine"):
            assert fingerprint() == before, f"{said}: and it changed something"
