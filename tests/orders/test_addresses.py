"""Typed addresses through the order forms and pages: edit contact, resend to another address, fix and resend.

An accepted address is stored (or sent to) in its normalised form; a refused one shows its reason
and changes nothing: not the order, not its messages, not its timeline.
"""

import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.emails import build_email
from notifications.models import OutgoingMessage
from orders.errors import OrderActionError
from orders.forms import ContactForm, FixAndResendForm, ResendForm
from orders.models import Order, TimelineEntry
from orders.services import order_change_contact, order_resend_tickets
from organiser_portal.models import Membership

pytestmark = pytest.mark.django_db
Role = Membership.Role

ACCEPTED = [
    ("müller@bücher.de", "müller@bücher.de"),
    ("  Anna.M@Example.COM ", "Anna.M@example.com"),
    ("a@xn--bcher-kva.de", "a@bücher.de"),
    ("用户@例子.广告", "用户@例子.广告"),
]
REFUSED = [
    (
        "a@localhost",
        "“localhost” is not a domain on the internet: an email address needs a domain with a dot, such as example.com.",
    ),
    (
        "a@[127.0.0.1]",
        "“[127.0.0.1]” is an IP address: email services deliver only to a domain name, such as example.com.",
    ),
    ("x" * 65 + "@example.com", "The part before the @ is 65 characters long; email services accept at most 64."),
    (
        "a@example",
        "“example” is not a domain on the internet: an email address needs a domain with a dot, such as example.com.",
    ),
    ("anna.example.com", "“anna.example.com” has no @: an email address looks like name@example.com."),
]
INVISIBLE = (
    "anna\u200b@example.com",
    "The address had an invisible character in it (zero-width space), probably pasted with it. "
    "It has been removed: check “anna@example.com” and confirm again.",
)


def url(name: str, order: Order) -> str:
    return reverse(name, kwargs={"org": order.organisation.slug, "code": order.code})


@pytest.fixture
def agent_client(client, member):
    client.force_login(member(Role.SUPPORT))
    return client


def snapshot(order: Order) -> tuple:
    """Everything a refused address must leave as it was."""
    row = Order.objects.values("contact_name", "contact_email", "contact_phone", "email_status").get(pk=order.pk)
    return (
        row,
        OutgoingMessage.objects.filter(order=order).count(),
        TimelineEntry.objects.filter(order=order).count(),
    )


def contact_data(email: str, **extra) -> dict:
    return {"contact_name": "Anna Müller", "contact_email": email, "contact_phone": "", "idempotency_key": "k", **extra}


# The forms


def forms_for(email: str) -> list[tuple[object, str]]:
    return [
        (ContactForm(contact_data(email), initial={"contact_email": "anna@example.com"}), "contact_email"),
        (ResendForm({"send_to": "other", "other_email": email, "idempotency_key": "k"}), "other_email"),
        (FixAndResendForm({"contact_email": email, "idempotency_key": "k"}), "contact_email"),
    ]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_forms_accept_and_normalise(typed, stored):
    for form, name in forms_for(typed):
        assert form.is_valid(), form.errors
        assert form.cleaned_data[name] == stored


@pytest.mark.parametrize(("typed", "error"), [*REFUSED, INVISIBLE])
def test_forms_refuse_with_the_reason(typed, error):
    for form, name in forms_for(typed):
        assert not form.is_valid()
        assert form.errors[name] == [error]


def test_forms_show_the_address_back_without_its_invisible_characters_and_accept_it_then():
    for form, name in forms_for("\u202eanna@example.com\u200b"):
        assert not form.is_valid()
        assert form[name].value() == "anna@example.com"
        again = type(form)({**form.data, name: form[name].value()})
        assert again.is_valid(), again.errors


def test_contact_form_accepts_the_stored_address_unchanged_even_when_the_rule_refuses_it():
    legacy = "anna\u200b@localhost"
    form = ContactForm(contact_data(legacy), initial={"contact_email": legacy})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["contact_email"] == legacy
    locked = ContactForm(contact_data(legacy), initial={"contact_email": legacy}, email_locked_reason="Verified")
    assert locked.is_valid(), locked.errors


def test_contact_form_requires_an_address():
    form = ContactForm(contact_data(""), initial={"contact_email": "anna@example.com"})
    assert form.errors["contact_email"] == ["Enter an email address."]


# The pages


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_edit_contact_stores_the_normalised_address(agent_client, make_order, typed, stored):
    order = make_order()
    response = agent_client.post(url("order_edit_contact", order), contact_data(typed))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.contact_email == stored
    entry = TimelineEntry.objects.filter(order=order, action="order.contact_changed").get()
    assert entry.data["new"] == {"contact_email": stored}


@pytest.mark.parametrize(("typed", "error"), [*REFUSED, INVISIBLE])
def test_edit_contact_refuses_and_changes_nothing(agent_client, make_order, typed, error):
    order = make_order()
    before = snapshot(order)
    response = agent_client.post(url("order_edit_contact", order), contact_data(typed, resend_tickets="on"))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert snapshot(order) == before


def test_edit_contact_shows_the_cleaned_address_back(agent_client, make_order):
    order = make_order()
    response = agent_client.post(url("order_edit_contact", order), contact_data(INVISIBLE[0]))
    assert 'value="anna@example.com"' in response.content.decode()


