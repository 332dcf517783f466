"""Business hours and holidays: is the company open at a given moment, and why (F-IVR-3..5).

A :class:`~ecti.ivr.models.Schedule` lists time ranges per weekday in the tenant's time zone and
names the holiday calendars it honours (``ecti_holiday_calendars``); the tenant's company
closures (:class:`~ecti.ivr.models.Closure`) apply to every schedule. :func:`decide` answers
with a :class:`Decision`: the branch a schedule node takes and the reason, which the
"what happens at …" preview shows and the call's ``flow_step`` event keeps.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from .models import Closure, Schedule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_RANGE_TEXT = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–〜~]\s*(\d{1,2}:\d{2})\s*$")

#: JSON Schema of ``Schedule.weekly`` (the structure; :func:`weekly_problems` checks the rest).
WEEKLY_SCHEMA = {
    "type": "object",
    "properties": {
        day: {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string", "pattern": _TIME.pattern}, "minItems": 2, "maxItems": 2},
        }
        for day in WEEKDAYS
    },
    "additionalProperties": False,
}


def weekly_problems(weekly: dict) -> list[tuple[str, Any]]:
    """``(weekday, message)`` for every range that is not a valid ``start < end`` pair."""
    problems = []
    for day in WEEKDAYS:
        for start, end in weekly.get(day, ()):
            if not (_TIME.match(start) and _TIME.match(end)):
                problems.append((day, _("${start}–${end} is not a time range (use HH:MM).", mapping={"start": start, "end": end})))
            elif start >= end:
                problems.append(
                    (day, _("The range ${start}–${end} ends before it starts (split ranges that pass midnight).", mapping={"start": start, "end": end}))
                )
    return problems


def parse_ranges(text: str, day: str) -> list[list[str]]:
    """Read ``"9:00-12:00, 13:00-18:00"`` (empty: closed) into ``[["09:00", "12:00"], …]``."""
    ranges = []
    for part in re.split(r"[,、，\s]\s*(?=\d)", text.strip()) if text.strip() else []:
        match = _RANGE_TEXT.match(part)
        if not match:
            raise UserError(
                "invalid_time_range",
                _("Write the hours as 09:00-12:00, 13:00-18:00 (leave empty when closed)."),
                field=day,
                status=422,
            )
        ranges.append([_pad(match.group(1)), _pad(match.group(2))])
    return ranges


def _pad(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def format_ranges(ranges) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges)


#: The branches of a schedule as people read them (preview, call history).
BRANCH_LABELS = {"open": _("In business hours"), "closed": _("Outside business hours"), "holiday": _("Holiday")}


@dataclass(frozen=True)
class Decision:
    """Which branch a schedule takes at a moment, and why.

    ``reason`` is ``holiday`` (a calendar's holiday), ``closure`` (a company closure),
    ``open`` (inside a range), ``closed_day`` (no hours that weekday) or ``outside_hours``.
    """

    branch: str
    reason: str
    local_time: datetime
    detail: dict[str, str] = field(default_factory=dict)

    def explain(self, calendars: dict | None = None):
        """The reason in words, for the preview and the call's event history; ``calendars``
        (the registry's holiday calendars) name a holiday's calendar by its label, not its code."""
        mapping = {"time": self.local_time.strftime("%Y-%m-%d %H:%M"), **self.detail}
        calendar = (calendars or {}).get(self.detail.get("calendar"))
        if calendar is not None:
            mapping["calendar"] = calendar.label
        return {
            "holiday": _("${time}: ${name} (${calendar}) is a holiday.", mapping=mapping),
            "closure": _("${time}: the company is closed (${name}).", mapping=mapping),
            "open": _("${time}: inside business hours (${hours}).", mapping=mapping),
            "closed_day": _("${time}: no business hours on this weekday.", mapping=mapping),
            "outside_hours": _("${time}: outside business hours (${hours}).", mapping=mapping),
        }[self.reason]


def holiday_on(session, calendars: dict, schedule: Schedule, day: date) -> tuple[str, dict[str, str]] | None:
    """``("closure" | "holiday", detail)`` when ``day`` is closed by a closure or a calendar."""
    closure = session.scalar(
        select(Closure).where(Closure.start_date <= day, Closure.end_date >= day).order_by(Closure.start_date)
    )
    if closure is not None:
        return "closure", {"name": closure.name}
    for name in schedule.calendars or ():
        calendar = calendars.get(name)
        if calendar is None:
            continue  # a calendar whose plugin was removed; the schedule page says so
        found = calendar.holidays(day, day).get(day)
        if found:
            return "holiday", {"name": str(found), "calendar": name}
    return None


def decide(session, calendars: dict, schedule: Schedule, time_zone: str, at: datetime) -> Decision:
    """Decide the branch for the aware moment ``at`` (any zone), in the tenant's ``time_zone``."""
    local = at.astimezone(ZoneInfo(time_zone))
    closed = holiday_on(session, calendars, schedule, local.date())
    if closed is not None:
        reason, detail = closed
        return Decision("holiday", reason, local, detail)
    day = WEEKDAYS[local.weekday()]
    ranges = (schedule.weekly or {}).get(day, [])
    if not ranges:
        return Decision("closed", "closed_day", local, {"day": day})
    now = local.time().replace(second=0, microsecond=0)
    for start, end in ranges:
        if _clock(start) <= now and (end == "24:00" or now < _clock(end)):
            return Decision("open", "open", local, {"hours": f"{start}-{end}"})
    return Decision("closed", "outside_hours", local, {"hours": format_ranges(ranges)})


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def holidays_between(session, calendars: dict, calendar_names, start: date, end: date) -> list[tuple[date, str, str]]:
    """Every holiday and closure day between ``start`` and ``end``: ``(day, name, source)``,
    where ``source`` is a calendar name or ``closure`` (for the holiday calendar view)."""
    days = []
    for name in calendar_names:
        calendar = calendars.get(name)
        if calendar is not None:
            days.extend((day, str(label), name) for day, label in calendar.holidays(start, end).items())
    closures = session.scalars(select(Closure).where(Closure.start_date <= end, Closure.end_date >= start))
    for closure in closures:
        day = max(closure.start_date, start)
        while day <= min(closure.end_date, end):
            days.append((day, closure.name, "closure"))
            day = date.fromordinal(day.toordinal() + 1)
    return sorted(days)
