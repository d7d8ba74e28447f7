"""notifications/sql.py's two forms give the same results on the same data: the send claim, each move of a
message with its order's "Order email status", duplicate and out-of-order delivery events."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from notifications.models import DeliveryEvent, OutgoingMessage
from notifications.services import (
    IncomingEvent,
    delivery_event_record,
    message_claim,
    message_mark_failed,
    message_mark_sent,
    message_queue,
    message_release_for_retry,
)
from orders.models import Order, TimelineEntry
from tests.sql_forms import run_each_form

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
PROVIDER_ID = "0f5c2f7e-3d1e-4f5a-9a8e-6a1c2b3d4e5f"


@dataclass(frozen=True)
class State:
    """Everything the pipeline writes about a message, but the times the services take from the clock."""

    status: str
    reason: str
    attempts: int
    opened_at: datetime | None
    order_email_status: str
    timeline: list[tuple]
    events: list[tuple]


def state(message_id: int) -> State:
    message = OutgoingMessage.objects.get(pk=message_id)
    assert message.order_id is not None  # ticket emails are about an order
    entries = TimelineEntry.objects.filter(order_id=message.order_id, action__startswith="email.")
    events = DeliveryEvent.objects.order_by("occurred_at", "event_type")
    return State(
        status=message.status,
        reason=message.status_reason,
        attempts=message.attempts,
        opened_at=message.opened_at,
        order_email_status=Order.objects.get(pk=message.order_id).email_status,
        timeline=list(entries.order_by("id").values_list("action", "actor_kind", "data")),
        events=list(events.values_list("event_type", "message_id", "reason", "occurred_at")),
    )


def event(event_type: str, at: datetime, *, message=None, event_id: str = "", reason: str = "", **ids) -> IncomingEvent:
    """A Postmark event about `message` (by the portal's metadata), or about whatever `ids` name."""
    if message is not None:
        ids.setdefault("portal_message_id", str(message.pk))
    raw = {"RecordType": event_type, "ID": event_id, "At": at.isoformat(), **ids}
    return IncomingEvent("Postmark", event_type, at, "anna@example.com", reason, event_id, raw=raw, **ids)


@pytest.fixture
def queued(make_order) -> OutgoingMessage:
    """A paid order's tickets email, queued: its hand-over to a worker waits for a commit that never comes."""
    return make_order().messages.get()


@pytest.fixture
def sent(queued) -> OutgoingMessage:
    message_claim(message_id=queued.pk)
    return message_mark_sent(message_id=queued.pk, provider="postmark", provider_message_id=PROVIDER_ID)


def test_the_claim_moves_a_queued_message_once_and_the_order_follows(queued):
    def scenario():
        first, second = message_claim(message_id=queued.pk), message_claim(message_id=queued.pk)
        return first is not None, second is None, state(queued.pk)

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    claimed_once, then_refused, after = pg.outcome
    assert claimed_once and then_refused
    assert (after.status, after.attempts, after.order_email_status) == ("sending", 1, "sending")
    assert pg.ran("WITH moved") and not portable.ran("WITH moved")


def test_sent_released_for_a_retry_claimed_again_and_refused(queued):
    def scenario():
        message_claim(message_id=queued.pk)
        message_release_for_retry(message_id=queued.pk, reason="Temporary error at the email service: 503")
        message_claim(message_id=queued.pk)
        message_mark_failed(message_id=queued.pk, status="rejected", reason="Inactive recipient")
        return state(queued.pk)

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    assert (pg.outcome.status, pg.outcome.reason, pg.outcome.attempts) == ("rejected", "Inactive recipient", 2)
    assert pg.outcome.order_email_status == "rejected"
    assert [action for action, *_ in pg.outcome.timeline] == ["email.queued", "email.rejected"]


def test_out_of_order_and_duplicate_events_end_in_the_same_state(sent):
    reports = [
        event("opened", T0 + timedelta(minutes=10), message=sent, event_id="open-1"),  # proves delivery
        event("delivered", T0 + timedelta(minutes=1), message=sent, event_id="delivery-1"),  # arrives late
        event("deferred", T0 + timedelta(seconds=30), message=sent, event_id="defer-1", reason="451 greylisted"),
        event("opened", T0 + timedelta(minutes=10), message=sent, event_id="open-1"),  # the same open again
        event("bounced", T0 + timedelta(hours=2), provider_message_id=PROVIDER_ID, reason="550 mailbox gone"),
        event("delivered", T0, provider_message_id="nobody-knows-this-one"),
    ]

    def scenario():
        stored = [delivery_event_record(event=report) is not None for report in reports]
        return stored, state(sent.pk), OutgoingMessage.objects.get(pk=sent.pk).status_at

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    stored, after, status_at = pg.outcome
    assert stored == [True, True, True, False, True, True]
    assert (after.status, after.reason, after.order_email_status) == ("bounced", "550 mailbox gone", "bounced")
    assert after.opened_at == T0 + timedelta(minutes=10) and status_at == T0 + timedelta(hours=2)
    assert [(action, actor) for action, actor, _ in after.timeline] == [
        ("email.queued", "system"),
        ("email.sent", "system"),
        ("email.delivered", "webhook"),
        ("email.bounced", "webhook"),
    ]
    assert len(after.events) == 5 and after.events[0][1] is None  # the unknown message's event is kept too
    assert pg.ran("FOR UPDATE OF o") and not portable.ran("FOR UPDATE")


def test_only_the_latest_ticket_email_moves_the_order_email_status(sent):
    resend = message_queue(order=sent.order, kind=OutgoingMessage.Kind.TICKETS_RESEND, recipient="anna@example.com")

    def scenario():
        delivery_event_record(event=event("delivered", T0, message=sent, event_id="delivery-1"))
        older = state(sent.pk)
        delivery_event_record(event=event("bounced", T0, message=resend, event_id="bounce-1", reason="550"))
        return older, state(resend.pk)

    pg, portable = run_each_form(scenario)

    assert pg.outcome == portable.outcome
    older, newer = pg.outcome
    assert (older.status, older.order_email_status) == ("delivered", "queued")
    assert (newer.status, newer.order_email_status) == ("bounced", "bounced")
