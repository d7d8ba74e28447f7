"""The customer's page from the emailed link: the email in the link's language, a valid link in English or German,
the customer's changes on the timeline, and every refusal (tampered, expired, revoked, frozen, another order's
tickets posted) with a clear page that changes nothing."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from notifications.emails import build_email
from notifications.models import OutgoingMessage
from orders.models import TimelineEntry
from organiser_portal.models import Membership
from tests.tickets.personal import personal_event, personal_order
from tickets.links import SALT, link_token
from tickets.models import PersonalisationLink, Ticket
from tickets.personalisation import personalisation_link_send

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def summit(organisation):
    return personal_event(organisation)


@pytest.fixture
def sent(make_order, member, summit):
    """sent(language="en") → (order, link) after an agent sent the link."""

    def send(language: str = "en", **order_kwargs):
        order = personal_order(make_order, summit, **order_kwargs)
        link = personalisation_link_send(
            actor=member(Role.SUPPORT), order=order, recipient="buyer@example.com", language=language
        )
        return order, link

    return send


def page_url(link: PersonalisationLink) -> str:
    return reverse("personalise_public", kwargs={"token": link_token(link)})


def filled(ticket: Ticket, name="Jan Novák", email="jan@example.com", shirt="L") -> dict[str, str]:
    prefix = f"ticket-{ticket.public_id}-"
    return {f"{prefix}name": name, f"{prefix}email": email, f"{prefix}shirt": shirt, f"{prefix}born": ""}


def test_the_email_carries_a_link_to_the_page_in_its_language(sent):
    order, link = sent("de")
    message = OutgoingMessage.objects.get(order=order, kind=OutgoingMessage.Kind.PERSONALISATION_REQUEST)
    email = build_email(message)
    assert email.subject == f"Wer kommt? Angaben zu den Teilnehmenden für Product Summit · Bestellung {order.code}"
    assert "für die 2 Tickets Ihrer Bestellung" in email.body and "Der Link gilt bis" in email.body
    link_line = next(line for line in email.body.splitlines() if "/attendees/" in line)
    assert link_line.startswith(settings.PORTAL_URL)
    assert signing.loads(link_line.rsplit("/attendees/", 1)[1].strip("/"), salt=SALT) == link.pk
    assert link_line in email.alternatives[0][0]  # the HTML part's button

    _order, english = sent("en", quantity=1)
    message = OutgoingMessage.objects.get(order=english.order, kind=OutgoingMessage.Kind.PERSONALISATION_REQUEST)
    email = build_email(message)
    assert email.subject.startswith("Who is coming? Attendee details for Product Summit")
    assert "the ticket of your order" in email.body and "The link works until" in email.body


def test_the_customer_fills_in_the_page_and_the_timeline_says_customer(client, sent):
    order, link = sent()
    first, second = order.tickets.all()
    page = client.get(page_url(link))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="en">' in html and "Attendee details" in html and order.code in html
    assert f'name="ticket-{first.public_id}-name"' in html and f'name="ticket-{second.public_id}-name"' in html
    assert "Organiser Portal" not in html  # no portal header: a page of the organiser's customer

    response = client.post(page_url(link), {**filled(first), "lang": "en"})
    assert response.status_code == 302 and "saved=1" in response["Location"]
    assert "Thank you: the attendee details are saved." in client.get(response["Location"]).content.decode()
    first.refresh_from_db()
    assert (first.attendee_name, first.attendee_data["shirt"], first.personal_data_missing) == ("Jan Novák", "L", False)
    entry = TimelineEntry.objects.get(order=order, action="ticket.personalised")
    assert entry.actor is None and entry.actor_kind == TimelineEntry.ActorKind.CUSTOMER
    assert entry.get_actor_kind_display() == "Customer"


def test_the_page_opens_in_the_links_language_and_switches(client, sent):
    _order, link = sent("de")
    html = client.get(page_url(link)).content.decode()
    assert '<html lang="de">' in html and "Angaben zu den Teilnehmenden" in html
    assert "Name der teilnehmenden Person *" in html and "Angaben speichern" in html
    english = client.get(page_url(link) + "?lang=en").content.decode()
    assert '<html lang="en">' in english and "Save attendee details" in english


def test_errors_come_per_field_in_the_pages_language_and_save_nothing(client, sent):
    order, link = sent("de")
    first = order.tickets.first()
    html = client.post(page_url(link), {**filled(first, email="jan@", shirt=""), "lang": "de"}).content.decode()
    assert "Bitte korrigieren Sie die unten markierten Felder" in html
    assert "Bitte gültige E-Mail-Adresse eingeben." in html  # Django's own German
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()


def test_a_tampered_link_is_refused_clearly(client, sent):
    _order, link = sent()
    token = link_token(link)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", signing.dumps(link.pk)):
        response = client.get(reverse("personalise_public", kwargs={"token": bad}))
        assert response.status_code == 404
        assert "This link is not valid." in response.content.decode()


def test_an_expired_or_revoked_link_is_refused_and_changes_nothing(client, sent):
    order, link = sent()
    ticket = order.tickets.first()
    PersonalisationLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(page_url(link))
    assert response.status_code == 410 and "This link has expired." in response.content.decode()
    assert client.post(page_url(link), filled(ticket)).status_code == 410

    PersonalisationLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() + timedelta(days=1), revoked_at=timezone.now()
    )
    response = client.get(page_url(link))
    assert response.status_code == 410 and "This link no longer works." in response.content.decode()
    assert client.post(page_url(link), filled(ticket)).status_code == 410
    assert Ticket.objects.get(pk=ticket.pk).attendee_name == ""


def test_another_orders_tickets_posted_are_refused(client, sent):
    order, link = sent()
    other, _other_link = sent()
    theirs = other.tickets.first()
    response = client.post(page_url(link), {**filled(order.tickets.first()), **filled(theirs, name="Intruder")})
    assert response.status_code == 400
    assert "not part of this order" in response.content.decode()
    assert not Ticket.objects.exclude(attendee_name="").filter(order__in=[order, other]).exists()
    assert other.code not in client.get(page_url(link)).content.decode()


def test_a_frozen_order_refuses_the_customer_with_a_sentence(client, sent, summit):
    order, link = sent("de")
    summit.starts_at = timezone.now() + timedelta(days=1)
    summit.ends_at = summit.starts_at + timedelta(hours=5)
    summit.personal_data_frozen_days = 3
    summit.save()
    response = client.get(page_url(link))
    assert response.status_code == 409
    assert "Die Angaben zu dieser Bestellung können nicht mehr geändert werden" in response.content.decode()
    assert client.post(page_url(link), filled(order.tickets.first())).status_code == 409
    assert not Ticket.objects.filter(order=order).exclude(attendee_name="").exists()