def test_a_legacy_invalid_address_never_blocks_a_name_or_phone_edit(agent_client, make_order):
    order = make_order()
    legacy = "anna\u200b@localhost"  # stored before the rule
    Order.objects.filter(pk=order.pk).update(contact_email=legacy)
    data = contact_data(legacy, contact_name="Anna Schmidt", contact_phone="+49 30 1234567")
    response = agent_client.post(url("order_edit_contact", order), data)
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.contact_name, order.contact_email, order.contact_phone) == (
        "Anna Schmidt",
        legacy,
        "+49 30 1234567",
    )
    entry = TimelineEntry.objects.filter(order=order, action="order.contact_changed").get()
    assert set(entry.data["new"]) == {"contact_name", "contact_phone"}


def test_a_legacy_invalid_address_is_checked_once_it_changes(agent_client, make_order):
    order = make_order()
    Order.objects.filter(pk=order.pk).update(contact_email="anna@localhost")
    response = agent_client.post(url("order_edit_contact", order), contact_data("anna@localhost.de"))
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).contact_email == "anna@localhost.de"
    response = agent_client.post(url("order_edit_contact", order), contact_data("anna@localhost"))
    assert REFUSED[0][1] in response.content.decode()


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_resend_to_another_address_sends_to_the_normalised_address(agent_client, make_order, typed, stored):
    order = make_order()
    data = {"send_to": "other", "other_email": typed, "idempotency_key": "k"}
    assert agent_client.post(url("order_resend", order), data).status_code == 302
    message = OutgoingMessage.objects.filter(order=order, kind=OutgoingMessage.Kind.TICKETS_RESEND).get()
    assert message.recipient == stored
    assert Order.objects.get(pk=order.pk).contact_email == "anna@example.com"


@pytest.mark.parametrize(("typed", "error"), [*REFUSED, INVISIBLE])
def test_resend_to_another_address_refuses_and_sends_nothing(agent_client, make_order, typed, error):
    order = make_order()
    before = snapshot(order)
    data = {"send_to": "other", "other_email": typed, "idempotency_key": "k"}
    response = agent_client.post(url("order_resend", order), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert snapshot(order) == before


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_fix_and_resend_stores_and_sends_to_the_normalised_address(agent_client, make_order, typed, stored):
    order = make_order(contact_email="anna@gmial.com")
    data = {"contact_email": typed, "idempotency_key": "fix"}
    assert agent_client.post(url("order_fix_and_resend", order), data).status_code == 302
    assert Order.objects.get(pk=order.pk).contact_email == stored
    assert OutgoingMessage.objects.filter(order=order).latest("created_at").recipient == stored


@pytest.mark.parametrize(("typed", "error"), [*REFUSED, INVISIBLE])
def test_fix_and_resend_refuses_and_changes_nothing(agent_client, make_order, typed, error):
    order = make_order(contact_email="anna@gmial.com")
    before = snapshot(order)
    response = agent_client.post(url("order_fix_and_resend", order), {"contact_email": typed, "idempotency_key": "k"})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert snapshot(order) == before


# Whatever is typed: never a 500, and a refusal writes nothing.

TYPED = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda local, domain, noise: local + noise + "@" + domain,
        st.text(min_size=0, max_size=70),
        st.sampled_from(["example.com", "bücher.de", "localhost", "[127.0.0.1]", "xn--bcher-kva.de", "ex..com", ""]),
        st.sampled_from(["", "\u200b", "\u202e", "\ufeff", "\u00ad", "\x00", "\n", " "]),
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=TYPED)
def test_any_typed_address_is_stored_normalised_or_refused_without_a_write(agent_client, make_order, typed):
    order = make_order(contact_email="anna@gmial.com")
    for name, data in [
        ("order_edit_contact", contact_data(typed, idempotency_key=uuid.uuid4().hex)),
        ("order_resend", {"send_to": "other", "other_email": typed, "idempotency_key": uuid.uuid4().hex}),
        ("order_fix_and_resend", {"contact_email": typed, "idempotency_key": uuid.uuid4().hex}),
    ]:
        before = snapshot(order)
        response = agent_client.post(url(name, order), data)
        # 400: a NUL byte, refused before any view (organiser_portal.middleware.RefuseNulBytes).
        assert response.status_code in (200, 302, 400), (name, typed, response.status_code)
        assert response.status_code != 400 or "\x00" in typed, (name, typed)
        if response.status_code in (200, 400):
            assert snapshot(order) == before, (name, typed)


# The service under the pages, and the email it leads to


def test_the_service_stores_the_normalised_address_and_lets_a_legacy_one_stand(make_order, member):
    order = make_order()
    agent = member(Role.SUPPORT)
    order = order_change_contact(actor=agent, order=order, name="Anna", email=" Anna\u200b@BÜCHER.de ", phone="")
    assert order.contact_email == "Anna@bücher.de"
    Order.objects.filter(pk=order.pk).update(contact_email="anna@localhost")
    order = order_change_contact(actor=agent, order=order, name="Anna M.", email="anna@localhost", phone="")
    assert (order.contact_name, order.contact_email) == ("Anna M.", "anna@localhost")
    with pytest.raises(OrderActionError, match="not a domain on the internet"):
        order_resend_tickets(actor=agent, order=order, recipient="anna@localhost", idempotency_key="k")


def test_the_ticket_email_goes_to_the_domain_the_rule_checked(make_order):
    order = make_order(contact_email="anna@straße.de")
    email = build_email(order.messages.get())
    # IDNA 2008, as anymail encodes it; Django's file and SMTP backends would have written strasse.de.
    assert email.to == ["anna@xn--strae-oqa.de"]
    assert email.message()["To"] == "anna@xn--strae-oqa.de"
