"""The PDF of a ticket whose type needs personal data: "not yet named" until the attendee is given, then the
attendee's name, never the buyer's."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from organiser_portal.models import Membership
from tickets import pdf
from tickets.personalisation import AttendeeDetails, ticket_personalise

from .personal import personal_event, personal_order

pytestmark = pytest.mark.django_db


def test_the_pdf_names_the_attendee_once_given(make_order, member, organisation):
    order = personal_order(make_order, personal_event(organisation), quantity=1, contact_name="Bruno Buyer")
    ticket = order.tickets.get()
    before = PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()
    assert "Not yet named" in before and "Bruno Buyer" not in before

    ticket_personalise(
        actor=member(Membership.Role.SUPPORT),
        order=order,
        details={ticket.public_id: AttendeeDetails("Zoë Attendee", "zoe@example.com", {"shirt": "M", "born": ""})},
    )
    after = PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()
    assert "Zoë Attendee" in after and "Not yet named" not in after and "Bruno Buyer" not in after
