"""Report periods and their buckets, in the tenant's time zone.

A period is a range of local dates (both ends included). Its buckets (days, ISO weeks starting
on Monday, or months) are computed here, in Python, as exact UTC instants: the database only
compares stored UTC times with those boundaries, so a bucket is right on SQLite and PostgreSQL
alike and in any time zone, daylight saving time included.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from ..errors import UserError
from ..i18n import _

BUCKETS = ("day", "week", "month")
PRESETS = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month")
PRESET_LABELS = {
    "today": _("Today"),
    "yesterday": _("Yesterday"),
    "this_week": _("This week"),
    "last_week": _("Last week"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
}
BUCKET_LABELS = {"day": _("By day"), "week": _("By week"), "month": _("By month")}
#: The longest period one report covers.
MAX_DAYS = 366


class PeriodError(UserError):
    status = 400


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


@dataclass(frozen=True)
class Bucket:
    label: str  # 2026-05-01, 2026-W18 (from its Monday), 2026-05
    first_day: date
    start: datetime  # UTC, included
    end: datetime  # UTC, excluded


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    zone: ZoneInfo
    bucket: str = "day"

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def buckets(self) -> list[Bucket]:
        out: list[Bucket] = []
        day = self.first_day
        while day <= self.last_day:
            if self.bucket == "month":
                following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                label = f"{day.year:04d}-{day.month:02d}"
            elif self.bucket == "week":
                monday = day - timedelta(days=day.weekday())
                following = monday + timedelta(days=7)
                iso = monday.isocalendar()
                label = f"{iso[0]:04d}-W{iso[1]:02d}"
            else:
                following = day + timedelta(days=1)
                label = day.isoformat()
            following = min(following, self.last_day + timedelta(days=1))
            out.append(Bucket(label, day, local_midnight(day, self.zone), local_midnight(following, self.zone)))
            day = following
        return out

    def query(self) -> dict[str, str]:
        """The query string that asks for this period again."""
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "bucket": self.bucket}


def preset_dates(preset: str, today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if preset == "this_week":
        return monday, today
    if preset == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if preset == "this_month":
        return first_of_month, today
    if preset == "last_month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    raise PeriodError("unknown_preset", _("Choose one of the listed periods."), field="preset")


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PeriodError(
            "bad_date", _("Enter the date as YYYY-MM-DD (for example 2026-05-31): ${value}", mapping={"value": value[:40]}), field=field
        )


def parse_period(params, zone: ZoneInfo, *, now: datetime | None = None, default_preset: str = "this_month") -> Period:
    """The period asked for by ``from``/``to`` (YYYY-MM-DD) or ``preset``, and ``bucket``.

    Raises :class:`PeriodError` (status 400) with a specific message for bad input.
    """
    bucket = (params.get("bucket") or "day").strip()
    if bucket not in BUCKETS:
        raise PeriodError("bad_bucket", _("Group by day, week or month."), field="bucket")
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    preset = (params.get("preset") or "").strip()
    today = (now or datetime.now(timezone.utc)).astimezone(zone).date()
    if raw_from or raw_to:
        if not (raw_from and raw_to):
            raise PeriodError("incomplete_period", _("Enter both the first and the last day of the period."), field="from" if not raw_from else "to")
        first, last = _date(raw_from, "from"), _date(raw_to, "to")
    else:
        first, last = preset_dates(preset or default_preset, today)
    if last < first:
        raise PeriodError("period_reversed", _("The last day is before the first day."), field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("period_too_long", _("A report covers at most ${days} days.", mapping={"days": MAX_DAYS}), field="to")
    return Period(first, last, zone, bucket)
