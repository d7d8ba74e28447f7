"""PDF tickets: one page per valid ticket with what the door and the guest need, QR of the secret, no network."""

from io import BytesIO

import pytest
import qrcode
from PIL import Image
from pypdf import PdfReader

from tickets import pdf
from tickets.qr import qr_matrix, qr_png

pytestmark = pytest.mark.django_db


def test_one_page_per_valid_ticket_with_everything_printed(make_order):
    order = make_order(quantity=3)
    first, second, third = order.tickets.all()
    third.status, third.invalid_reason = "invalid", "refunded"
    third.save()
    reader = PdfReader(BytesIO(pdf.order_tickets_pdf(order)))
    assert len(reader.pages) == 2
    for page, ticket in zip(reader.pages, (first, second)):
        text = page.extract_text()
        assert ticket.public_id in text and ticket.secret not in text
        for expected in (order.event.name, order.code, "Hall 1", "General admission", "Anna Müller", "Europe/Berlin"):
            assert expected in text
        starts = order.event.starts_at.astimezone(order.event.tzinfo)
        assert starts.strftime("%H:%M") in text  # in the event's time zone
    assert third.public_id not in "".join(p.extract_text() for p in reader.pages)


def test_attendee_name_is_printed_when_set(make_order):
    order = make_order()
    order.tickets.update(attendee_name="Ben Becker")
    assert "Ben Becker" in PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()


def test_a_resend_renders_nothing_again_and_a_change_renders_anew(make_order, monkeypatch):
    order = make_order()
    first = pdf.order_tickets_pdf(order)
    rendered = []
    real = pdf.render_pages
    monkeypatch.setattr(pdf, "render_pages", lambda pages: rendered.append(pages) or real(pages))
    assert pdf.order_tickets_pdf(order) == first and rendered == []
    order.tickets.update(attendee_name="Someone Else")
    assert "Someone Else" in PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()
    assert len(rendered) == 1


def test_the_fetcher_refuses_everything_but_data_uris():
    _html, fetcher, _fonts, _css = pdf._weasy()
    for url in ("http://example.com/x.png", "https://example.com/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)
    assert fetcher("data:text/plain,ok").read() == b"ok"


def test_an_external_image_in_the_template_is_not_fetched(monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("tried the network")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    page = pdf.TicketPage("ACDEFGHJK", "s", "<img src='http://example.com/x.png'>", "", "", "UTC", "", "", "", "", "")
    assert pdf.render_pages([page]).startswith(b"%PDF")


def test_qr_png_is_the_qr_code_of_the_secret_at_level_m():
    secret = "1x49sKoxMIV342RIYV9XsrQLgvE"
    reference = qrcode.QRCode(
        version=3, error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1, mask_pattern=4
    )
    reference.add_data(secret, optimize=0)
    reference.make(fit=False)
    expected = reference.make_image().get_image().convert("1")
    ours = Image.open(BytesIO(qr_png(secret))).convert("1")
    assert ours.size == expected.size == (37, 37)
    assert list(ours.getdata()) == list(expected.getdata())
    assert qr_matrix(secret) == reference.get_matrix()


def test_long_payloads_still_fit():
    assert len(qr_matrix("x" * 100)) > 37
