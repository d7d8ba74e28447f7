"""What happened to the demo orders' emails, played through the notification services: the outbox claim,
the hand-over to the email service, and its webhook events (so timeline, statuses and the order's email
status are exactly what the real pipeline writes)."""

from __future__ import annotations

import uuid
import zlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from notifications.models import DeliveryEvent, MessageStatus, OutgoingMessage
from notifications.services import (
    IncomingEvent,
    delivery_event_record,
    message_claim,
    message_mark_failed,
    message_mark_sent,
)
from orders.email_typos import suggest_email
from orders.errors import OrderActionError
from orders.models import Order
from orders.services import order_change_contact, order_resend_tickets, order_send_tickets_sms

if TYPE_CHECKING:
    from .context import StoryContext

Kind = OutgoingMessage.Kind
EventType = DeliveryEvent.Type
PROVIDER = "postmark"
SMS_PROVIDER = "SMS sandbox"
BOUNCE_REASON = "550 5.1.1 mailbox does not exist"
# A typo'd domain (gmial.com) has no mail server: the receiving side says so, as the sandbox does for one.
TYPO_BOUNCE_REASON = "550 5.1.2 domain not found"
DEFER_REASON = "451 4.7.1 greylisted, please try again later"
REJECT_REASON = "recipient is on the suppression list after an earlier hard bounce"
FAIL_REASON = "the email service did not answer after 3 attempts (connection timed out)"


