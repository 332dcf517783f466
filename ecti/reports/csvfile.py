"""Report CSV: the shared Excel format (:mod:`ecti.spreadsheets`), numbers plain, fractions to one decimal."""
from __future__ import annotations

from ..spreadsheets import excel_csv


def cell(value):
    if isinstance(value, float):
        return int(value) if value == int(value) else round(value, 1)
    return value


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    return excel_csv(headers, ([cell(v) for v in row] for row in rows))
