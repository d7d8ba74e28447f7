"""The door after a transfer or a reissue, through POST /api/v1/check-ins/: a reissued ticket's old code (scanned
or typed) is denied "reissued", the new ticket is admitted, a transferred original is denied "invalid"; the
old code costs the scanner no extra statement. And two transfers of one ticket at once make exactly one."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.errors import OrderActionError
from orders.models import TimelineEntry
from orders.selectors import order_detail
from orders.services import ticket_reissue, ticket_transfer, ticket_transfer_cancel
from organiser_portal.models import Membership
from organiser_portal.permissions import access_for
from tests.race import order_locked, race
from tickets.models import Scan, Ticket, TicketReplacement

URL = "/api/v1/check-ins/"
Role = Membership.Role


def post(client, token: str, code: str) -> dict:
    body = json.dumps({"code": code})
    return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}").json()


@pytest.fixture
def support(member):
    return member(Role.SUPPORT)


@pytest.mark.django_db
def test_a_reissued_tickets_old_code_is_denied_reissued_and_the_new_one_admitted(client, token, ticket, support):
    new = ticket_reissue(actor=support, ticket=ticket, send_email=False, idempotency_key="r").new_ticket

    for old_code in (ticket.secret, ticket.public_id):  # the QR code, and the ticket ID typed under it
        answer = post(client, token, old_code)
        assert (answer["result"], answer["reason"]) == ("denied", "reissued")
        assert answer["message"] == "Reissued: this code was replaced by a new ticket. Only the new ticket is admitted."
        assert answer["ticket"]["id"] == ticket.public_id
    answer = post(client, token, new.secret)
    assert (answer["result"], answer["ticket"]["id"]) == ("admitted", new.public_id)
    assert list(Scan.objects.order_by("id").values_list("ticket_id", "reason")) == [
        (ticket.pk, "reissued"),
        (ticket.pk, "reissued"),
        (new.pk, ""),
    ]


@pytest.mark.django_db
def test_the_old_code_costs_the_scanner_no_extra_statement(client, token, make_order, support):
    first, second = make_order(quantity=2).tickets.all()
    ticket_reissue(actor=support, ticket=first, send_email=False)
    post(client, token, "warm up")  # the device and its door plan are read once and kept
    counts = {}
    for name, code in (("normal", second.secret), ("reissued", first.secret)):
        with CaptureQueriesContext(connection) as queries:
            post(client, token, code)
        counts[name] = len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]])
    assert counts == {"normal": 2, "reissued": 2}


@pytest.mark.django_db
def test_a_transferred_original_is_denied_invalid_and_the_new_ticket_admitted(client, token, ticket, support):
    transfer = ticket_transfer(actor=support, ticket=ticket, name="Ben Okafor", email="ben@example.com")

    answer = post(client, token, ticket.secret)
    assert (answer["result"], answer["reason"], answer["message"]) == (
        "denied",
        "invalid",
        "Ticket invalid · transferred.",
    )
    answer = post(client, token, transfer.new_ticket.secret)
    assert answer["result"] == "admitted" and answer["ticket"]["attendee_name"] == "Ben Okafor"
    # Used at the door: the transfer can no longer be cancelled.
    with pytest.raises(OrderActionError, match="has been used at the door"):
        ticket_transfer_cancel(actor=support, replacement=transfer)


@pytest.mark.django_db
def test_after_a_cancelled_transfer_the_original_is_admitted_and_the_new_ticket_denied(client, token, ticket, support):
    transfer = ticket_transfer(actor=support, ticket=ticket, name="Ben Okafor", email="ben@example.com")
    ticket_transfer_cancel(actor=support, replacement=transfer)

    answer = post(client, token, transfer.new_ticket.secret)
    assert (answer["reason"], answer["message"]) == ("invalid", "Ticket invalid · transfer cancelled.")
    assert post(client, token, ticket.secret)["result"] == "admitted"


@pytest.mark.django_db
def test_a_used_original_cant_be_transferred(client, token, ticket, support):
    assert post(client, token, ticket.secret)["result"] == "admitted"
    with pytest.raises(OrderActionError, match="has been used at the door: it can't be transferred"):
        ticket_transfer(actor=support, ticket=ticket, name="Ben Okafor", email="ben@example.com")


@pytest.mark.django_db
def test_the_order_page_shows_the_denied_old_code_in_its_timeline(client, token, ticket, support):
    ticket_reissue(actor=support, ticket=ticket, send_email=False)
    post(client, token, ticket.secret)
    access = access_for(support, ticket.organisation)
    assert access is not None
    sentences = [entry.sentence for entry in order_detail(access, ticket.order.code).timeline]
    assert sentences[0] == f"Ticket {ticket.public_id} denied at Main entrance · Gate A1: reissued"
    assert sentences[1].startswith(f"Ticket {ticket.public_id} reissued as ")


@pytest.mark.django_db(transaction=True)
def test_two_transfers_of_one_ticket_at_once_make_exactly_one(make_order, member):
    """Two agents, two forms (two keys), two connections: the order's row lock lets one through; the other is
    refused with the reason, after the first committed."""
    order = make_order()
    ticket = order.tickets.get()
    agents = [member(Role.SUPPORT), member(Role.SUPPORT)]

    def transfer(index: int) -> None:
        ticket_transfer(
            actor=agents[index],
            ticket=Ticket.objects.select_related("order__event", "order__organisation").get(pk=ticket.pk),
            name=f"Holder {index}",
            email=f"holder{index}@example.com",
            idempotency_key=f"form-{index}",
        )

    # Both are inside the service, waiting behind the order's row lock, before either goes on.
    outcomes = race(calls=[lambda: transfer(0), lambda: transfer(1)], hold=order_locked(order.pk))

    assert TicketReplacement.objects.filter(old_ticket=ticket).count() == 1
    assert order.tickets.count() == 2
    assert TimelineEntry.objects.filter(order=order, action="ticket.transfer_created").count() == 1
    assert order.messages.filter(kind="ticket_transfer").count() == 1
    (refused,) = [o for o in outcomes if o is not None]
    assert isinstance(refused, OrderActionError) and "invalid · transferred" in str(refused)
