"""The hook implementations: this module is the entry point named in setup.cfg."""
from __future__ import annotations

from collections import Counter
from datetime import date

from ecti import hookimpl
from ecti.i18n import _


class FoundingDay:
    """Closed on the founding day (month-day from the setting ``founding_day.date``)."""

    name = "founding_day"
    label = _("Founding day")

    def __init__(self, month_day: str = "04-01"):
        self.month, self.day = (int(part) for part in month_day.split("-"))

    def holidays(self, start: date, end: date) -> dict[date, str]:
        found = {}
        for year in range(start.year, end.year + 1):
            day = date(year, self.month, self.day)
            if start <= day <= end:
                found[day] = "創立記念日"
        return found


@hookimpl
def ecti_holiday_calendars():
    return [FoundingDay()]


@hookimpl
def ecti_call_event(request, call, event):
    if request is None:
        return
    counts = request.registry.setdefault("founding_day.event_counts", Counter())
    counts[event.kind.value] += 1


@hookimpl
def ecti_config(config):
    config.add_route("founding_day.events", "/founding-day/events")
    config.add_view(
        "ecti_founding_day.views.event_counts",
        route_name="founding_day.events",
        renderer="ecti_founding_day:templates/events.jinja2",
        permission="console",
    )
