"""The order page reads one snapshot: a refund that succeeds while the page is being built shows on every part of
it or on none (never "Item refunded" beside "Paid", which the poll would then keep for good)."""

import threading

import pytest
from django.db import connection, transaction
from django.urls import reverse

from orders.models import Order, Refund
from orders.refunds import refund_move
from organiser_portal.models import Membership
from tests.factories import TicketTypeFactory
from tests.orders.refund_setup import paid_order, requested_refund

pytestmark = pytest.mark.django_db(transaction=True)


def _succeed_elsewhere(refund_id: int) -> None:
    """The payment provider's answer, recorded and committed on another connection (a task, a webhook)."""

    def run() -> None:
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update().get(refunds__pk=refund_id)
                refund = Refund.objects.get(pk=refund_id)
                refund.order = order
                refund_move(refund, Refund.Status.SUCCEEDED, actor_kind="system")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


class CommitAfterOrderRead:
    """An execute wrapper: once the page has read the order row and turns to its tickets, the refund succeeds on
    another connection."""

    def __init__(self, refund_id: int) -> None:
        self.refund_id, self.done = refund_id, False

    def __call__(self, execute, sql, params, many, context):
        if not self.done and sql.startswith('SELECT "tickets_ticket"'):
            self.done = True
            _succeed_elsewhere(self.refund_id)
        return execute(sql, params, many, context)


@pytest.fixture
def refunding(event, client, member):
    ticket_type = TicketTypeFactory(event=event)
    order = paid_order(event=event, ticket_type=ticket_type, quantity=3)
    refund = requested_refund(order, amount=ticket_type.price, tickets=[order.tickets.order_by("id").first()])
    client.force_login(member(Membership.Role.MANAGER))
    return order, refund


def _agrees(page: str) -> bool:
    """Both parts tell the same story: refunded (status and refund row) or still on its way (neither)."""
    refunded = "Item refunded" in page
    return refunded == ("Paid · partially refunded" in page)


@pytest.mark.parametrize("poll", [False, True], ids=["page", "poll"])
def test_a_refund_succeeding_mid_page_shows_everywhere_or_nowhere(refunding, client, poll):
    order, refund = refunding
    path = reverse(
        "order_refresh" if poll else "order_detail", kwargs={"org": order.organisation.slug, "code": order.code}
    )
    wrapper = CommitAfterOrderRead(refund.pk)
    with connection.execute_wrapper(wrapper):
        page = client.get(path, {"refunds": "stale"} if poll else {}).content.decode()
    assert wrapper.done, "the refund succeeded while the page was being read"
    assert _agrees(page), "the page mixes the refund's new state with the order's old one"
    assert "Item refunded" not in page  # the snapshot is the one the page started from
    after = client.get(path, {"refunds": "stale"} if poll else {}).content.decode()
    assert "Item refunded" in after and _agrees(after)  # the next poll brings the whole new state
