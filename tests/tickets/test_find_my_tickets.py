""" "Find my tickets" (tickets.find_tickets): one email through the outbox with a link to each current order's
tickets page of the organisation, the same page answer for known and unknown addresses, and rate limits per
client and per address."""

import re
import uuid
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutgoingMessage
from orders.models import Order, TimelineEntry
from organiser_portal.celery import app as celery_app
from tests.factories import EventFactory, OrganisationFactory, TicketTypeFactory
from tickets.find_tickets import FIND_TICKETS_TASK
from tickets.models import Ticket
from tickets.tasks import find_my_tickets_send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_rate_limits(settings):
    settings.RATE_LIMIT_NAMESPACE = uuid.uuid4().hex


@pytest.fixture
def url(organisation):
    return reverse("find_my_tickets", kwargs={"org": organisation.slug})


def ask(client, url, email, captured, *, published=None, **extra):
    """Post the form as a customer would, then run what it handed over as the worker would (tests have none).
    The request publishes its task as to a worker (not eager); `published` collects the task's args."""
    published = [] if published is None else published
    response = post_publishing(client, url, email, published, **extra)
    for args in published:
        with captured(execute=True):
            find_my_tickets_send(*args)
    return response


def post_publishing(client, url, email, published, **extra):
    def keep(sender=None, body=None, **kwargs):
        if sender == FIND_TICKETS_TASK:
            published.append(tuple(body[0]))

    before_task_publish.connect(keep, weak=False)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        return client.post(url, {"email": email}, **extra)
    finally:
        celery_app.conf.task_always_eager = eager
        before_task_publish.disconnect(keep)


def test_the_form_asks_for_the_address(client, url, organisation):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and organisation.name in html
    assert 'type="email"' in html and "Email me my tickets" in html


def test_known_and_unknown_addresses_get_the_same_page_and_only_the_known_an_email(
    client, url, make_order, sent_emails, django_capture_on_commit_callbacks
):
    make_order(contact_email="anna@example.com")
    mail.outbox.clear()  # the paid order's own tickets email
    known = ask(client, url, "anna@example.com", django_capture_on_commit_callbacks)
    assert len(sent_emails) == 1
    unknown = ask(client, url, "nobody@example.com", django_capture_on_commit_callbacks)
    assert len(sent_emails) == 1  # nothing for an address without orders

    assert known.status_code == unknown.status_code == 200
    known_html = known.content.decode().replace("anna@example.com", "ADDRESS")
    unknown_html = unknown.content.decode().replace("nobody@example.com", "ADDRESS")
    assert known_html == unknown_html
    assert "we have sent it one email" in known_html and "csrfmiddlewaretoken" not in known_html


def test_the_email_links_every_current_order_of_the_organisation_and_no_other(
    client, url, organisation, make_order, sent_emails, django_capture_on_commit_callbacks
):
    first = make_order(contact_email="Anna@Example.com", quantity=2)
    later_event = EventFactory(organisation=organisation, name="Winter Gala")
    second = make_order(event=later_event, ticket_type=TicketTypeFactory(event=later_event))
    refunded = make_order()
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.REFUNDED)
    refunded.tickets.update(status=Ticket.Status.INVALID, invalid_reason="refunded")
    held = make_order()
    Order.objects.filter(pk=held.pk).update(tickets_held=True)
    past = EventFactory(
        organisation=organisation,
        starts_at=timezone.now() - timedelta(days=30),
        ends_at=timezone.now() - timedelta(days=29),
    )
    over = make_order(event=past, ticket_type=TicketTypeFactory(event=past))
    someone_else = make_order(contact_email="ben@example.com")
    elsewhere = EventFactory(organisation=OrganisationFactory(name="Other Org"))
    foreign = make_order(event=elsewhere, ticket_type=TicketTypeFactory(event=elsewhere))
    mail.outbox.clear()

    ask(client, url, "  anna@EXAMPLE.com ", django_capture_on_commit_callbacks)

    (email,) = sent_emails
    assert email.to == ["anna@EXAMPLE.com"] and not email.attachments
    assert email.subject == f"Your tickets at {organisation.name}: 2 orders"
    links = re.findall(r"https://portal\.test(/my-tickets/\S+/)", email.body)
    assert len(links) == 2
    for code in (first.code, second.code):
        assert code in email.body
    for order in (refunded, held, over, someone_else, foreign):
        assert order.code not in email.body
    for link, order in zip(links, (first, second)):  # the soonest event first
        page = client.get(link)
        assert page.status_code == 200 and order.code in page.content.decode()
    assert all(link in email.alternatives[0][0] for link in links)

    message = OutgoingMessage.objects.get(kind=OutgoingMessage.Kind.TICKETS_LINKS)
    assert message.order == first and message.status == OutgoingMessage.Status.SENT
    for order in (first, second):
        entry = TimelineEntry.objects.get(order=order, action="tickets_page.links_requested")
        assert entry.actor_kind == TimelineEntry.ActorKind.CUSTOMER
        assert entry.data == {"recipient": "anna@EXAMPLE.com", "orders": 2}
    assert Order.objects.get(pk=first.pk).email_status == first.email_status  # not a tickets email


