"""SMS sending limits (orders.sms_limits): per order in an hour and a day, per number across the organisation in a
day; a refusal names the limit and when it frees up and writes nothing; other orders and numbers go on; the window
passing allows again; two sends at the limit's edge on separate connections pass once."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.models import Order, TimelineEntry
from orders.services import order_send_tickets_sms
from orders.sms_limits import sms_order_limit_refusal
from organiser_portal.models import Membership
from organiser_portal.times import local_text
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

NUMBER = "+4915123456789"


@pytest.fixture
def agent(member):
    return member(Membership.Role.SUPPORT)


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SMS_LIMIT_PER_ORDER_HOUR = 2
    settings.SMS_LIMIT_PER_ORDER_DAY = 3
    settings.SMS_LIMIT_PER_NUMBER_DAY = 4


def shown_from(when: datetime, order: Order) -> str:
    """How a refusal shows the time an SMS may go again: `when` on the event's clock, rounded up to the minute."""
    minute = when.replace(second=0, microsecond=0)
    return local_text(minute if minute == when else minute + timedelta(minutes=1), order.event.tzinfo)


def send(agent, order: Order, phone: str = NUMBER, key: str = "") -> OutgoingMessage:
    return order_send_tickets_sms(actor=agent, order=order, phone=phone, idempotency_key=key)


def written(order: Order) -> tuple[int, int]:
    sms = OutgoingMessage.objects.filter(order=order, channel=OutgoingMessage.Channel.SMS).count()
    return sms, TimelineEntry.objects.filter(order=order, action="tickets.sms_sent").count()


def age(minutes: int, **filters) -> None:
    OutgoingMessage.objects.filter(channel="sms", **filters).update(
        created_at=F("created_at") - timedelta(minutes=minutes)
    )


def test_the_hour_limit_of_an_order_refuses_naming_it_and_when_it_frees_up_and_writes_nothing(agent, make_order):
    order = make_order()
    first = send(agent, order)
    send(agent, order, "+43 664 1234567")
    before = written(order)
    with pytest.raises(OrderActionError) as refused:
        send(agent, order, "+43 664 7654321", key="k3")
    frees_at = shown_from(first.created_at + timedelta(hours=1), order)
    assert str(refused.value) == (
        f"This order already had 2 SMS in the last hour, the most allowed. The next SMS can be sent from {frees_at}."
    )
    assert written(order) == before == (2, 2)
    assert not OutgoingMessage.objects.filter(idempotency_key="k3").exists()


def test_a_repeated_key_at_the_limit_is_the_sms_already_queued(agent, make_order):
    order = make_order()
    send(agent, order)
    second = send(agent, order, key="same")
    assert send(agent, order, key="same") == second and written(order) == (2, 2)


def test_other_orders_and_numbers_are_unaffected(agent, make_order):
    full, other = make_order(), make_order()
    send(agent, full)
    send(agent, full)
    with pytest.raises(OrderActionError):
        send(agent, full, "+43 664 1234567")
    assert send(agent, other).recipient == NUMBER  # the same number, from another order: its own count
    assert written(other) == (1, 1)


def test_the_window_passing_allows_again_and_the_day_limit_still_counts(agent, make_order):
    order = make_order()
    send(agent, order)
    send(agent, order)
    age(61, order=order)
    send(agent, order)  # the hour is over for the first two
    age(61, order=order)
    with pytest.raises(
        OrderActionError, match=r"This order already had 3 SMS in the last 24 hours, the most allowed\."
    ):
        send(agent, order)
    age(24 * 60 - 120, order=order)  # the first two are 25 h old now, the third 23 h
    assert send(agent, order) and written(order) == (4, 4)


def test_the_number_limit_counts_every_order_of_the_organisation(agent, make_order, settings):
    settings.SMS_LIMIT_PER_NUMBER_DAY = 2
    one, two, three = make_order(), make_order(), make_order()
    send(agent, one)
    send(agent, two, "0151 23456789")  # the same number written another way
    with pytest.raises(OrderActionError) as refused:
        send(agent, three)
    assert str(refused.value).startswith(
        "+49 1512 3456789 already had 2 SMS from this organisation in the last 24 hours, "
        "the most allowed. The next SMS to it can be sent from "
    )
    assert written(three) == (0, 0)
    assert send(agent, three, "+43 664 1234567")  # another number
    age(24 * 60 + 1, recipient=NUMBER)
    assert send(agent, three).recipient == NUMBER


def test_a_limit_set_to_zero_is_off(agent, make_order, settings):
    settings.SMS_LIMIT_PER_ORDER_HOUR = settings.SMS_LIMIT_PER_ORDER_DAY = 0
    order = make_order()
    for _ in range(4):
        send(agent, order)
    with pytest.raises(OrderActionError, match="SMS from this organisation in the last 24 hours"):
        send(agent, order)


