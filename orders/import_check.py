"""The check of an order file against an event: which orders it would create, and every row with a problem.

Shape of the file (docs/import.md; the template is `template_header`): one row per order line, the rows of one
order next to each other under the same `reference`. Columns, matched by name whatever their case or spacing:

    reference*  name*  email*  phone  ticket_type*  quantity  price  paid_at  attendee_name  attendee_email
    attendee_<key> for each personal data field of the event's ticket types   (* required)

`quantity` blank is 1. `price` is what the buyer paid per ticket, tax and booking fee included; blank is the
ticket type's price plus its booking fee. `paid_at` is ISO 8601 (2026-05-01 or 2026-05-01 18:30), in the
event's time zone unless it gives an offset; blank is the time of the import. A ticket type that asks for
personal data takes one row per ticket (quantity 1) with its attendee's details.

`import_check(event, table) -> ImportCheck` reads the database (ticket types, capacity taken, references
imported before) and writes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from organiser_portal.addresses import AddressError, address_normalise
from organiser_portal.models import Event, TicketType
from organiser_portal.money import fits_minor_unit
from tickets.personalisation import AttendeeDetails, details_errors, personal_data_fields

from .capacity import capacity_taken
from .import_files import FORMULA_MARK, MAX_CELL, Table
from .models import ImportRun, Order

REQUIRED = ("reference", "name", "email", "ticket_type")
OPTIONAL = ("phone", "quantity", "price", "paid_at", "attendee_name", "attendee_email")
ALIASES = {
    "external_reference": "reference",
    "order_reference": "reference",
    "contact_name": "name",
    "contact_email": "email",
    "contact_phone": "phone",
    "ticket": "ticket_type",
    "price_paid": "price",
    "paid": "paid_at",
}
MAX_QUANTITY = 100
MAX_PRICE = Decimal("1000000")
REFERENCE_MAX = Order._meta.get_field("external_reference").max_length or 100
NAME_MAX = Order._meta.get_field("contact_name").max_length or 200
PHONE_MAX = Order._meta.get_field("contact_phone").max_length or 40


@dataclass
class PlannedLine:
    row: int
    ticket_type: TicketType
    quantity: int
    price: Decimal | None  # per ticket, everything included; None: the ticket type's price and booking fee
    attendee: AttendeeDetails | None


@dataclass
class PlannedOrder:
    row: int
    reference: str
    name: str
    email: str
    phone: str
    paid_at: datetime
    lines: list[PlannedLine] = field(default_factory=list)

    @property
    def tickets(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass
class ImportCheck:
    rows: int = 0
    orders: list[PlannedOrder] = field(default_factory=list)
    already_imported: int = 0  # orders of the file imported before: skipped
    errors: list[dict[str, object]] = field(default_factory=list)  # {"row", "reference", "message"}

    @property
    def tickets(self) -> int:
        return sum(order.tickets for order in self.orders)

    def refuse(self, row: int, reference: str, message: str) -> None:
        self.errors.append({"row": row, "reference": reference.removeprefix(FORMULA_MARK), "message": message})


def column_key(name: str) -> str:
    """A header as the column it names: "Ticket type" → "ticket_type", "Attendee: T-shirt" → "attendee_t-shirt"."""
    key = re.sub(r"[\s:]+", "_", name.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def template_header(event: Event) -> list[str]:
    """The template's columns for this event: the fixed ones, then one per personal data field key."""
    keys = sorted({f.key for fields in _fields(event).values() for f in fields})
    return [
        *REQUIRED[:3],
        "phone",
        "ticket_type",
        "quantity",
        "price",
        "paid_at",
        "attendee_name",
        "attendee_email",
    ] + [f"attendee_{key}" for key in keys]


def _fields(event: Event):
    return personal_data_fields(event.ticket_types.values_list("pk", flat=True))


