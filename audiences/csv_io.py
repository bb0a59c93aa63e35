"""The contacts CSV: what the import reads and the export writes (an export imports back as is).

A header row names the columns, in any order, case-insensitively:

    external_id            required: the contact's id in the organization
    email, phone, first_name, last_name, locale, timezone
    consent_marketing, consent_email, consent_sms, consent_whatsapp, consent_push
                           true/false, yes/no or 1/0
    attributes             a JSON object merged into the contact's attributes;
                           a key set to null is removed
    attr_<name>            one attribute per column: a JSON number or true/false
                           is stored as such, anything else as text ("01712" stays text)

An empty cell leaves an existing contact's value as it is; a new contact gets
the default (locale bn, the organization's timezone, marketing consent).
Rows are reported by line number, the header being line 1.
"""

import codecs
import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError

from audiences.models import Contact
from audiences.validators import CONSENT_CHANNELS
from shokti.errors import ApplicationError

TEXT_COLUMNS = ("email", "phone", "first_name", "last_name", "locale", "timezone")
CONSENT_COLUMNS = tuple(f"consent_{channel}" for channel in CONSENT_CHANNELS)
EXPORT_COLUMNS = ("external_id", *TEXT_COLUMNS, *CONSENT_COLUMNS, "attributes")
ATTRIBUTE_PREFIX = "attr_"

_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ContactRow:
    """One valid line: only the values its non-empty cells give."""

    line: int
    external_id: str
    fields: dict[str, str] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


def _error(column: str, message: str, kind: str = "invalid") -> dict:
    return {"loc": [column] if column else [], "msg": message, "type": kind}


def _messages(column: str, exc: ValidationError) -> list[dict]:
    return [_error(column, " ".join(error.messages), error.code or "invalid") for error in exc.error_list]


class _ByteSource(io.RawIOBase):
    """A raw stream over anything with read(n), an upload or a request body, so it is read in chunks."""

    def __init__(self, source: BinaryIO):
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class ContactCsvReader:
    """Iterates (line, row or None, errors) over a CSV stream, one record in memory at a time."""

    def __init__(self, source: BinaryIO):
        self._undecodable: set[int] = set()
        self._reader = csv.reader(self._lines(source))
        self._last_line = 0
        try:
            header = next(self._reader, None)
        except csv.Error as exc:
            raise _file_error(f"The header cannot be read: {exc}.") from exc
        if self._undecodable:
            raise _file_error("The header is not UTF-8 text.")
        self._last_line = self._reader.line_num
        self.columns = _columns(header)

    def _lines(self, source: BinaryIO) -> Iterator[str]:
        # Lines are decoded one by one so that bytes that are not UTF-8 fail their row only.
        for number, raw in enumerate(io.BufferedReader(_ByteSource(source), 65_536), start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)  # spreadsheets often start with one
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._undecodable.add(number)
                yield raw.decode("utf-8", "replace")

    def __iter__(self) -> Iterator[tuple[int, ContactRow | None, list[dict]]]:
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                cells, errors = None, [_error("", f"Not readable as CSV: {exc}.")]
            first, line = self._last_line + 1, self._reader.line_num
            self._last_line = line
            if cells is not None and any(number in self._undecodable for number in range(first, line + 1)):
                cells, errors = None, [_error("", "This line is not UTF-8 text.", "unicode_error")]
            if cells is None:
                yield line, None, errors
            elif any(cell.strip() for cell in cells):
                yield line, *self._parse(line, cells)

    def _parse(self, line: int, cells: list[str]) -> tuple[ContactRow | None, list[dict]]:
        if len(cells) > len(self.columns):
            return None, [_error("", f"{len(cells)} cells for {len(self.columns)} columns.", "too_long")]
        values = {
            column: _restore(cells[index].strip()) for index, column in enumerate(self.columns) if index < len(cells)
        }
        row, errors = ContactRow(line, values.get("external_id", "")), []
        if not row.external_id:
            errors.append(_error("external_id", "This field is required.", "missing"))
        for column, cell in values.items():
            if not cell or column == "external_id":
                continue
            try:
                _read_cell(row, column, cell)
            except ValidationError as exc:
                errors.extend(_messages(column, exc))
        try:
            Contact._meta.get_field("external_id").run_validators(row.external_id)
        except ValidationError as exc:
            errors.extend(_messages("external_id", exc))
        return (None, errors) if errors else (row, [])


def _read_cell(row: ContactRow, column: str, cell: str) -> None:
    if column in TEXT_COLUMNS:
        row.fields[column] = Contact._meta.get_field(column).clean(cell, None)
    elif column in CONSENT_COLUMNS:
        row.consent[column.removeprefix("consent_")] = _boolean(cell)
    elif column == "attributes":
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Not JSON: {exc.msg}.", code="json_invalid") from exc
        if not isinstance(value, dict):
            raise ValidationError("Expected a JSON object.", code="dict_type")
        row.attributes.update(value)
    else:
        row.attributes[column.removeprefix(ATTRIBUTE_PREFIX)] = _scalar(cell)


def _boolean(cell: str) -> bool:
    if cell.lower() in _TRUE:
        return True
    if cell.lower() in _FALSE:
        return False
    raise ValidationError("Expected true or false (yes/no, 1/0).", code="bool_type")


def _scalar(cell: str) -> Any:
    try:
        value = json.loads(cell)
    except json.JSONDecodeError:
        return cell
    if isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    return cell


def _file_error(message: str, column: str | None = None) -> ApplicationError:
    loc = ["body", "file"] + ([column] if column is not None else [])
    return ApplicationError(
        "INVALID_REQUEST",
        message,
        status=400,
        details={"errors": [{"loc": loc, "msg": message, "type": "value_error"}]},
        error="Validation error",
    )


def _columns(header: list[str] | None) -> list[str]:
    if not header:
        raise _file_error("The file is empty: it needs a header row naming its columns, external_id among them.")
    columns = []
    for raw in header:
        name = raw.strip()
        lowered = name.lower()
        if lowered.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if len(key) > 64 or "." in key:
                raise _file_error(f"Column {name!r}: attribute names have 1 to 64 characters and no dot.", name)
            column = ATTRIBUTE_PREFIX + key
        elif lowered in EXPORT_COLUMNS:
            column = lowered
        else:
            raise _file_error(
                f"Unknown column {name!r}. Columns: {', '.join(EXPORT_COLUMNS)} and attr_<name>.", name or None
            )
        if column in columns:
            raise _file_error(f"Column {name!r} appears twice.", name)
        columns.append(column)
    if "external_id" not in columns:
        raise _file_error("The header has no external_id column.")
    return columns


# --- Export ---------------------------------------------------------------------------


def _defuse(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) and not _is_number(cell) else cell


def _restore(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS) else cell


def _is_number(cell: str) -> bool:
    return cell.lstrip("+-").replace(" ", "").replace(".", "").replace("-", "").isdigit()


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_lines(contacts: Iterable[Contact]) -> Iterator[str]:
    """The CSV, line by line, for a streaming response."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for contact in contacts:
        consent = [
            "" if channel not in contact.consent else str(contact.consent[channel]).lower()
            for channel in CONSENT_CHANNELS
        ]
        attributes = json.dumps(contact.attributes, ensure_ascii=False) if contact.attributes else ""
        texts = [getattr(contact, column) for column in TEXT_COLUMNS]
        yield writer.writerow([_defuse(contact.external_id), *map(_defuse, texts), *consent, attributes])