def test_the_dialog_shows_the_refusal_as_a_form_error(client, agent, make_order):
    order = make_order(contact_phone="0151 23456789")
    send(agent, order)
    send(agent, order)
    client.force_login(agent)
    url = reverse("order_resend_sms", kwargs={"org": order.organisation.slug, "code": order.code})
    response = client.post(url, {"send_to": "order", "confirm": "on", "idempotency_key": "k9"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "the most allowed. The next SMS can be sent from" in html
    assert written(order) == (2, 2)


def test_the_dialog_says_so_before_the_confirmation(client, agent, make_order, settings):
    settings.SMS_LIMIT_PER_NUMBER_DAY = 1
    order = make_order()
    send(agent, make_order())  # another order got one SMS to the number today
    client.force_login(agent)
    url = reverse("order_resend_sms", kwargs={"org": order.organisation.slug, "code": order.code})
    fields = {"send_to": "other", "other_phone": "+49 151 23456789", "idempotency_key": "k"}
    html = client.post(url, fields).content.decode()
    assert "+49 1512 3456789 already had 1 SMS from this organisation" in html
    assert "Send SMS to" not in html  # no confirmation offered
    assert client.post(url, {**fields, "other_phone": "+43 664 1234567"}).context["confirming"]
    assert written(order) == (0, 0)


def race(agent, orders: list[Order]) -> list[BaseException | None]:
    """Send for each of `orders` on its own connection while this connection blocks new messages (a SHARE lock on
    their table lets the limits be counted but no SMS be written): every send that passes its limits waits with its
    count taken, so sends not serialised by a lock would all count the same and all pass."""
    outcomes: list[BaseException | None] = [None] * len(orders)

    def run(index: int) -> None:
        try:
            send(agent, orders[index], key=f"race-{index}")
        except BaseException as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(orders))]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {OutgoingMessage._meta.db_table} IN SHARE MODE")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=1)
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_sends_for_one_order_at_the_edge_pass_once(agent, make_order, settings):
    settings.SMS_LIMIT_PER_ORDER_HOUR = 1
    order = make_order()
    outcomes = race(agent, [order, order])
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "OrderActionError"]
    assert written(order) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_orders_sending_to_one_number_at_the_edge_pass_once(agent, make_order, settings, organisation):
    settings.SMS_LIMIT_PER_NUMBER_DAY = 1
    other_event = EventFactory(organisation=organisation)  # order_lock locks the event row too: not shared here
    one, two = make_order(), make_order(event=other_event, ticket_type=TicketTypeFactory(event=other_event))

    outcomes = race(agent, [one, two])
    assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "OrderActionError"]
    assert OutgoingMessage.objects.filter(channel="sms", recipient=NUMBER).count() == 1


def test_the_dialog_says_the_order_limit_before_a_number_is_typed(client, agent, make_order):
    order = make_order(contact_phone="0151 23456789")
    client.force_login(agent)
    url = reverse("order_resend_sms", kwargs={"org": order.organisation.slug, "code": order.code})
    assert "already had" not in client.get(url).content.decode()
    send(agent, order)
    send(agent, order)
    html = client.get(url).content.decode()
    assert "This order already had 2 SMS in the last hour" in html and "The next SMS can be sent from" in html
    assert written(order) == (2, 2)


def sms_item(client, order: Order):
    url = reverse("order_detail", kwargs={"org": order.organisation.slug, "code": order.code})
    response = client.get(url)
    return next(i for i in response.context["actions"] if i.key == "resend_sms"), response.content.decode()


def test_the_menu_item_is_disabled_at_the_order_limit_in_the_dialogs_words(client, agent, make_order):
    order = make_order(contact_phone="0151 23456789")
    client.force_login(agent)
    assert sms_item(client, order)[0].enabled
    send(agent, order)
    send(agent, order)
    item, html = sms_item(client, order)
    dialog = reverse("order_resend_sms", kwargs={"org": order.organisation.slug, "code": order.code})
    assert not item.enabled and item.url is None
    assert item.reason == sms_order_limit_refusal(order=order)  # the dialog's words, from the dialog's function
    assert item.reason.startswith("This order already had 2 SMS in the last hour, the most allowed. The next SMS")
    assert f'<small class="actions-reason">{item.reason}</small>' in html and f'href="{dialog}"' not in html
    assert item.reason in client.get(dialog).content.decode()
    age(61, order=order)  # the hour is over: the day's limit (3) still has room
    assert sms_item(client, order)[0].enabled


