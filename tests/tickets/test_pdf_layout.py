"""PDF tickets: every name prints in its own script, each ticket keeps to one page, and the holder is the attendee.

These tests need the fonts `.ci/run` installs (Debian's Noto packages): without them a CJK or
Devanagari name prints as empty boxes, and the font assertions below fail.
"""

import subprocess
from io import BytesIO
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.factories import TicketTypeFactory
from tickets import pdf

pytestmark = pytest.mark.django_db

# A name in each script, and a fragment of the name of the font that must draw it.
NAMES = {
    "latin": ("Zoë Ðorđević-Søndergård", "Noto-Sans"),
    "greek": ("Ελένη Παπαδοπούλου", "Noto-Sans"),
    "cyrillic": ("Наталья Сергеевна Иванова", "Noto-Sans"),
    "arabic": ("فاطمة الزهراء", "Noto-Sans-Arabic"),
    "hebrew": ("נועה כהן", "Noto-Sans-Hebrew"),
    # A PDF stores Devanagari glyphs in visual order, so some names (a reph, a pre-base vowel
    # sign) come back reordered from text extraction; this one round-trips.
    "devanagari": ("प्रिया सिंह", "Noto-Sans-Devanagari"),
    "chinese": ("王小明", "Noto-Sans-CJK"),
    "japanese": ("山田はなこ", "Noto-Sans-CJK"),
    "korean": ("김민준", "Noto-Sans-CJK"),
    "thai": ("สมชาย ใจดี", "Noto-Sans-Thai"),
    "emoji": ("Mia 🎉🦄", "Noto-Color-Emoji"),
}


def page(holder: str = "Anna Müller", **fields: Any) -> pdf.TicketPage:
    values: dict[str, Any] = {
        "ticket_id": "ACDEFGHJK",
        "secret": "1x49sKoxMIV342RIYV9XsrQLgvE",
        "event_name": "Summer Festival 2026",
        "starts": "Saturday 4 July 2026, 18:00",
        "ends": "23:30",
        "time_zone": "Europe/Berlin",
        "venue": "Stadtpark, Hamburg",
        "ticket_type": "General admission",
        "holder": holder,
        "order_code": "ANNA7MU",
        "organisation": "Festival GmbH",
        **fields,
    }
    return pdf.TicketPage(**values)


def font_names(pdf_page) -> list[str]:
    return [str(font["/BaseFont"]) for font in pdf_page["/Resources"]["/Font"].values()]


def attendee_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Attendee"))


@pytest.mark.parametrize("script", NAMES)
def test_every_script_prints_in_a_font_that_has_it(script):
    name, font = NAMES[script]
    content = pdf.render_pages([page(name)])
    reader = PdfReader(BytesIO(content))
    assert attendee_line(reader.pages[0].extract_text()) == f"Attendee {name}"
    # Fonts are embedded as subsets (a six-letter tag before the name), never whole: the CJK
    # collection alone is 20 MB, this page stays small.
    drawing = [f for f in font_names(reader.pages[0]) if f.split("+", 1)[1].startswith(font)]
    assert drawing and all(f[7] == "+" for f in drawing), font_names(reader.pages[0])
    assert len(content) <= 150_000


@pytest.mark.parametrize("script", ["chinese", "japanese", "korean"])
def test_a_cjk_name_is_not_left_to_a_latin_font(script):
    """Without a CJK font the name is still in the text layer but drawn as empty boxes: only the font tells."""
    reader = PdfReader(BytesIO(pdf.render_pages([page(NAMES[script][0])])))
    assert any("CJK" in f for f in font_names(reader.pages[0]))
    assert all("CJK" not in f for f in font_names(PdfReader(BytesIO(pdf.render_pages([page()]))).pages[0]))


def test_a_ticket_in_latin_stays_as_small_as_before():
    assert len(pdf.render_pages([page()])) <= 30_000


def test_an_order_with_every_script_has_a_page_each_and_stays_small():
    pages = [page(name, ticket_id=f"ACDEFGHJ{i}") for i, (name, _font) in enumerate(NAMES.values())]
    content = pdf.render_pages(pages)
    reader = PdfReader(BytesIO(content))
    assert len(reader.pages) == len(NAMES)
    for pdf_page, (name, _font) in zip(reader.pages, NAMES.values()):
        assert name in pdf_page.extract_text()
    assert len(content) <= 400_000


