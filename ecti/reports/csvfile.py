"""CSV for Excel in Japan: UTF-8 with a BOM, CRLF, headers in the chosen language, plain numbers."""
from __future__ import annotations

import csv
import io

#: A text cell starting with one of these is a formula to Excel: it gets a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if value == int(value) else round(value, 1)
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(h) for h in headers])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