def test_the_menu_item_names_the_day_limit_and_when_it_frees_up(client, agent, make_order):
    order = make_order()
    first = send(agent, order)
    send(agent, order)
    age(61, order=order)
    send(agent, order)
    client.force_login(agent)
    item, _ = sms_item(client, order)
    frees_at = shown_from(first.created_at - timedelta(minutes=61) + timedelta(days=1), order)
    assert item.reason == (
        f"This order already had 3 SMS in the last 24 hours, the most allowed. The next SMS can be sent from {frees_at}."
    )


def test_the_number_limit_stays_in_the_dialog(client, agent, make_order, settings):
    """The per-number limit depends on the number typed: the menu item stays enabled for it."""
    settings.SMS_LIMIT_PER_NUMBER_DAY = 1
    order = make_order(contact_phone=NUMBER)
    send(agent, make_order())  # another order used up the number's day
    client.force_login(agent)
    assert sms_item(client, order)[0].enabled


def test_the_limit_costs_the_order_page_no_query(client, agent, make_order):
    quiet, busy = make_order(), make_order()
    send(agent, busy)
    send(agent, busy)
    client.force_login(agent)
    counts = []
    for order in (quiet, busy, quiet, busy):  # the first page view notes the organisation in the session
        url = reverse("order_detail", kwargs={"org": order.organisation.slug, "code": order.code})
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[2] == counts[3]
    assert not sms_item(client, busy)[0].enabled


def test_past_the_hour_and_the_day_limit_the_refusal_names_the_one_that_frees_up_last(client, agent, make_order):
    """Past both per-order limits, an SMS may go only when the day's has room: the hour's time would be refused."""
    order = make_order()
    first = send(agent, order)
    age(300, order=order)
    send(agent, order)
    send(agent, order)
    frees_at = shown_from(first.created_at - timedelta(minutes=300) + timedelta(days=1), order)
    said = f"This order already had 3 SMS in the last 24 hours, the most allowed. The next SMS can be sent from {frees_at}."
    with pytest.raises(OrderActionError) as refused:
        send(agent, order, key="k4")
    assert str(refused.value) == said
    client.force_login(agent)
    assert sms_item(client, order)[0].reason == said  # the ⋯ menu's disabled item, in the same words
    assert written(order) == (3, 3)


def test_past_the_order_and_the_number_limit_the_refusal_names_the_one_that_frees_up_last(agent, make_order, settings):
    settings.SMS_LIMIT_PER_NUMBER_DAY = 2
    order = make_order()
    earlier = send(agent, make_order())  # another order's SMS to the number, 5 hours ago
    age(300)
    send(agent, order)
    send(agent, order, "+43 664 1234567")  # the order's hour is full too, and frees up sooner
    frees_at = shown_from(earlier.created_at - timedelta(minutes=300) + timedelta(days=1), order)
    with pytest.raises(OrderActionError) as refused:
        send(agent, order, key="k3")
    assert str(refused.value) == (
        "+49 1512 3456789 already had 2 SMS from this organisation in the last 24 hours, the most allowed. "
        f"The next SMS to it can be sent from {frees_at}."
    )


def test_the_time_named_is_a_whole_minute_from_which_an_sms_may_go(agent, make_order):
    order = make_order()
    send(agent, order)
    send(agent, order)
    OutgoingMessage.objects.filter(order=order).update(
        created_at=timezone.now().replace(second=30, microsecond=0) - timedelta(minutes=2)
    )
    said = sms_order_limit_refusal(order=order)
    frees_at = OutgoingMessage.objects.filter(order=order).first().created_at + timedelta(hours=1, seconds=30)
    assert said.endswith(f"The next SMS can be sent from {local_text(frees_at, order.event.tzinfo)}.")
    assert sms_order_limit_refusal(order=order, now=frees_at) == ""  # at the minute named, it may go
    assert sms_order_limit_refusal(order=order, now=frees_at - timedelta(seconds=31)) == said


@pytest.mark.parametrize("method", ["get", "post"])
def test_at_the_order_limit_the_dialog_offers_only_close(client, agent, make_order, method):
    order = make_order(contact_phone="0151 23456789")
    client.force_login(agent)
    url = reverse("order_resend_sms", kwargs={"org": order.organisation.slug, "code": order.code})
    assert "Check the number…" in client.get(url).content.decode()
    send(agent, order)
    send(agent, order)
    fields = {"send_to": "other", "other_phone": "+43 664 1234567", "idempotency_key": "k"}
    response = client.get(url) if method == "get" else client.post(url, fields)
    html = response.content.decode()
    assert "This order already had 2 SMS in the last hour" in html
    assert "Check the number…" not in html and "<form" not in html.split('id="resend-sms"')[1]
    assert "Back to the order" in html  # the page's way out; in the dialog, Close
    htmx = client.post(url, {**fields, "confirm": "on"}, headers={"HX-Request": "true"}).content.decode()
    assert "data-close-dialog>Close</button>" in htmx and "Send SMS" not in htmx
    assert written(order) == (2, 2)
