"""Order email status copies the status of the order's latest ticket email as it is."""

from notifications.models import MessageStatus
from orders.models import EMAIL_IN_FLIGHT, OrderEmailStatus


def test_every_message_status_is_an_order_email_status_with_the_same_label():
    order_statuses = dict(OrderEmailStatus.choices)
    assert {s.value: s.label for s in MessageStatus} == {
        value: label for value, label in order_statuses.items() if value != OrderEmailStatus.NOT_SENT
    }


def test_only_messages_still_on_their_way_are_in_flight():
    assert {str(s) for s in EMAIL_IN_FLIGHT} == {"queued", "sending", "sent", "deferred"}
