"""CSV as Japanese offices exchange it with Excel.

Written: UTF-8 with a BOM (without it Excel in Japan reads the bytes as Shift_JIS and shows
garbage), CRLF line ends, and text cells that Excel would run as a formula prefixed with an
apostrophe (CSV injection). Read: what Excel saves — UTF-8 with or without a BOM, or
Shift_JIS (really CP932, Windows' variant); anything else is refused rather than guessed.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

#: A text cell starting with one of these is a formula to Excel.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_cell(value):
    """A value as a cell: None is empty, booleans are 0/1, formula-like text is made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def excel_csv(headers: Sequence, rows: Iterable[Sequence]) -> bytes:
    """The bytes of a CSV file that Excel in Japan opens correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([excel_cell(h) for h in headers])
    for row in rows:
        writer.writerow([excel_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


class UnknownEncoding(ValueError):
    """The bytes are neither UTF-8 nor Shift_JIS (CP932) text."""


def decode_excel_csv(data: bytes) -> tuple[str, str]:
    """``(text, encoding label)`` of a CSV file saved by Excel; raises :class:`UnknownEncoding`.

    UTF-8 is tried strictly first (Shift_JIS text is almost never valid UTF-8), then CP932.
    UTF-16 ("Unicode text" in Excel) is refused: it would decode as nonsense CP932.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnknownEncoding("UTF-16")
    try:
        return data.decode("utf-8-sig"), "UTF-8 (BOM)" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "Shift_JIS"
    except UnicodeDecodeError:
        raise UnknownEncoding("neither UTF-8 nor CP932") from None
