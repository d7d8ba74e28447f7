"""Shared fixtures: an organisation with a user per role, an event, and paid orders built through the services."""

from decimal import Decimal

import pytest
from django.core import mail

from orders.models import Order
from orders.services import (
    LineRequest,
    order_create,
    order_mark_confirming_payment,
    order_mark_paid,
    order_start_payment,
)
from organiser_portal.celery import app as celery_app
from organiser_portal.models import Membership

from . import production, sql_forms
from .factories import EventFactory, MembershipFactory, OrganisationFactory, TicketTypeFactory, UserFactory
from .faults_support import fake_postmark, redis_server  # noqa: F401  (the fault suite's servers, for every test)

Role = Membership.Role


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A bare `pytest` (the testpaths, no -m) leaves out the fault suite (`@pytest.mark.faults`): it starts servers of
    its own and kills workers, and `make test-faults` runs it. Naming a fault test's file, or `-m faults`, runs it."""
    if config.option.markexpr or config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    faults = [item for item in items if item.get_closest_marker("faults")]
    if faults:
        config.hook.pytest_deselected(items=faults)
        items[:] = [item for item in items if not item.get_closest_marker("faults")]


@pytest.fixture
def organisation():
    return OrganisationFactory(name="Festival GmbH", slug="festival")


@pytest.fixture
def other_organisation():
    return OrganisationFactory(name="Other Org", slug="other")


@pytest.fixture
def member(organisation):
    """member(role) → a user with that role in `organisation`."""

    def make(role: str = Role.SUPPORT, **kwargs):
        return MembershipFactory(organisation=organisation, role=role, **kwargs).user

    return make


@pytest.fixture
def event(organisation):
    return EventFactory(organisation=organisation, name="Summer Festival")


@pytest.fixture
def ticket_type(event):
    return TicketTypeFactory(event=event)


@pytest.fixture
def make_order(event, ticket_type):
    """make_order(quantity=1, paid=True, **contact) → an order walked through the real services."""

    def make(*, quantity: int = 1, paid: bool = True, event=event, ticket_type=ticket_type, **contact) -> Order:
        contact.setdefault("contact_name", "Anna Müller")
        contact.setdefault("contact_email", "anna@example.com")
        order = order_create(event=event, lines=[LineRequest(ticket_type, quantity)], **contact)
        if paid:
            order_start_payment(order=order, provider="test")
            order_mark_confirming_payment(order=order)
            order = order_mark_paid(order=order, processing_fee=Decimal("1.00"))
        return Order.objects.get(pk=order.pk)

    return make


@pytest.fixture
def sent_emails(settings):
    """Queued messages are sent in process right after commit (as on the embedded default), through the
    locmem backend: `sent_emails` is mail.outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_URL = "https://portal.test"
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    mail.outbox = []
    yield mail.outbox
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture
def superuser():
    return UserFactory(username="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture(params=sql_forms.FORMS)
def sql_form(request):
    """Runs the test once with each form of the hand-written SQL (tests/sql_forms.py): PostgreSQL's, and
    the portable one SQLite runs, forced on PostgreSQL."""
    with sql_forms.sql_form(request.param):
        yield request.param


@pytest.fixture(scope="session")
def production_image(tmp_path_factory):
    """The image's /app, built as the Dockerfile builds it (tests/production.py): static files collected with
    DEBUG off, so with their manifest."""
    return production.build_image_app(tmp_path_factory.mktemp("image") / "app")
