"""seed_demo: the same data every time, and every status a support agent meets."""

import re
import unicodedata
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Min, Q, Sum
from django.http import HttpRequest

from demo.seed import demo_reset
from demo.specs import ANNA_CODE, LOGINS
from guests.models import Customer
from notifications.models import DeliveryEvent, MessageStatus, OutgoingMessage
from notifications.services import IncomingEvent, delivery_event_record, message_claim, message_mark_sent
from orders.capacity import capacity_taken
from orders.models import Order, OrderLine, Payment, Refund, TimelineEntry
from organiser_portal.matching import has_cjk, name_key
from organiser_portal.models import Event, Membership, Organisation, Region, TicketType
from organiser_portal.phones import phone_e164
from tickets.models import Scan, Ticket

pytestmark = pytest.mark.django_db(transaction=False)

MODELS = [
    Organisation, Region, Membership, Event, TicketType, Customer, Order, OrderLine, Payment, Refund,
    TimelineEntry, Ticket, Scan, OutgoingMessage, DeliveryEvent,
]  # fmt: skip


def snapshot() -> dict:
    return {
        "counts": {m.__name__: m._default_manager.count() for m in MODELS},
        "order_status": Counter(Order.objects.values_list("status", flat=True)),
        "email_status": Counter(Order.objects.values_list("email_status", flat=True)),
        "message_status": Counter(OutgoingMessage.objects.values_list("status", flat=True)),
        "refund_status": Counter(Refund.objects.values_list("status", flat=True)),
        "ticket_status": Counter(t.display_status for t in Ticket.objects.all()),
        "codes": set(Order.objects.values_list("organisation__slug", "code")),
        "ticket_ids": set(Ticket.objects.values_list("public_id", flat=True)),
        "actions": Counter(TimelineEntry.objects.values_list("action", flat=True)),
        "contacts": set(Order.objects.values_list("code", "contact_email", "total", "refunded_total")),
        "held": Counter(Order.objects.filter(tickets_held=True).values_list("event__name", flat=True)),
        "attendees": set(Ticket.objects.values_list("public_id", "attendee_name", "attendee_email")),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module (it takes seconds), reset and seed again, and keep both snapshots."""
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("seed_demo", "--allow-demo-logins", stdout=out)
        first = snapshot()
        call_command("seed_demo", "--allow-demo-logins", stdout=StringIO())  # already seeded: a no-op
        again = snapshot()
        call_command("seed_demo", "--if-empty", "--allow-demo-logins", stdout=StringIO())
        call_command("seed_demo", "--reset", "--allow-demo-logins", stdout=StringIO())
        fresh = snapshot()
        yield {"first": first, "again": again, "fresh": fresh, "output": out.getvalue()}
        demo_reset()  # the other test modules share this database


def test_seeding_twice_changes_nothing(seeded):
    assert seeded["again"] == seeded["first"]


def test_a_fresh_seed_gives_the_same_data(seeded):
    assert seeded["fresh"] == seeded["first"]


def test_about_500_orders_in_two_organisations(seeded):
    counts = seeded["first"]["counts"]
    assert 450 <= counts["Order"] <= 550
    assert counts["Organisation"] == 2
    assert Event.objects.filter(organisation__slug="nordlicht").count() >= 3
    assert Order.objects.filter(organisation__slug="alpenklang").exists()


def test_every_status_appears(seeded):
    snap = seeded["first"]
    assert set(snap["order_status"]) == set(Order.Status.values)
    assert set(snap["message_status"]) == set(MessageStatus.values)
    assert set(snap["refund_status"]) == set(Refund.Status.values)
    assert set(snap["ticket_status"]) == {
        "Valid · unused",
        "Valid · used",
        "Invalid",
        "Invalid · transferred",
        "Invalid · cancelled",
        "Invalid · refunded",
        "Invalid · reissued",
    }
    assert {"opened", "clicked", "deferred", "bounced", "complained"} <= set(
        DeliveryEvent.objects.values_list("event_type", flat=True)
    )


def test_the_stories_around_the_statuses(seeded):
    assert Order.objects.filter(status="paid", refunded_total__gt=0).exists()  # partially refunded
    assert Order.objects.filter(tickets_held=True, event__send_tickets_automatically=False).exists()
    assert not Order.objects.filter(tickets_held=True, event__send_tickets_automatically=True).exists()
    assert Order.objects.filter(customer=None).exists() and Order.objects.exclude(customer=None).exists()
    assert Customer.objects.filter(verified=True).exists() and Customer.objects.filter(verified=False).exists()
    assert TicketType.objects.filter(requires_personal_data=True).exists()
    assert Ticket.objects.annotate(n=Count("scans")).filter(n__gte=2).exists()
    scans = set(Scan.objects.values_list("result", "reason"))
    assert {("admitted", ""), ("denied", "already_used"), ("denied", "invalid")} <= scans
    assert Scan.objects.exclude(access_area="").exclude(access_point="").exclude(device="").exists()
    assert OutgoingMessage.objects.filter(kind="tickets_resend").exists()
    assert OutgoingMessage.objects.filter(channel="sms", status="delivered", provider="SMS sandbox").exists()
    assert TimelineEntry.objects.filter(action="order.contact_changed").exists()
    bounce = OutgoingMessage.objects.filter(status="bounced", recipient__contains="@gmial.com")
    assert bounce.exists() and not bounce.exclude(status_reason__contains="5.1.2 domain not found").exists()


def test_sums_and_email_status_are_consistent(seeded):
    for order in Order.objects.annotate(refunded=Sum("refunds__amount", filter=Q(refunds__status="succeeded"))):
        assert (order.refunded or 0) == order.refunded_total, order.code
        latest = order.messages.filter(kind__in=OutgoingMessage.TICKET_KINDS).order_by("-created_at", "-id").first()
        assert order.email_status == (latest.status if latest else "not_sent"), order.code
    for ticket in Ticket.objects.filter(used_at__isnull=False)[:50]:
        assert ticket.scans.filter(result="admitted").exists()


def test_the_demo_guest(seeded):
    anna = Order.objects.get(code=ANNA_CODE)
    assert (anna.contact_name, anna.contact_email) == ("Anna Müller", "anna.mueller@gmial.com")
    assert anna.email_status == "bounced" and anna.customer is None
    assert "5.1.2 domain not found" in anna.messages.get().status_reason  # gmial.com has no mail server
    assert ANNA_CODE in seeded["output"]


def test_the_demo_logins(seeded):
    for login in LOGINS:
        assert login.email in seeded["output"]
        user = authenticate(HttpRequest(), username=login.email, password=login.password)
        assert user is not None, login.email
        if login.role is None:
            assert user.is_superuser
        else:
            membership = Membership.objects.get(user=user, organisation__slug=login.org_slug)
            assert membership.role == login.role
            assert {r.name for r in membership.regions.all()} == set(login.regions)
    owner = authenticate(HttpRequest(), username="owner@demo.example", password="demo-owner")
    assert not Membership.objects.filter(user=owner, organisation__slug="alpenklang").exists()


def _shape(order: Order) -> list:
    return [(e.action, e.actor_kind, sorted(e.data)) for e in TimelineEntry.objects.filter(order=order).order_by("id")]


def test_bulk_written_orders_read_like_service_written_ones(seeded, make_order):
    """The crowd is written in bulk: its timeline must be what the services write for the same story."""
    order = make_order()
    message = order.messages.get()
    message_claim(message_id=message.pk)
    message_mark_sent(message_id=message.pk, provider="postmark", provider_message_id="pm-1")
    delivery_event_record(
        event=IncomingEvent(
            provider="postmark", event_type="delivered", occurred_at=None, event_id="e1", provider_message_id="pm-1"
        )
    )
    expected = _shape(order)
    # A crowd order no story went on with (a support agent's reissue, transfer or refund adds entries of its own).
    crowd = (
        Order.objects.filter(event__name="Jazz im Hof", email_status="delivered")
        .exclude(timeline__actor_kind=TimelineEntry.ActorKind.USER)
        .order_by("-id")
        .first()
    )
    assert crowd is not None
    assert _shape(crowd) == expected


@pytest.mark.django_db
def test_seed_demo_refuses_known_passwords_when_debug_is_off(settings):
    """With DEBUG off the database may be production's: no logins with the README's passwords."""
    settings.DEBUG = False
    demo_reset()
    with pytest.raises(CommandError, match="--allow-demo-logins"):
        call_command("seed_demo", stdout=StringIO())
    assert not get_user_model().objects.filter(username__endswith="@demo.example").exists()
    assert not Organisation.objects.exists()


def test_every_seeded_name_and_phone_has_its_search_keys(seeded):
    """demo/crowd.py, demo/people.py and demo/story.py write orders and accounts in bulk and one by one:
    each row's search keys are the ones the models compute, and the demo has the names issue 11 is about."""
    orders = Order.objects.select_related("event__organisation")
    for order in orders:
        assert order.name_key == name_key(order.contact_name), order.code
        assert order.contact_phone_e164 == phone_e164(order.contact_phone, order.event.phone_region), order.code
    for customer in Customer.objects.select_related("organisation"):
        assert customer.name_key == name_key(customer.name)
        assert customer.phone_e164 == phone_e164(customer.phone, customer.organisation.country)
    names = list(orders.values_list("contact_name", flat=True))
    assert any(has_cjk(name) for name in names)
    assert any(unicodedata.normalize("NFC", name) != name for name in names)  # stored decomposed
    assert orders.exclude(contact_phone_e164="").exclude(contact_phone__startswith="+").exists()  # national


def test_the_running_festival_has_its_door(seeded):
    """Its access areas and gates, the lounge for VIP passes alone, and its scans linked to them."""
    from tickets.models import AccessArea

    assert Scan.objects.exclude(area=None).exists()
    assert not Scan.objects.filter(access_area="Main entrance", area=None).exists()
    lounge = AccessArea.objects.filter(name="VIP lounge").first()
    assert lounge is not None and not lounge.all_ticket_types
    assert list(lounge.ticket_types.values_list("name", flat=True)) == ["VIP pass"]
    assert list(lounge.points.values_list("name", flat=True)) == ["Lounge door"]


def test_every_account_is_older_than_its_first_order(seeded):
    """The customer page's "Account since" is the account's own day: never the seeding day for an account whose
    orders are older, never after its first order."""
    accounts = Customer.objects.annotate(first=Min("orders__created_at"))
    assert accounts.exists()
    assert not accounts.filter(created_at__gt=F("first")).exists()
    with_orders = accounts.filter(first__isnull=False)
    assert with_orders.exists() and with_orders.filter(created_at__lt=F("first")).count() == with_orders.count()
    assert len({c.created_at.date() for c in accounts}) > 20  # spread over many days, not the seeding day


def test_the_readme_counts_the_winter_galas_held_orders_right(seeded):
    """README's bulk-send paragraph names how many Winter Gala orders the demo holds for review."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [said] = re.findall(r"Winter Gala's (\d+) held orders", readme)
    assert seeded["first"]["held"]["Winter Gala"] == int(said)


def test_no_ticket_type_is_sold_past_its_capacity(seeded):
    """The crowd written in bulk sells only what the stories left free, as order_create's capacity check would."""
    limited = list(TicketType.objects.filter(capacity__isnull=False))
    taken = capacity_taken(tt.pk for tt in limited)
    assert limited and all(taken[tt.pk] <= tt.capacity for tt in limited), {
        tt.name: (taken[tt.pk], tt.capacity) for tt in limited
    }
    assert any(taken[tt.pk] == tt.capacity for tt in limited)  # the demo still has a sold-out type to show