def import_check(event: Event, table: Table, *, now: datetime | None = None) -> ImportCheck:
    """What importing `table` into `event` would do; see the module docstring."""
    now = now or timezone.now()
    check = ImportCheck(rows=len(table.rows))
    columns = [column_key(name) for name in table.header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        check.refuse(
            1, "", f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} (see the template)."
        )
        return check
    position = {name: columns.index(name) for name in dict.fromkeys(columns)}
    types = {t.name.strip().casefold(): t for t in event.ticket_types.all()}
    fields = _fields(event)
    reader = _RowReader(event, position, types, fields, now)
    previous = _imported_references(event, table, position["reference"])
    seen: dict[str, int] = {}  # reference → its order's first row
    current: PlannedOrder | None = None
    current_rows: dict[tuple[str, ...], int] = {}
    for cells, row in zip(table.rows, table.row_numbers, strict=True):
        reference = reader.text(cells, "reference")
        if reference in previous:
            current = None
            if reference not in seen:
                check.already_imported += 1
                seen[reference] = row
            continue
        problems: list[str] = []
        line, contact = reader.read(cells, problems)
        if current is not None and reference == current.reference:
            first = current_rows.setdefault(tuple(cells), row)
            if first != row:
                problems.append(f"Same as row {first}: a duplicate row?")
            if contact and contact != (current.name, current.email, current.phone):
                problems.append(
                    f"Reference {reference} is on row {current.row} with another contact: "
                    "the rows of one order share its name, email and phone (or leave them blank)."
                )
        elif reference in seen:
            problems.append(
                f"Duplicate reference {reference}: already on row {seen[reference]}; "
                "the rows of one order must be next to each other."
            )
        else:
            seen[reference] = row
            current = PlannedOrder(row, reference, *(contact or ("", "", "")), paid_at=reader.paid_at(cells, problems))
            current_rows = {tuple(cells): row}
            if not contact and not problems:
                problems.append("The first row of an order needs the contact's name and email.")
            if reference:
                check.orders.append(current)
        if not reference:
            problems.insert(0, "The reference is missing: every order needs its reference from the other system.")
        for message in problems:
            check.refuse(row, reference, message)
        if line is not None and current is not None and not problems:
            line.row = row
            current.lines.append(line)
    _check_capacity(check)
    check.errors.sort(key=lambda e: e["row"])  # type: ignore[arg-type, return-value]
    failed = {e["reference"] for e in check.errors}
    check.orders = [o for o in check.orders if o.lines and o.reference not in failed]
    return check


def _imported_references(event: Event, table: Table, column: int) -> set[str]:
    """The file's references that the event already has (one query over the event's references: cheaper than
    asking for 50,000 values in IN lists)."""
    references = {cells[column].strip() for cells in table.rows if column < len(cells)}
    stored = (
        Order.objects.filter(event=event).exclude(external_reference="").values_list("external_reference", flat=True)
    )
    return references.intersection(stored.iterator(chunk_size=10_000))


def _check_capacity(check: ImportCheck) -> None:
    lines = [line for order in check.orders for line in order.lines]
    limited = {line.ticket_type.pk: line.ticket_type for line in lines if line.ticket_type.capacity is not None}
    if not limited:
        return
    taken = Counter(capacity_taken(limited))
    for order in check.orders:
        for line in order.lines:
            ticket_type = line.ticket_type
            if ticket_type.capacity is None:
                continue
            left = ticket_type.capacity - taken[ticket_type.pk]
            if line.quantity > left:
                check.refuse(
                    line.row,
                    order.reference,
                    f"Over capacity: {max(left, 0)} ticket{'s' if left != 1 else ''} of '{ticket_type.name}' left "
                    f"(capacity {ticket_type.capacity}) for {line.quantity}.",
                )
            taken[ticket_type.pk] += line.quantity


