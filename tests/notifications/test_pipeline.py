"""The outbox and the send task, in process: queue on paid, claim once, send with the PDF, retry, refuse."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from pypdf import PdfReader

from notifications.models import OutgoingMessage
from notifications.services import message_claim, message_mark_failed, messages_requeue_stale
from notifications.tasks import send_message
from orders.models import TimelineEntry
from tests.factories import EventFactory, TicketTypeFactory

from .conftest import FakeResponse

pytestmark = pytest.mark.django_db

Status = OutgoingMessage.Status


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def actions(order) -> list[str]:
    return list(TimelineEntry.objects.filter(order=order).order_by("created_at", "id").values_list("action", flat=True))


def test_paid_order_queues_its_tickets_email_after_commit(
    make_order, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = make_order(quantity=3)
    message = order.messages.get()
    assert (message.kind, message.recipient, message.status) == ("tickets", "anna@example.com", Status.QUEUED)
    assert order.email_status == "queued"
    assert test_backend == [] and len(callbacks) == 1  # nothing leaves before commit

    callbacks[0]()
    message.refresh_from_db()
    order.refresh_from_db()
    assert message.status == Status.SENT and order.email_status == "sent"
    assert message.provider == "Test" and message.provider_message_id == "0"
    (email,) = test_backend
    assert email.to == ["anna@example.com"]
    assert email.anymail_test_params["metadata"]["portal_message_id"] == str(message.pk)
    assert "text/html" in [mimetype for _, mimetype in email.alternatives]
    (name, content, mimetype) = email.attachments[0]
    assert name == f"tickets-{order.code}.pdf" and mimetype == "application/pdf"
    text = pdf_text(content)
    for ticket in order.tickets.all():
        assert ticket.public_id in text
        assert ticket.public_id in email.body
    assert actions(order)[-2:] == ["email.queued", "email.sent"]


def test_held_event_queues_nothing(make_order, organisation):
    event = EventFactory(organisation=organisation, send_tickets_automatically=False)
    order = make_order(event=event, ticket_type=TicketTypeFactory(event=event))
    assert order.tickets_held and not order.messages.exists() and order.email_status == "not_sent"


def test_the_task_twice_sends_once(sql_form, make_order, test_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    assert send_message.apply(args=[message.pk]).get() == "sent"
    assert send_message.apply(args=[message.pk]).get() == "skipped: not queued, or not due"
    assert len(test_backend) == 1
    message.refresh_from_db()
    assert message.attempts == 1
    assert actions(order).count("email.sent") == 1


def test_claim_is_exclusive(sql_form, make_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    assert message_claim(message_id=message.pk) is not None
    assert message_claim(message_id=message.pk) is None
    order.refresh_from_db()
    assert order.email_status == "sending"


def test_no_valid_ticket_left_fails_with_the_reason(make_order, test_backend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    order.tickets.update(status="invalid", invalid_reason="refunded")
    message = order.messages.get()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.status_reason) == (Status.FAILED, "No valid ticket to send")
    assert test_backend == []


def test_a_failure_is_rejected_or_failed_and_nothing_else(make_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    with pytest.raises(ValueError, match="rejected or failed, not as delivered"):
        message_mark_failed(message_id=message.pk, status=Status.DELIVERED, reason="Mailbox full")
    message.refresh_from_db()
    assert (message.status, message.status_reason) == (Status.QUEUED, "")


def test_provider_error_is_retried_then_sent(make_order, postmark_api, django_capture_on_commit_callbacks):
    responses, calls = postmark_api
    responses += [
        FakeResponse(503, b'{"ErrorCode": 100, "Message": "Service unavailable"}'),
        FakeResponse(
            200,
            b'{"To": "anna@example.com", "SubmittedAt": "2026-01-01T10:00:00Z", '
            b'"MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", "ErrorCode": 0, "Message": "OK"}',
        ),
    ]
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert len(calls) == 2 and message.attempts == 2
    assert (message.status, message.provider, message.provider_message_id) == (
        Status.SENT,
        "Postmark",
        "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
    )


def test_inactive_recipient_is_rejected_with_the_reason(make_order, postmark_api, django_capture_on_commit_callbacks):
    responses, _calls = postmark_api
    responses.append(
        FakeResponse(
            422,
            b'{"ErrorCode": 406, "Message": "You tried to send to recipient(s) that have been marked as inactive. '
            b"Found inactive addresses: anna@example.com. Inactive recipients are ones that have generated "
            b'a hard bounce, a spam complaint, or a manual suppression."}',
        )
    )
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    send_message.apply(args=[message.pk])
    message.refresh_from_db()
    order.refresh_from_db()
    assert message.status == Status.REJECTED and order.email_status == "rejected"
    assert "refused" in message.status_reason
    assert actions(order)[-1] == "email.rejected"


def test_a_refusal_ends_rejected_or_failed_and_nothing_else(make_order):
    message = make_order().messages.get()
    with pytest.raises(ValueError, match="rejected or failed"):
        message_mark_failed(message_id=message.pk, status=Status.DELIVERED, reason="")
    message.refresh_from_db()
    assert message.status == Status.QUEUED and actions(message.order)[-1] == "email.queued"


def test_sweeper_requeues_only_stale_messages(
    make_order, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        fresh, stale = make_order(), make_order()
    OutgoingMessage.objects.filter(order=stale).update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    assert messages_requeue_stale() == 1
    assert [email.to for email in test_backend] == [["anna@example.com"]]
    assert stale.messages.get().status == Status.SENT
    assert fresh.messages.get().status == Status.QUEUED


def test_sweeper_recovers_a_message_whose_worker_died(
    make_order, test_backend, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order()
    message = order.messages.get()
    message_claim(message_id=message.pk)
    OutgoingMessage.objects.filter(pk=message.pk).update(status_at=timezone.now() - timedelta(hours=1))
    messages_requeue_stale(queued_for=timedelta(0))
    message.refresh_from_db()
    assert message.status == Status.SENT and len(test_backend) == 1
