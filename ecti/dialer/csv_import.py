"""Reading an uploaded dialing list: encoding, header, and every row checked (docs/dialer.md).

Files saved by Japanese Excel are Shift_JIS (really CP932) or UTF-8 with or without a BOM. The
bytes are decoded strictly as UTF-8 (a BOM is dropped) and, when that fails, strictly as CP932;
anything else is refused with a message. Nothing is stored here: :func:`check_csv` returns the
good rows and the refused ones (row number, value, reason) for the preview.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from ..errors import UserError
from ..i18n import _
from ..spreadsheets import UnknownEncoding, decode_excel_csv
from ..telephony.numbering import NumberError, check_outbound

#: Upload limits (the messages say them).
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 50
MAX_VALUE = 500

NUMBER_HEADERS = ("電話番号", "番号", "電話", "携帯番号", "携帯電話番号", "tel", "telephone", "phone", "phone number",
                  "phone_number", "number", "mobile")
NAME_HEADERS = ("名前", "氏名", "お名前", "顧客名", "会社名", "name", "full name", "customer", "customer name")


UNKNOWN_ENCODING = _(
    "The file's character encoding could not be read (only UTF-8 and Shift_JIS are accepted). "
    "Save it from Excel as \"CSV UTF-8\" or \"CSV (comma delimited)\" and upload it again."
)


class ImportError_(UserError):
    status = 422


@dataclass
class Checked:
    encoding: str
    columns: list[str]
    good: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding label)``; raises a specific error for empty or unreadable files."""
    if len(data) > MAX_BYTES:
        raise ImportError_("file_too_large", _("The file is larger than ${limit} MB. Split the list into smaller files.",
                                               mapping={"limit": MAX_BYTES // (1024 * 1024)}), field="file")
    if not data.strip():
        raise ImportError_("empty_file", _("The file is empty. Choose a CSV file with a header row and at least one number."), field="file")
    try:
        text, label = decode_excel_csv(data)
    except UnknownEncoding:
        raise ImportError_("unknown_encoding", UNKNOWN_ENCODING, field="file") from None
    if "\x00" in text:
        raise ImportError_("not_csv", _("This is not a CSV text file. Save the list from Excel as CSV and upload it again."), field="file")
    return text, label


def _key(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lower()


def _find(headers: list[str], names) -> int | None:
    keys = [_key(h) for h in headers]
    for name in names:
        if name in keys:
            return keys.index(name)
    return None


def refusal(row: int, value: str, code: str, message) -> dict:
    """A refused row as stored for the preview: the message's msgid and mapping are kept so the
    page can show it in the reader's language."""
    return {"row": row, "value": value, "code": code, "msgid": str(message), "mapping": dict(getattr(message, "mapping", None) or {})}


def check_csv(data: bytes, *, caller_id: str, existing: set[str] = frozenset(), do_not_call: set[str] = frozenset()) -> Checked:
    """Check every row of the uploaded ``data`` for a list calling from ``caller_id``.

    ``existing``: numbers already in the list; ``do_not_call``: the tenant's do-not-call list.
    Row numbers are the spreadsheet's (the header is row 1).
    """
    text, label = decode(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as err:
        raise ImportError_("bad_csv", _("The file is not a valid CSV file (${error}).", mapping={"error": str(err)}), field="file") from None
    while records and not any(v.strip() for v in records[0]):
        records.pop(0)
    if not records:
        raise ImportError_("empty_file", _("The file is empty. Choose a CSV file with a header row and at least one number."), field="file")
    headers = [h.strip() for h in records[0]]
    if len(headers) > MAX_COLUMNS:
        raise ImportError_("too_many_columns", _("The file has more than ${limit} columns.", mapping={"limit": MAX_COLUMNS}), field="file")
    number_at = _find(headers, NUMBER_HEADERS)
    if number_at is None:
        raise ImportError_(
            "no_number_column",
            _("No column with phone numbers was found. Name the column 電話番号 (or phone). Columns found: ${columns}",
              mapping={"columns": "、".join(h for h in headers if h) or "—"}),
            field="file",
        )
    name_at = _find(headers, NAME_HEADERS)
    headers = [h or f"{i + 1}" for i, h in enumerate(headers)]
    body = records[1:]
    if len(body) > MAX_ROWS:
        raise ImportError_("too_many_rows", _("The file has more than ${limit} rows. Split the list into smaller files.",
                                              mapping={"limit": MAX_ROWS}), field="file")
    checked = Checked(encoding=label, columns=headers)
    seen: dict[str, int] = {}
    for index, values in enumerate(body, start=2):
        if not any(v.strip() for v in values):
            continue  # blank lines Excel leaves at the end
        values = [v.strip()[:MAX_VALUE] for v in values] + [""] * max(0, len(headers) - len(values))
        raw = values[number_at]
        if not raw:
            checked.refused.append(refusal(index, raw, "empty_number", _("The phone number is empty.")))
            continue
        try:
            e164 = check_outbound(caller_id, raw)
        except NumberError as err:
            checked.refused.append(refusal(index, raw, err.code, err.message))
            continue
        if e164 in seen:
            checked.refused.append(refusal(index, raw, "duplicate", _("The same number is already in row ${row}.", mapping={"row": seen[e164]})))
            continue
        if e164 in existing:
            checked.refused.append(refusal(index, raw, "already_in_list", _("The number is already in this list.")))
            continue
        if e164 in do_not_call:
            checked.refused.append(refusal(index, raw, "do_not_call", _("The number is on the do-not-call list.")))
            continue
        seen[e164] = index
        extra = [[headers[i], values[i]] for i in range(len(headers)) if i not in (number_at, name_at)]
        checked.good.append({"row": index, "number": e164, "name": values[name_at] if name_at is not None else "", "extra": extra})
    if not checked.good and not checked.refused:
        raise ImportError_("no_rows", _("The file has a header row but no numbers."), field="file")
    return checked
