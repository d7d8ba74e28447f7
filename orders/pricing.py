"""What one order line costs: the sums an order line stores, from its ticket type and quantity.

Prices include tax; the booking fee is per ticket and outside the discount. Amounts are `Decimal`s in the
currency's major unit, rounded to its minor unit (organiser_portal.money). Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from organiser_portal.models import TicketType
from organiser_portal.money import money_round

ZERO = Decimal("0")
EVERYTHING = Decimal("100")


@dataclass(frozen=True)
class LineAmounts:
    """`unit_price` per ticket; `discount`, `booking_fee` and `tax` (the tax included in the discounted price)
    for the whole line; `gross` = quantity × unit_price − discount + booking_fee."""

    unit_price: Decimal
    discount: Decimal
    booking_fee: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(
    *,
    price: Decimal,
    booking_fee: Decimal,
    tax_rate: Decimal,
    quantity: int,
    currency: str,
    discount_percent: Decimal = Decimal("0"),
) -> LineAmounts:
    """The amounts of a line of `quantity` tickets at `price` (tax included, `tax_rate` in percent) plus
    `booking_fee` per ticket, less `discount_percent` of the ticket price."""
    discount = money_round(price * quantity * discount_percent / 100, currency)
    fee = booking_fee * quantity
    taxable = price * quantity - discount
    tax = money_round(taxable * tax_rate / (100 + tax_rate), currency)
    return LineAmounts(unit_price=price, discount=discount, booking_fee=fee, tax=tax, gross=taxable + fee)


def ticket_type_line_amounts(
    ticket_type: TicketType,
    quantity: int,
    *,
    currency: str,
    discount_percent: Decimal = ZERO,
    complimentary: bool = False,
) -> LineAmounts:
    """`line_amounts` of `quantity` tickets of `ticket_type` as a new order line stores them. A complimentary line
    is given away: its whole price is discounted and no booking fee is charged, so its gross is 0."""
    return line_amounts(
        price=ticket_type.price,
        booking_fee=ZERO if complimentary else ticket_type.booking_fee,
        tax_rate=ticket_type.tax_rate,
        quantity=quantity,
        currency=currency,
        discount_percent=EVERYTHING if complimentary else discount_percent,
    )