def test_requests_are_limited_per_address(
    client, settings, url, make_order, sent_emails, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "find_tickets_address": "2/3600"}
    make_order()
    mail.outbox.clear()
    for n in range(2):
        response = ask(
            client, url, "anna@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR=f"198.51.100.{n}"
        )
        assert response.status_code == 200
    limited = ask(client, url, "ANNA@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR="198.51.100.9")
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert len(sent_emails) == 2
    # An unknown address is limited the same way: the limit doesn't tell who bought.
    for n in range(2):
        ask(client, url, "nobody@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR=f"198.51.100.{n}")
    unknown = ask(client, url, "nobody@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR="198.51.100.9")
    assert unknown.status_code == 429 and unknown.content == limited.content


def test_requests_are_limited_per_client(
    client, settings, url, make_order, sent_emails, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "find_tickets_client": "3/3600"}
    make_order()
    mail.outbox.clear()
    answers = [
        ask(client, url, f"guess{n}@example.com", django_capture_on_commit_callbacks).status_code for n in range(3)
    ]
    assert answers == [200, 200, 200]
    limited = ask(client, url, "anna@example.com", django_capture_on_commit_callbacks)
    assert limited.status_code == 429 and "Too many requests" in limited.content.decode()
    assert sent_emails == []  # the known address came after the limit: nothing sent
    other_client = ask(client, url, "anna@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR="203.0.113.7")
    assert other_client.status_code == 200 and len(sent_emails) == 1


def test_a_bad_address_is_a_form_error_and_sends_nothing(client, url, make_order, sent_emails):
    make_order()
    mail.outbox.clear()
    response = client.post(url, {"email": "not an address"})
    assert response.status_code == 400 and "Enter a valid email address." in response.content.decode()
    assert not OutgoingMessage.objects.filter(kind=OutgoingMessage.Kind.TICKETS_LINKS).exists()


def test_an_unknown_organisation_is_a_404(client):
    assert client.get(reverse("find_my_tickets", kwargs={"org": "no-such-org"})).status_code == 404


def test_while_the_limits_cant_be_counted_nothing_is_sent(
    client, settings, url, make_order, sent_emails, django_capture_on_commit_callbacks
):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    make_order()
    mail.outbox.clear()
    published: list[tuple] = []
    response = ask(client, url, "anna@example.com", django_capture_on_commit_callbacks, published=published)
    assert response.status_code == 429 and sent_emails == [] and published == []


def test_the_request_path_runs_the_same_queries_for_known_and_unknown_addresses(
    client, url, make_order, sent_emails, django_capture_on_commit_callbacks
):
    make_order(contact_email="anna@example.com")
    answers, published = [], []
    for email in ("anna@example.com", "nobody@example.com", "anna@example.com"):
        with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
            response = post_publishing(client, url, email, published)
        answers.append((response.status_code, [query["sql"] for query in queries.captured_queries]))
    assert answers[0] == answers[1] == answers[2]
    status, sql = answers[0]
    assert status == 200 and not any('"orders_order"' in statement for statement in sql)  # no lookup in the request
    # Each request hands its own key to the task, with the address as typed (stripped).
    assert [args[1] for args in published] == ["anna@example.com", "nobody@example.com", "anna@example.com"]
    assert len({args[2] for args in published}) == 3


def test_the_task_sends_once_per_request_however_often_it_runs(
    client, url, organisation, make_order, sent_emails, django_capture_on_commit_callbacks
):
    order = make_order(contact_email="anna@example.com")
    mail.outbox.clear()
    published: list[tuple] = []
    ask(client, url, "anna@example.com", django_capture_on_commit_callbacks, published=published)
    (args,) = published
    for _ in range(2):  # delivered twice by the broker (acks_late), or retried after a crash
        with django_capture_on_commit_callbacks(execute=True):
            find_my_tickets_send(*args)
    assert len(sent_emails) == 1
    message = OutgoingMessage.objects.get(kind=OutgoingMessage.Kind.TICKETS_LINKS)
    assert message.idempotency_key == args[2] and message.order == order
    assert TimelineEntry.objects.filter(order=order, action="tickets_page.links_requested").count() == 1
    # Another request is another email (the rate limits bound how many).
    ask(client, url, "anna@example.com", django_capture_on_commit_callbacks, REMOTE_ADDR="203.0.113.7")
    assert len(sent_emails) == 2


def test_the_task_for_an_unknown_address_writes_nothing(organisation, make_order, sent_emails):
    make_order(contact_email="anna@example.com")
    mail.outbox.clear()
    assert find_my_tickets_send(organisation.pk, "nobody@example.com", "find-tickets:k") == "no current order"
    assert not OutgoingMessage.objects.filter(kind=OutgoingMessage.Kind.TICKETS_LINKS).exists()
    assert not TimelineEntry.objects.filter(action="tickets_page.links_requested").exists()