class _RowReader:
    """Reads one row's cells into a line and a contact, adding a sentence to `problems` for each bad value."""

    def __init__(self, event, position, types, fields, now) -> None:
        self.event, self.position, self.types, self.fields, self.now = event, position, types, fields, now

    def text(self, cells: list[str], column: str) -> str:
        index = self.position.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def read(self, cells: list[str], problems: list[str]) -> tuple[PlannedLine | None, tuple[str, str, str] | None]:
        for index, cell in enumerate(cells):
            if cell.startswith(FORMULA_MARK):
                problems.append(
                    f"Column {index + 1} holds a formula: paste the values instead (nothing is calculated)."
                )
                return None, None
            if len(cell) > MAX_CELL:
                problems.append(f"Column {index + 1} is {len(cell):,} characters long; at most {MAX_CELL:,}.")
                return None, None
        reference = self.text(cells, "reference")
        if len(reference) > REFERENCE_MAX:
            problems.append(f"The reference is longer than {REFERENCE_MAX} characters.")
        contact = self._contact(cells, problems)
        ticket_type = self._ticket_type(cells, problems)
        quantity = self._quantity(cells, problems)
        price_ok, price = self._price(cells, problems)
        attendee = self._attendee(cells, ticket_type, quantity, problems) if ticket_type and quantity else None
        if ticket_type is None or quantity is None or not price_ok:
            return None, contact
        return PlannedLine(0, ticket_type, quantity, price, attendee), contact

    def _contact(self, cells: list[str], problems: list[str]) -> tuple[str, str, str] | None:
        name, email, phone = (self.text(cells, c) for c in ("name", "email", "phone"))
        if not (name or email or phone):
            return None
        if not name:
            problems.append("The contact name is missing.")
        elif len(name) > NAME_MAX:
            problems.append(f"The contact name is longer than {NAME_MAX} characters.")
        if len(phone) > PHONE_MAX:
            problems.append(f"The phone number is longer than {PHONE_MAX} characters.")
        try:
            address = address_normalise(email)
        except AddressError as error:
            problems.append(f"Email “{email}”: {error}" if email else "The contact email is missing.")
            return name, email, phone
        if address.removed:
            problems.append(
                f"Email “{address.value}”: the address has an invisible character in it ({', '.join(address.removed)}): remove it."
            )
        return " ".join(name.split()), address.value, phone

    def _ticket_type(self, cells: list[str], problems: list[str]) -> TicketType | None:
        name = self.text(cells, "ticket_type")
        ticket_type = self.types.get(name.casefold())
        if ticket_type is None:
            known = ", ".join(sorted(t.name for t in self.types.values())) or "none yet"
            problems.append(f"Unknown ticket type '{name}' (this event has: {known})." if name else "No ticket type.")
        return ticket_type

    def _quantity(self, cells: list[str], problems: list[str]) -> int | None:
        raw = self.text(cells, "quantity") or "1"
        quantity = int(raw) if raw.isdigit() else None
        if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
            problems.append(f"Quantity '{raw}' must be a whole number from 1 to {MAX_QUANTITY}.")
            return None
        return quantity

    def _price(self, cells: list[str], problems: list[str]) -> tuple[bool, Decimal | None]:
        raw = self.text(cells, "price").replace(" ", "")
        if not raw:
            return True, None
        if "," in raw and "." not in raw:
            raw = raw.replace(",", ".")
        currency = self.event.currency
        try:
            price = Decimal(raw)
            if not price.is_finite() or not Decimal("0") <= price <= MAX_PRICE or not fits_minor_unit(price, currency):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(f"Price '{raw}' must be an amount in {currency} from 0, such as 25.00.")
            return False, None
        return True, price

    def paid_at(self, cells: list[str], problems: list[str]) -> datetime:
        raw = self.text(cells, "paid_at")
        if not raw:
            return self.now
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            problems.append(f"Paid at '{raw}' is not a date such as 2026-05-01 or 2026-05-01 18:30.")
            return self.now
        if timezone.is_naive(value):
            value = value.replace(tzinfo=self.event.tzinfo)
        if value > self.now:
            problems.append(f"Paid at '{raw}' is in the future.")
        return value

    def _attendee(
        self, cells: list[str], ticket_type: TicketType, quantity: int, problems: list[str]
    ) -> AttendeeDetails | None:
        fields = self.fields.get(ticket_type.pk, [])
        data = {f.key: self.text(cells, f"attendee_{f.key}") for f in fields}
        details = AttendeeDetails(
            name=" ".join(self.text(cells, "attendee_name").split()),
            email=self.text(cells, "attendee_email"),
            data=data,
        )
        given = details.name or details.email or any(data.values())
        if not ticket_type.requires_personal_data:
            if given and quantity > 1:
                problems.append("Attendee details go on rows of one ticket: write one row per ticket (quantity 1).")
            return details if given and quantity == 1 else None
        if quantity > 1:
            problems.append(
                f"'{ticket_type.name}' needs each attendee's details: write one row per ticket (quantity 1)."
            )
            return None
        labels = {f.key: f.label for f in fields} | {"name": "attendee name", "email": "attendee email"}
        for key, why in details_errors(details, fields).items():
            problems.append(f"Missing or bad attendee data: {labels.get(key, key)}: {why}")
        return details


def check_errors(check: ImportCheck) -> tuple[int, list[dict[str, object]]]:
    """(how many errors, the first ImportRun.MAX_ERRORS of them) for storing on the run."""
    return len(check.errors), check.errors[: ImportRun.MAX_ERRORS]