class MailStory(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    REJECTED = "rejected"
    FAILED = "failed"
    COMPLAINED = "complained"
    FIXED_AND_RESENT = "fixed_and_resent"  # bounced on a typo; support corrected the address and resent
    RESENT_SAME = "resent_same"  # delivered, the guest couldn't find it, support resent it


def tickets_email(order: Order) -> OutgoingMessage | None:
    return order.messages.filter(kind__in=OutgoingMessage.TICKET_KINDS).order_by("-created_at", "-id").first()


def send_story(ctx: StoryContext, order: Order, story: str, at: datetime, *, sms_allowed: bool = True) -> datetime:
    """Let `story` happen to the tickets email the order's payment queued. Returns when the last thing happened.
    With `sms_allowed`, some bounced orders get their tickets link by SMS afterwards (`_sends_sms_after_bounce`)."""
    message = tickets_email(order)
    if message is None:
        return at
    if story == MailStory.FIXED_AND_RESENT:
        end = deliver(ctx, message, MailStory.BOUNCED, at)
        return _fix_and_resend(ctx, order, end)
    if story == MailStory.BOUNCED and sms_allowed and _sends_sms_after_bounce(order):
        return _sms_after_bounce(ctx, order, deliver(ctx, message, MailStory.BOUNCED, at))
    if story == MailStory.RESENT_SAME:
        end = deliver(ctx, message, MailStory.DELIVERED, at)
        ctx.clock.at = later(ctx, end, hours=(20, 96))
        resent = order_resend_tickets(actor=ctx.rng.choice(ctx.agents), order=order)
        return deliver(ctx, resent, MailStory.OPENED, ctx.clock.at)
    return deliver(ctx, message, story, at)


def later(ctx: StoryContext, after: datetime, *, hours: tuple[int, int]) -> datetime:
    """A moment some hours after `after`, but never in the future."""
    when = after + timedelta(hours=ctx.rng.randint(*hours), minutes=ctx.rng.randint(0, 59))
    return min(when, ctx.b.now - timedelta(minutes=ctx.rng.randint(10, 30)))


def _sends_sms_after_bounce(order: Order) -> bool:
    """Every other bounced order: support sent the tickets link by SMS. Chosen without the story's random numbers,
    so the rest of the demo stays as it was."""
    return zlib.crc32(order.code.encode()) % 2 == 0


def _sms_after_bounce(ctx: StoryContext, order: Order, bounced_at: datetime) -> datetime:
    """After the bounce, a support agent sends the tickets link by SMS to the guest's mobile; the sandbox SMS
    provider reports it sent, then delivered. Without a mobile number on the order, the guest gave one on the phone
    and the agent typed it in once."""
    ctx.clock.at = min(bounced_at + timedelta(minutes=45), ctx.b.now - timedelta(minutes=5))
    try:
        message = order_send_tickets_sms(actor=ctx.agents[0], order=order, phone=order.contact_phone)
    except OrderActionError:
        typed = f"+49151{zlib.crc32(order.code.encode()) % 10**8:08d}"
        message = order_send_tickets_sms(actor=ctx.agents[0], order=order, phone=typed)
    ctx.clock.at += timedelta(seconds=2)
    message_claim(message_id=message.pk)
    sid = f"SM{uuid.uuid5(uuid.NAMESPACE_URL, order.code).hex}"
    message_mark_sent(message_id=message.pk, provider=SMS_PROVIDER, provider_message_id=sid)
    for status, seconds in ((EventType.SENT, 3), (EventType.DELIVERED, 20)):
        when = ctx.clock.at + timedelta(seconds=seconds)
        ctx.clock.at = when + timedelta(seconds=1)
        fields = {"MessageSid": sid, "MessageStatus": status, "To": message.recipient}
        delivery_event_record(
            event=IncomingEvent(
                provider=SMS_PROVIDER,
                event_type=status,
                occurred_at=when,
                recipient=message.recipient,
                event_id=f"{sid}:{status}",
                provider_message_id=sid,
                portal_message_id=str(message.pk),
                raw=fields,
            )
        )
    return bounced_at  # what happens to the order next is timed from its email, as without the SMS


def _fix_and_resend(ctx: StoryContext, order: Order, bounced_at: datetime) -> datetime:
    ctx.clock.at = later(ctx, bounced_at, hours=(1, 30))
    fixed = ctx.b.people.fixed_address(order.contact_email)
    order = order_change_contact(
        actor=ctx.rng.choice(ctx.agents),
        order=order,
        name=order.contact_name,
        email=fixed,
        phone=order.contact_phone,
        resend_tickets=True,
    )
    return deliver(ctx, tickets_email(order), MailStory.DELIVERED, ctx.clock.at)


def deliver(ctx: StoryContext, message: OutgoingMessage | None, story: str, queued_at: datetime) -> datetime:
    """Walk one queued message to what `story` says happened to it. Returns the time of its last event."""
    if message is None or story == MailStory.QUEUED:
        return queued_at
    rng, clock = ctx.rng, ctx.clock
    clock.at = queued_at + timedelta(seconds=rng.randint(1, 4))
    message_claim(message_id=message.pk)
    if story == MailStory.SENDING:
        return clock.at
    if story in (MailStory.FAILED, MailStory.REJECTED):
        status = MessageStatus.FAILED if story == MailStory.FAILED else MessageStatus.REJECTED
        clock.at += timedelta(seconds=rng.randint(30, 600) if story == MailStory.FAILED else 2)
        message_mark_failed(
            message_id=message.pk,
            status=status,
            reason=FAIL_REASON if story == MailStory.FAILED else REJECT_REASON,
            provider="" if story == MailStory.FAILED else PROVIDER,
        )
        if story == MailStory.REJECTED:
            _webhook(ctx, message, EventType.REJECTED, clock.at, REJECT_REASON)
        return clock.at
    clock.at += timedelta(seconds=rng.randint(2, 15))
    message_mark_sent(
        message_id=message.pk,
        provider=PROVIDER,
        provider_message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    )
    message.refresh_from_db(fields=["provider_message_id"])
    at = clock.at + timedelta(seconds=rng.randint(3, 180))
    events: list[tuple[str, datetime, str]] = []
    if story == MailStory.SENT:
        return clock.at
    if story == MailStory.DEFERRED:
        events.append((EventType.DEFERRED, at, DEFER_REASON))
    elif story == MailStory.BOUNCED:
        if rng.random() < 0.3:
            events.append((EventType.DEFERRED, at, DEFER_REASON))
            at += timedelta(minutes=rng.randint(5, 40))
        reason = TYPO_BOUNCE_REASON if suggest_email(message.recipient) else BOUNCE_REASON
        events.append((EventType.BOUNCED, at, reason))
    else:
        events.append((EventType.DELIVERED, at, ""))
        if story in (MailStory.OPENED, MailStory.CLICKED):
            at = min(at + timedelta(minutes=rng.randint(1, 600)), ctx.b.now)
            events.append((EventType.OPENED, at, ""))
        if story == MailStory.CLICKED:
            at = min(at + timedelta(seconds=rng.randint(5, 300)), ctx.b.now)
            events.append((EventType.CLICKED, at, ""))
        if story == MailStory.COMPLAINED:
            at = min(at + timedelta(hours=rng.randint(1, 20)), ctx.b.now)
            events.append((EventType.COMPLAINED, at, ""))
    for event_type, when, reason in events:
        _webhook(ctx, message, event_type, when, reason)
    return at


def _webhook(ctx: StoryContext, message: OutgoingMessage, event_type: str, when: datetime, reason: str) -> None:
    """One tracking event, as anymail hands it over from the email service's webhook."""
    ctx.clock.at = when + timedelta(seconds=1)  # received a moment after it happened
    event_id = str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))
    delivery_event_record(
        event=IncomingEvent(
            provider=PROVIDER,
            event_type=event_type,
            occurred_at=when,
            recipient=message.recipient,
            reason=reason,
            event_id=event_id,
            provider_message_id=message.provider_message_id,
            portal_message_id=str(message.pk),
            raw={
                "RecordType": event_type,
                "ID": event_id,
                "MessageID": message.provider_message_id,
                "Recipient": message.recipient,
                "Details": reason,
                "Metadata": {"portal_message_id": str(message.pk)},
            },
        )
    )
