"""The ``holidays_jp`` plugin: Japan's national holidays as an ECTI holiday calendar."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from ecti import hookimpl
from ecti.i18n import _


@lru_cache(maxsize=32)
def _year(year: int) -> dict[date, str]:
    # The law changes (e.g. the 2019–2021 moves of holidays) are the library's job; a year is
    # computed once per process.
    return dict(holidays.country_holidays("JP", years=year, language="ja"))


class JapaneseNationalHolidays:
    """国民の祝日 (Act on National Holidays), with 振替休日 and 国民の休日."""

    name = "jp_national"
    label = _("Japanese national holidays")

    def holidays(self, start: date, end: date) -> dict[date, str]:
        found = {}
        for year in range(start.year, end.year + 1):
            found.update({day: name for day, name in _year(year).items() if start <= day <= end})
        return found


@hookimpl
def ecti_holiday_calendars():
    return [JapaneseNationalHolidays()]
