"""Contacts: checked saving, CSV import (UTF-8 with or without BOM, Shift_JIS/CP932 from
Japanese Excel; all rows or none) and the CRM connector that names callers."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..interfaces import CRMContact
from ..spreadsheets import UnknownEncoding, decode_excel_csv
from ..telephony.numbering import NumberError, format_domestic, to_e164
from .models import Contact, ContactNumber

MAX_NUMBERS = 10
MAX_IMPORT_ROWS = 10_000
#: Separators between numbers in one field: comma, ideographic comma, semicolon, slash, newline.
_NUMBER_SPLIT = re.compile(r"[,、;；/／\n]+")


class ContactInvalid(UserError):
    """One or more fields are wrong; ``errors`` maps field name to message."""

    def __init__(self, errors: dict):
        first = next(iter(errors.values()))
        super().__init__("contact_invalid", first, field=next(iter(errors)), status=422)
        self.errors = errors


@dataclass
class ContactData:
    name: str
    company: str = ""
    numbers: str | list[str] = ""
    note: str = ""


def _number_texts(numbers) -> list[str]:
    texts = _NUMBER_SPLIT.split(numbers) if isinstance(numbers, str) else list(numbers)
    return [t.strip() for t in texts if t and t.strip()]


def _check_fields(data: ContactData) -> tuple[dict, list[str]]:
    """The checks that need no database: (errors by field, the numbers in E.164)."""
    errors: dict = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("Enter the contact's name.")
    elif len(name) > 100:
        errors["name"] = _("The name is too long (at most 100 characters).")
    if len((data.company or "").strip()) > 200:
        errors["company"] = _("The company name is too long (at most 200 characters).")
    if len(data.note or "") > 2000:
        errors["note"] = _("The note is too long (at most 2000 characters).")
    for key in ("name", "company", "note"):
        if "\x00" in (getattr(data, key) or ""):
            errors[key] = _("Remove the invisible control character (NUL) from this text.")
    e164s: list[str] = []
    texts = _number_texts(data.numbers)
    if not texts:
        errors["numbers"] = _("Enter at least one phone number.")
    elif len(texts) > MAX_NUMBERS:
        errors["numbers"] = _("A contact has at most ${max} numbers.", mapping={"max": MAX_NUMBERS})
    else:
        for text in texts:
            try:
                e164 = to_e164(text)
            except NumberError as err:
                errors["numbers"] = err.message  # names the number
                break
            if e164 not in e164s:
                e164s.append(e164)
    return errors, e164s


def _owners(db, e164s) -> dict[str, tuple[int, str]]:
    """Which contact of the tenant already has each of these numbers: e164 → (id, name)."""
    found: dict[str, tuple[int, str]] = {}
    e164s = list(e164s)
    for i in range(0, len(e164s), 1000):
        rows = db.execute(
            select(ContactNumber.e164, Contact.id, Contact.name).join(Contact).where(ContactNumber.e164.in_(e164s[i:i + 1000]))
        ).all()
        found.update((number, (owner, name)) for number, owner, name in rows)
    return found


def _taken_error(number: str, who: str):
    return _("${number} is already the number of ${name}.", mapping={"number": format_domestic(number), "name": who})


def check_contact(db, data: ContactData, *, contact_id: int | None = None) -> tuple[dict, list[str]]:
    """Check a contact's fields; return (errors by field, the numbers in E.164)."""
    errors, e164s = _check_fields(data)
    if "numbers" not in errors:
        owners = _owners(db, e164s)
        taken = [(n, owners[n][1]) for n in e164s if n in owners and owners[n][0] != contact_id]
        if taken:
            errors["numbers"] = _taken_error(*taken[0])
    return errors, e164s


def save_contact(db, tenant_id: int, data: ContactData, contact: Contact | None = None) -> Contact:
    errors, e164s = check_contact(db, data, contact_id=contact.id if contact else None)
    if errors:
        raise ContactInvalid(errors)
    if contact is None:
        contact = Contact(tenant_id=tenant_id)
        db.add(contact)
    contact.name = data.name.strip()
    contact.company = (data.company or "").strip()
    contact.note = data.note or ""
    keep = {n.e164: n for n in contact.numbers}
    contact.numbers = [keep.get(e) or ContactNumber(tenant_id=tenant_id, e164=e) for e in e164s]
    db.flush()
    return contact


# --- CSV import ---------------------------------------------------------------------------------