UNBROKEN = "Wolfeschlegelsteinhausenbergerdorff" * 6
LONG_EVENT = "Internationales Sommerfestival der Jugendorchester und Kammerensembles aus Nord- und Mitteleuropa 2026"
EXTREMES = {
    "the reported case: a 101-character event name and an 80-character venue": {
        "event_name": LONG_EVENT[:101],
        "venue": "Großer Saal der Philharmonie am Stadtpark, Haupteingang Süd, Hamburg-Winterhude"[:80],
    },
    "every text at its longest": {
        "event_name": LONG_EVENT * 2,
        "venue": "Großer Saal der Philharmonie am Stadtpark, Haupteingang Süd, Hamburg " * 3,
        "ticket_type": "Wochenendpass mit Übernachtung und Frühstück, Kategorie A, Block Nord " * 2,
        "organisation": "Festival GmbH der Freien und Hansestadt Hamburg und Umgebung e.V. " * 2,
        "ends": "Sunday 5 July 2026, 02:00",
        "time_zone": "America/Argentina/ComodRivadavia",
    },
    "unbroken words everywhere": {
        "event_name": UNBROKEN,
        "venue": UNBROKEN,
        "ticket_type": UNBROKEN,
        "organisation": UNBROKEN,
    },
    "long texts in tall scripts": {
        "event_name": "अंतर्राष्ट्रीय ग्रीष्मकालीन संगीत महोत्सव " * 4,
        "venue": "東京国際フォーラム ホールA 東京都千代田区丸の内三丁目五番一号 " * 3,
        "ticket_type": "บัตรผ่านประตูสุดสัปดาห์พร้อมที่พักและอาหารเช้า " * 3,
    },
}


# Each holder with what text extraction gives back of its start (vowel signs of Devanagari
# come back unreliably once the same font drew other Devanagari text on the page).
HOLDERS = {
    "short": ("Anna Müller", "AnnaMüller"),
    "unbroken": (UNBROKEN, UNBROKEN[:40]),
    "devanagari": ("प्रिया सिंह " * 20, "प्र"),
    "chinese": ("王小明" * 60, "王小明王小明"),
}


@pytest.mark.parametrize("fields", EXTREMES.values(), ids=EXTREMES.keys())
@pytest.mark.parametrize("holder", HOLDERS.values(), ids=HOLDERS.keys())
def test_one_page_per_ticket_with_code_id_and_holder_together(fields, holder):
    name, extracted = holder
    pages = [page(name, ticket_id=f"ACDEFGHJ{i}", **fields) for i in range(2)]
    reader = PdfReader(BytesIO(pdf.render_pages(pages)))
    assert len(reader.pages) == len(pages)
    for pdf_page, ticket in zip(reader.pages, pages):
        text = "".join(pdf_page.extract_text().split())
        assert ticket.ticket_id in text
        assert "Attendee" + extracted in text
        assert len(pdf_page.images) == 1  # the QR code


@pytest.mark.parametrize("fields", EXTREMES.values(), ids=EXTREMES.keys())
def test_nothing_runs_off_the_edge(fields, tmp_path):
    """The right margin (8 mm of the 105 mm page) stays blank: a long unbroken name wraps inside the ticket."""
    (tmp_path / "t.pdf").write_bytes(pdf.render_pages([page(UNBROKEN, **fields)]))
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", "t.pdf", "t"], cwd=tmp_path, check=True)
    image = Image.open(tmp_path / "t.png").convert("L")
    width, height = image.size
    margin = image.crop((round(width * 97.5 / 105), 0, width, height))
    assert margin.getextrema()[0] >= 250, "something is drawn in the right margin"


def test_extreme_texts_are_shortened_with_an_ellipsis_and_long_event_names_print_smaller():
    printed = pdf._printed(page(UNBROKEN * 3, event_name=LONG_EVENT * 2))
    assert printed["holder"].endswith("…") and len(printed["holder"]) == pdf._MAX_CHARS["holder"]
    assert printed["event_name"].endswith("…")
    assert printed["event_name_step"] == 2
    assert pdf._printed(page())["event_name_step"] == 0 and pdf._printed(page())["holder"] == "Anna Müller"
    # Cut where a vowel sign follows: the ellipsis comes after a whole letter, not after "ि" or "्".
    assert pdf._shortened("प्रिया सिंह" * 10, 14) == "प्रिया सिंहप…"


@pytest.fixture
def personal_ticket_type(event):
    return TicketTypeFactory(event=event, name="Conference pass", requires_personal_data=True)


def test_a_ticket_that_needs_personal_data_and_has_none_says_so_instead_of_naming_the_buyer(
    make_order, personal_ticket_type
):
    order = make_order(ticket_type=personal_ticket_type, contact_name="Bernd Buyer")
    assert order.tickets.get().attendee_name == ""
    text = PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()
    assert attendee_line(text) == "Attendee Not yet named — personal data required"
    assert "Bernd Buyer" not in text


def test_a_named_attendee_is_printed_and_not_the_buyer(make_order, personal_ticket_type):
    order = make_order(ticket_type=personal_ticket_type, contact_name="Bernd Buyer", quantity=2)
    first, second = order.tickets.order_by("id")
    first.attendee_name = "Chiara Colleague"
    first.save()
    reader = PdfReader(BytesIO(pdf.order_tickets_pdf(order)))
    texts = [p.extract_text() for p in reader.pages]
    assert attendee_line(texts[0]) == "Attendee Chiara Colleague"
    assert attendee_line(texts[1]) == "Attendee Not yet named — personal data required"
    assert all("Bernd Buyer" not in t for t in texts)


def test_a_ticket_type_without_personal_data_prints_the_buyer_as_before(make_order):
    order = make_order(contact_name="Bernd Buyer")
    order.tickets.update(attendee_name="")
    text = PdfReader(BytesIO(pdf.order_tickets_pdf(order))).pages[0].extract_text()
    assert attendee_line(text) == "Attendee Bernd Buyer"
