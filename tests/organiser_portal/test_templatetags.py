"""The `portal` tags render exactly what the {% include %} components they replaced rendered."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template import Context, Template

from organiser_portal.money import UnknownCurrency

# The component templates as they were before the tags: the reference the tags must match.
OLD_EMAIL_STATUS = """<span class="badge {% if status == 'delivered' %}text-bg-success{% elif status == 'bounced' or status == 'rejected' or status == 'failed' or status == 'complained' %}text-bg-danger{% elif status == 'deferred' %}text-bg-warning{% elif status == 'not_sent' %}text-bg-light border{% else %}text-bg-info{% endif %}">{{ label }}</span>"""
OLD_ORDER_STATUS = """<span class="badge {% if order.status == 'paid' %}{% if order.is_partially_refunded %}text-bg-warning{% else %}text-bg-success{% endif %}{% elif order.status == 'refunded' %}text-bg-warning{% elif order.status == 'cancelled' %}text-bg-dark{% elif order.status == 'expired' %}text-bg-secondary{% else %}text-bg-info{% endif %}">{{ order.status_label }}</span>{% if order.tickets_held %} <span class="badge text-bg-warning" title="Paid, but nothing is sent until someone sends the tickets">Held for review</span>{% endif %}"""
OLD_MONEY = """<span class="money">{{ amount|floatformat:"2g" }}&nbsp;{{ currency }}</span>"""
OLD_EVENT_TIME = """{% load tz %}{% timezone tz %}<time datetime="{{ when|date:'c' }}">{{ when|date:"D j M Y, H:i" }}</time> <span class="text-secondary small">{{ when|date:"T" }}</span>{% endtimezone %}"""


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(
    "status",
    ["delivered", "bounced", "rejected", "failed", "complained", "deferred", "not_sent", "queued", "sent", ""],
)
def test_email_status_badge_matches_the_component(status):
    label = f"<{status}>"  # escaped like the template escapes it
    new = render("{% load portal %}{% email_status_badge status label %}", status=status, label=label)
    assert new == render(OLD_EMAIL_STATUS, status=status, label=label)
    assert "&lt;" in new


def _order(status: str, *, partial: bool = False, held: bool = False) -> SimpleNamespace:
    label = "Paid · partially refunded" if partial else status.title()
    return SimpleNamespace(status=status, is_partially_refunded=partial, status_label=label, tickets_held=held)


@pytest.mark.parametrize(
    "order",
    [
        _order("paid"),
        _order("paid", partial=True),
        _order("paid", held=True),
        _order("refunded"),
        _order("cancelled"),
        _order("expired"),
        _order("reserved"),
        _order("processing", held=True),
    ],
)
def test_order_status_badge_matches_the_component(order):
    new = render("{% load portal %}{% order_status_badge order %}", order=order)
    assert new == render(OLD_ORDER_STATUS, order=order)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("12.5"), Decimal("1234567.891"), Decimal("-3.20")])
@pytest.mark.parametrize("language", ["en-gb", "de"])
def test_money_shows_a_two_decimal_currency_as_the_component_did(amount, language):
    from django.utils import translation

    with translation.override(language):
        new = render("{% load portal %}{% money amount 'EUR' %}", amount=amount)
        # The same text; the no-break space is now the character rather than the entity.
        assert new == render(OLD_MONEY, amount=amount, currency="EUR").replace("&nbsp;", "\xa0")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        # The component wrote "1,200.00 JPY" and "1.23 KWD": the yen has no decimals, the dinar three.
        (Decimal("1200"), "JPY", "1,200\xa0JPY"),
        (Decimal("1199.5"), "JPY", "1,200\xa0JPY"),
        (Decimal("1.2345"), "KWD", "1.235\xa0KWD"),
        (Decimal("0.125"), "EUR", "0.13\xa0EUR"),
    ],
)
def test_money_shows_the_currencys_own_decimals(amount, currency, shown):
    new = render("{% load portal %}{% money amount currency %}", amount=amount, currency=currency)
    assert new == f'<span class="money">{shown}</span>'


def test_money_without_an_amount_shows_a_dash():
    assert render("{% load portal %}{% money amount 'EUR' %}", amount=None) == '<span class="money">—</span>'


def test_money_refuses_an_unknown_currency():
    with pytest.raises(UnknownCurrency):
        render("{% load portal %}{% money amount currency %}", amount=Decimal("1"), currency="<b>")


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize(
    "when", [datetime(2026, 1, 5, 23, 30, tzinfo=UTC), datetime(2026, 7, 1, 8, 0, tzinfo=UTC), None]
)
def test_event_time_matches_the_component_in_any_zone(tz, when):
    new = render("{% load portal %}{% event_time when tz %}", when=when, tz=tz)
    assert new == render(OLD_EVENT_TIME, when=when, tz=tz)


def test_event_time_shows_the_events_zone_not_the_current_one():
    when = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    html = render(
        "{% load portal tz %}{% timezone 'Asia/Tokyo' %}{% event_time when tz %}{% endtimezone %}",
        when=when,
        tz="Europe/Berlin",
    )
    assert 'datetime="2026-01-06T00:30:00+01:00"' in html and "Tue 6 Jan 2026, 00:30" in html and ">CET<" in html


@pytest.mark.parametrize("language", ["de", "fr", "en-gb"])
def test_event_time_uses_the_active_languages_day_and_month_names(language):
    from django.utils import translation

    when = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    with translation.override(language):
        new = render("{% load portal %}{% event_time when tz %}", when=when, tz="Europe/Berlin")
        assert new == render(OLD_EVENT_TIME, when=when, tz="Europe/Berlin")
