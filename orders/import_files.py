"""Reading an uploaded order file (CSV or Excel) into rows of text, and writing files people open in a
spreadsheet (the template, the error report) so that no value becomes a formula.

Shape
    `file_read(name, data) -> Table`: the header (column names as written) and the data rows, each a list of
    strings, with the file row number of each (the header is row 1, as a spreadsheet counts). Raises
    `ImportFileError` with a sentence for the agent when the file can't be read at all: not text and not Excel,
    an encoding that can't be told, no header, too many rows or columns, a field beyond the CSV limit.

Nothing in a file is ever evaluated. An Excel cell holding a formula is read as its formula text and refused by
the check (orders.import_check), never computed; a CSV value starting with = is text. What we write back
(`csv_safe`) gets a leading apostrophe before = + - @ tab and CR, so a spreadsheet shows it as text.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from charset_normalizer import from_bytes

MAX_ROWS = 100_000
MAX_COLUMNS = 60
MAX_CELL = 1_000  # characters in one cell: the longest thing an order row holds is far below
# Prefixes an Excel formula cell's text, so the check can refuse it: a private-use character no typed text holds
# (not NUL: PostgreSQL refuses NUL in text, and the check stores a row's reference with its problem).
FORMULA_MARK = "\ue000formula:"
# Characters of all cells of a workbook together: a .xlsx is compressed, so its 20 MB could unpack to gigabytes
# of text; this bounds what one upload costs (100,000 rows of ~250 characters is far beyond any real import).
MAX_XLSX_TEXT = 25_000_000

_CSV_FIELD_LIMIT = 131_072  # the csv module's own default, stated: a longer field is refused, not read
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
_ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(ValueError):
    """A file that can't be read as an order file; the text says why, for the agent."""


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)


def file_read(name: str, data: bytes) -> Table:
    """The table in an uploaded CSV or .xlsx file (told apart by content, not by name)."""
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise ImportFileError("This is not an Excel workbook (.xlsx) we can read: save it as .xlsx or as CSV.")
    return _read_csv(_decode(data))


def _decode(data: bytes) -> str:
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise ImportFileError(
            "This is not a text file: it holds binary data. Upload a CSV file (text) or an Excel workbook (.xlsx)."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    encoding = _guess_encoding(data[: 1024 * 1024])
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise ImportFileError(
            f"The file looked like {encoding} but isn't readable as it: save it as CSV in UTF-8 and upload it again."
        ) from None


# What spreadsheets save when not UTF-8: the Windows code pages and the East Asian multi-byte encodings.
_LEGACY = ["cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "shift_jis", "gb18030", "big5", "euc_kr"]
_MULTI_BYTE = frozenset({"shift_jis", "gb18030", "big5", "euc_kr"})


def _guess_encoding(sample: bytes) -> str:
    """charset-normalizer's best guess among _LEGACY. A short file fits several code pages equally well: then
    Windows-1252 (what Excel saves in Western Europe and the Americas) wins among the single-byte ones."""
    matches = list(from_bytes(sample, cp_isolation=_LEGACY))
    if not matches:
        raise ImportFileError(
            "Can't tell which character encoding this file uses: save it as CSV in UTF-8 and upload it again."
        )
    best = matches[0]
    if best.encoding in _MULTI_BYTE:
        return best.encoding
    calmest = [m for m in matches if m.chaos <= best.chaos]
    if any("cp1252" in m.could_be_from_charset for m in calmest):
        return "cp1252"
    return best.encoding


def _read_csv(text: str) -> Table:
    sample = text[:_SNIFF_BYTES]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], _DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    limit = csv.field_size_limit()
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        table: Table | None = None
        for number, record in enumerate(reader, start=1):
            if table is None:
                table = Table(header=_header(record))
                continue
            _add_row(table, [_csv_unescape(cell) for cell in record], number)
    except csv.Error as error:
        raise ImportFileError(f"The CSV can't be read near row {reader.line_num}: {error}.") from None
    finally:
        csv.field_size_limit(limit)
    if table is None:
        raise ImportFileError("The file has no header row.")
    return table


def _csv_unescape(cell: str) -> str:
    """The value `csv_safe` wrote: its apostrophe before a formula's first character dropped, as a spreadsheet hides
    it, so the template's "'+44 20 …" imports as "+44 20 …". Any other apostrophe stays."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def _header(record: list[str]) -> list[str]:
    header = [cell.strip() for cell in record]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ImportFileError("The first row must name the columns (see the template).")
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(f"The file has {len(header)} columns; an order file has at most {MAX_COLUMNS}.")
    return header


def _add_row(table: Table, record: list[str], number: int) -> None:
    if not any(cell.strip() for cell in record):
        return  # blank lines (a spreadsheet's trailing rows) are no rows
    if len(table.rows) >= MAX_ROWS:
        raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows: split it into smaller files.")
    table.rows.append(record[:MAX_COLUMNS])
    table.row_numbers.append(number)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # only for Excel uploads: it takes a while to import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams the rows; data_only=False gives a formula cell's formula, which the check refuses.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        raise ImportFileError(
            "This is not an Excel workbook (.xlsx) we can read: save it as .xlsx or as CSV."
        ) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFileError("The workbook has no sheet.")
        table: Table | None = None
        characters = 0
        for number, cells in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
            record = [_cell_text(cell) for cell in cells]
            if (longest := max(map(len, record), default=0)) > MAX_CELL + len(FORMULA_MARK):
                raise ImportFileError(
                    f"Row {number} has a cell of {longest:,} characters; at most {MAX_CELL:,}: is this the right file?"
                )
            characters += sum(map(len, record))
            if characters > MAX_XLSX_TEXT:
                raise ImportFileError(
                    f"The workbook holds more than {MAX_XLSX_TEXT:,} characters of text: split it into smaller files."
                )
            if table is None:
                if not any(record):
                    continue
                table = Table(header=_header(record))
                continue
            _add_row(table, record, number)
    except ImportFileError:
        raise
    except Exception:  # a damaged sheet inside a valid zip: whatever openpyxl raises is the same answer
        raise ImportFileError(
            "This Excel workbook is damaged: open it in Excel and save it again, or use CSV."
        ) from None
    finally:
        book.close()
    if table is None:
        raise ImportFileError("The workbook's first sheet is empty.")
    return table


def _cell_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", "") == "f":
        return FORMULA_MARK + str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value)


# --- Writing files a spreadsheet opens ------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The value as CSV text that no spreadsheet reads as a formula (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_write(rows: Sequence[Sequence[object]]) -> str:
    """CSV text (comma, quoted where needed, CRLF) of the rows, every value through `csv_safe`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    return out.getvalue()
