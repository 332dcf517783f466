"""How the console writes times and durations (UI.md: one format everywhere — lists, records,
reports, the wallboard; the ``local_time`` filter of every page uses it).

* a moment: ``2026/12/07（月）14:05`` (English: ``2026/12/07 (Mon) 14:05``), in the company's time zone;
* a duration: ``h:mm:ss`` (``0:01:37``); CSV files keep plain seconds for spreadsheets.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .i18n import _

WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def hms(seconds: float | None) -> str:
    """``h:mm:ss`` of a number of seconds (rounded to the second); empty when undefined."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    sign, total = ("-", -total) if total < 0 else ("", total)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def date_time(value: datetime | None, zone: ZoneInfo, translate) -> str:
    """``2026/12/07（月）14:05``: the date, the weekday and the time in ``zone``."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    return translate(_("${date} (${weekday}) ${time}", mapping={
        "date": local.strftime("%Y/%m/%d"), "weekday": translate(WEEKDAYS[local.weekday()]), "time": local.strftime("%H:%M")}))