#: Header names (lower case) for each field, English and Japanese.
HEADERS = {
    "name": ("name", "氏名", "名前", "お名前"),
    "company": ("company", "会社", "会社名", "企業名"),
    "numbers": ("phone", "phones", "number", "numbers", "tel", "電話", "電話番号"),
    "note": ("note", "notes", "memo", "メモ", "備考"),
}


@dataclass
class ImportResult:
    created: int = 0
    errors: list[tuple[int, object]] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP932 (Shift_JIS as Windows and Excel write it)."""
    try:
        return decode_excel_csv(data)[0]
    except UnknownEncoding:
        raise UserError("csv_encoding", _("The file is neither UTF-8 nor Shift_JIS text. Save it as CSV (UTF-8) and try again."))


def _columns(header: list[str]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        key = re.sub(r"\d+$", "", key).strip()  # phone1, 電話番号2 …
        for name, titles in HEADERS.items():
            if key in titles:
                columns.setdefault(name, []).append(index)
    return columns


def import_csv(db, tenant_id: int, data: bytes) -> ImportResult:
    """Add every row as a contact, or none: any row's error leaves everything unchanged.

    The first row names the columns (``name``/``氏名``, ``company``/``会社名``, one or more
    ``phone``/``電話番号`` columns, ``note``/``メモ``). Errors carry the row number as a
    spreadsheet shows it (the header is row 1).
    """
    text = decode_csv(data)
    if "\x00" in text:  # a binary file that happens to decode; no spreadsheet writes NUL
        raise UserError("csv_invalid", _("The file is not a readable CSV file (${error}).", mapping={"error": "NUL"}))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise UserError("csv_invalid", _("The file is not a readable CSV file (${error}).", mapping={"error": str(err)}))
    if not rows:
        raise UserError("csv_empty", _("The file is empty."))
    columns = _columns(rows[0])
    if "name" not in columns or "numbers" not in columns:
        raise UserError("csv_header", _("The first row must name the columns: at least name (氏名) and phone (電話番号)."))
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise UserError("csv_too_long", _("At most ${max} rows can be imported at once.", mapping={"max": MAX_IMPORT_ROWS}))
    result = ImportResult()
    seen: dict[str, int] = {}
    checked: list[tuple[int, ContactData, dict, list[str]]] = []
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name, row=row):
            return [row[i] for i in columns.get(name, []) if i < len(row)]

        data = ContactData(
            name=" ".join(cell("name")).strip(), company=" ".join(cell("company")).strip(),
            numbers=[t for value in cell("numbers") for t in _number_texts(value)], note="\n".join(cell("note")).strip(),
        )
        errors, e164s = _check_fields(data)
        checked.append((row_number, data, errors, e164s))
    # One look at the directory for every number of the file, not one per row.
    owners = _owners(db, {n for *_, e164s in checked for n in e164s})
    pending: list[tuple[ContactData, list[str]]] = []
    for row_number, data, errors, e164s in checked:
        for e164 in e164s:
            if "numbers" in errors:
                break
            if e164 in owners:
                errors["numbers"] = _taken_error(e164, owners[e164][1])
            elif e164 in seen:
                errors["numbers"] = _("${number} is also on row ${row}.", mapping={"number": format_domestic(e164), "row": seen[e164]})
        for e164 in e164s:
            seen.setdefault(e164, row_number)
        if errors:
            result.errors.extend((row_number, message) for message in errors.values())
        else:
            pending.append((data, e164s))
    if result.errors:
        return result
    db.add_all(
        Contact(tenant_id=tenant_id, name=data.name, company=data.company, note=data.note,
                numbers=[ContactNumber(tenant_id=tenant_id, e164=e) for e in e164s])
        for data, e164s in pending
    )
    db.flush()
    result.created = len(pending)
    return result


# --- CRM connector -------------------------------------------------------------------------------

class DirectoryConnector:
    """The built-in directory as a CRM: the caller's name when one of the contacts has the number."""

    name = "directory"
    label = _("Contact directory")

    def lookup(self, request, tenant, number: str) -> CRMContact | None:
        try:
            e164 = to_e164(number)
        except NumberError:
            return None
        contact = request.db.scalar(
            select(Contact).join(ContactNumber).where(ContactNumber.e164 == e164, Contact.tenant_id == tenant.id)
        )
        if contact is None:
            return None
        return CRMContact(display_name=contact.display_name, record_id=str(contact.id),
                          record_url=request.route_url("contacts.edit", id=contact.id))
