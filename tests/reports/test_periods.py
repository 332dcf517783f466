"""Periods and their buckets: presets, ISO weeks, months, and days in the company's time zone."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ecti.reports.periods import PeriodError, parse_period

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 6, 3, 16, 0, tzinfo=timezone.utc)  # Thursday 2026-06-04 01:00 in Tokyo (still the 3rd in UTC)


@pytest.mark.parametrize("preset, first, last", [
    ("today", date(2026, 6, 4), date(2026, 6, 4)),
    ("yesterday", date(2026, 6, 3), date(2026, 6, 3)),
    ("this_week", date(2026, 6, 1), date(2026, 6, 4)),
    ("last_week", date(2026, 5, 25), date(2026, 5, 31)),
    ("this_month", date(2026, 6, 1), date(2026, 6, 4)),
    ("last_month", date(2026, 5, 1), date(2026, 5, 31)),
])
def test_presets_are_days_in_tokyo(preset, first, last):
    period = parse_period({"preset": preset}, TOKYO, now=NOW)
    assert (period.first_day, period.last_day) == (first, last)


def test_a_tokyo_day_starts_at_15_utc_the_day_before():
    period = parse_period({"from": "2026-05-31", "to": "2026-06-01"}, TOKYO)
    assert [(b.label, b.start, b.end) for b in period.buckets()] == [
        ("2026-05-31", datetime(2026, 5, 30, 15, tzinfo=timezone.utc), datetime(2026, 5, 31, 15, tzinfo=timezone.utc)),
        ("2026-06-01", datetime(2026, 5, 31, 15, tzinfo=timezone.utc), datetime(2026, 6, 1, 15, tzinfo=timezone.utc)),
    ]


def test_weeks_start_on_monday_and_months_follow_the_calendar():
    weeks = parse_period({"from": "2026-05-28", "to": "2026-06-09", "bucket": "week"}, TOKYO).buckets()
    assert [(b.label, b.first_day) for b in weeks] == [("2026-W22", date(2026, 5, 28)), ("2026-W23", date(2026, 6, 1)), ("2026-W24", date(2026, 6, 8))]
    months = parse_period({"from": "2026-01-15", "to": "2026-03-02", "bucket": "month"}, TOKYO).buckets()
    assert [b.label for b in months] == ["2026-01", "2026-02", "2026-03"]
    assert months[-1].end == datetime(2026, 3, 2, 15, tzinfo=timezone.utc)  # the period's last day, not the month's


def test_a_day_with_a_daylight_saving_change_is_23_hours_long():
    [day] = parse_period({"from": "2026-03-08", "to": "2026-03-08"}, ZoneInfo("America/New_York")).buckets()
    assert day.end - day.start == timedelta(hours=23)


@pytest.mark.parametrize("params, code", [
    ({"from": "2026-02-30", "to": "2026-03-01"}, "bad_date"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "period_reversed"),
    ({"to": "2026-03-01"}, "incomplete_period"),
    ({"from": "2025-01-01", "to": "2026-01-02"}, "period_too_long"),
    ({"bucket": "year"}, "bad_bucket"),
    ({"preset": "tomorrow"}, "unknown_preset"),
])
def test_bad_periods_are_refused_with_a_reason(params, code):
    with pytest.raises(PeriodError) as refused:
        parse_period(params, TOKYO, now=NOW)
    assert refused.value.code == code and refused.value.status == 400
