"""Billing computation (F-ORG-3). Every expected figure is worked out by hand in a comment."""
import random
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ecti.billing.calculation import (
    AccountEvent,
    BillingTerms,
    MonthlyUsage,
    billing_start,
    daily_active_accounts,
    due_date,
    monthly_invoice,
    peak_accounts,
    started_minutes,
    trial_end,
)

TOKYO = ZoneInfo("Asia/Tokyo")
UTC = timezone.utc


def jst(y, m, d, hh=0, mm=0, ss=0):
    """An instant given as Tokyo wall time, stored as aware UTC like the database does."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=TOKYO).astimezone(UTC)


def on(account, at):
    return AccountEvent(account, at, "activated")


def off(account, at):
    return AccountEvent(account, at, "deactivated")


# ------------------------------------------------------------------ trial and due date


@pytest.mark.parametrize(
    "start, months, expected_trial_end, expected_billing_start",
    [
        # Mid-month: one month from 03-17 is 04-17; the trial is 03-17..04-16.
        (date(2026, 3, 17), 1, date(2026, 4, 16), date(2026, 4, 17)),
        # Start on the 1st: trial is all of March, April billed whole.
        (date(2026, 3, 1), 1, date(2026, 3, 31), date(2026, 4, 1)),
        # 2026-02-31 and 2026-02-29 do not exist: billing from 03-01, trial to 02-28.
        (date(2026, 1, 31), 1, date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 1, 29), 1, date(2026, 2, 28), date(2026, 3, 1)),
        # 2026-02-28 exists: billing from 02-28, trial to 02-27.
        (date(2026, 1, 28), 1, date(2026, 2, 27), date(2026, 2, 28)),
        # Leap year 2028: 02-29 exists, so a start on 01-29 is billed from 02-29.
        (date(2028, 1, 29), 1, date(2028, 2, 28), date(2028, 2, 29)),
        (date(2028, 1, 31), 1, date(2028, 2, 29), date(2028, 3, 1)),
        # Across the year end.
        (date(2026, 12, 15), 1, date(2027, 1, 14), date(2027, 1, 15)),
        # No trial: billed from the start date itself.
        (date(2026, 3, 17), 0, date(2026, 3, 16), date(2026, 3, 17)),
        # Two months from 2025-12-31 → "2026-02-31" → 2026-03-01.
        (date(2025, 12, 31), 2, date(2026, 2, 28), date(2026, 3, 1)),
    ],
)
def test_trial_end_and_billing_start(start, months, expected_trial_end, expected_billing_start):
    assert trial_end(start, months) == expected_trial_end
    assert billing_start(start, months) == expected_billing_start


@pytest.mark.parametrize(
    "year, month, expected",
    [
        (2026, 1, date(2026, 2, 15)),
        (2026, 12, date(2027, 1, 15)),  # across the year end
        (2028, 2, date(2028, 3, 15)),
    ],
)
def test_due_date_is_15th_of_next_month(year, month, expected):
    assert due_date(year, month) == expected


@pytest.mark.parametrize("seconds, minutes", [(0, 0), (1, 1), (59, 1), (60, 1), (61, 2),
                                              (3600, 60), (3601, 61)])
def test_started_minutes(seconds, minutes):
    assert started_minutes(seconds) == minutes


# ------------------------------------------------------------------------- peak accounts


def test_no_accounts_peak_zero():
    assert peak_accounts([], 2026, 5) == 0


def test_accounts_3_then_5_then_2_peak_5():
    events = [
        on("a1", jst(2026, 4, 1, 9)),
        on("a2", jst(2026, 4, 1, 9)),
        on("a3", jst(2026, 4, 1, 9)),
        on("a4", jst(2026, 5, 10, 9)),
        on("a5", jst(2026, 5, 10, 9)),
        off("a1", jst(2026, 5, 20, 10)),
        off("a2", jst(2026, 5, 20, 10)),
        off("a3", jst(2026, 5, 20, 10)),
    ]
    # May 1..9: 3; 10..20: 5 (a1-a3 were active on the morning of the 20th); 21..31: 2.
    assert daily_active_accounts(events, 2026, 5) == [3] * 9 + [5] * 11 + [2] * 11
    assert peak_accounts(events, 2026, 5) == 5
    # June: only a4 and a5 remain.
    assert peak_accounts(events, 2026, 6) == 2
    # March: nobody yet.
    assert peak_accounts(events, 2026, 3) == 0


def test_created_and_deactivated_same_day_counts_for_that_day():
    events = [
        on("keeper", jst(2026, 5, 1, 9)),
        on("temp", jst(2026, 5, 10, 9)),
        off("temp", jst(2026, 5, 10, 17)),
    ]
    daily = daily_active_accounts(events, 2026, 5)
    assert daily[9] == 2  # May 10: keeper + temp
    assert daily[10] == 1  # May 11: keeper only
    assert peak_accounts(events, 2026, 5) == 2


@pytest.mark.parametrize(
    "deactivated_at, may_peak, june_peak",
    [
        # 2026-05-31T15:00Z is 2026-06-01 00:00 JST: active all of May, never in June.
        (datetime(2026, 5, 31, 15, 0, 0, tzinfo=UTC), 1, 0),
        # One second earlier: still May 31 23:59:59 JST.
        (datetime(2026, 5, 31, 14, 59, 59, tzinfo=UTC), 1, 0),
        # One second later: active for one second of June 1 → counts in June.
        (datetime(2026, 5, 31, 15, 0, 1, tzinfo=UTC), 1, 1),
    ],
)
def test_deactivation_at_tokyo_midnight(deactivated_at, may_peak, june_peak):
    events = [on("a", jst(2026, 5, 1, 9)), off("a", deactivated_at)]
    assert peak_accounts(events, 2026, 5) == may_peak
    assert peak_accounts(events, 2026, 6) == june_peak


@pytest.mark.parametrize(
    "created_at, may_peak, june_peak",
    [
        # 2026-05-31T15:00Z = June 1 00:00 JST: a June account.
        (datetime(2026, 5, 31, 15, 0, 0, tzinfo=UTC), 0, 1),
        # 2026-05-31T14:59:59Z = May 31 23:59:59 JST: counts on May 31 too.
        (datetime(2026, 5, 31, 14, 59, 59, tzinfo=UTC), 1, 1),
    ],
)
def test_creation_at_tokyo_month_boundary(created_at, may_peak, june_peak):
    events = [on("a", created_at)]
    assert peak_accounts(events, 2026, 5) == may_peak
    assert peak_accounts(events, 2026, 6) == june_peak


def test_time_zone_decides_the_day():
    # 2026-05-31T20:00Z is May 31 in UTC but June 1 05:00 in Tokyo.
    events = [on("a", datetime(2026, 5, 31, 20, 0, tzinfo=UTC))]
    assert peak_accounts(events, 2026, 5, TOKYO) == 0
    assert peak_accounts(events, 2026, 5, ZoneInfo("UTC")) == 1


def test_reactivation_leaves_a_gap():
    events = [
        on("a", jst(2026, 5, 1, 9)),
        off("a", jst(2026, 5, 5, 18)),
        on("b", jst(2026, 5, 10, 9)),
        off("b", jst(2026, 5, 20, 18)),
        on("a", jst(2026, 5, 25, 9)),  # reactivated
    ]
    # a: May 1..5 and 25..31; b: May 10..20; never both on the same day.
    daily = daily_active_accounts(events, 2026, 5)
    assert daily == [1] * 5 + [0] * 4 + [1] * 11 + [0] * 4 + [1] * 7
    assert peak_accounts(events, 2026, 5) == 1


def test_duplicate_and_stray_events_do_not_double_count():
    events = [
        on("a", jst(2026, 5, 1, 9)),
        on("a", jst(2026, 5, 2, 9)),  # already active
        off("b", jst(2026, 5, 3, 9)),  # never active
        on("c", jst(2026, 5, 4, 9)),
        off("c", jst(2026, 5, 4, 9)),  # zero-length: never active at any moment
    ]
    # a counts from May 1 (the first activation), every day; b and c never.
    assert daily_active_accounts(events, 2026, 5) == [1] * 31
    assert peak_accounts(events, 2026, 5) == 1


def test_naive_datetime_rejected():
    with pytest.raises(ValueError):
        AccountEvent("a", datetime(2026, 5, 1, 9), "activated")
    with pytest.raises(ValueError):
        AccountEvent("a", jst(2026, 5, 1, 9), "created")


# ------------------------------------------------------------------------------ invoices

TERMS = BillingTerms(unit_price_yen=1000, recording_price_yen_per_minute=3)

# Tenant starting mid-month 2026-03-17: trial 03-17..04-16, billed from 04-17.
START = date(2026, 3, 17)
HISTORY = [
    on("a1", jst(2026, 3, 17, 10)),
    on("a2", jst(2026, 3, 17, 10)),
    on("a3", jst(2026, 3, 17, 10)),
    # Four extra accounts only during the free days of April (04-02..04-16).
    *[on(f"x{i}", jst(2026, 4, 2, 10)) for i in range(4)],
    *[off(f"x{i}", jst(2026, 4, 16, 18)) for i in range(4)],
    on("a4", jst(2026, 4, 20, 9)),
    # May: 4 accounts, a5 and a6 added on 05-10 (→ 6), a1..a3 removed on 05-20 (→ 3).
    on("a5", jst(2026, 5, 10, 9)),
    on("a6", jst(2026, 5, 10, 9)),
    off("a1", jst(2026, 5, 20, 10)),
    off("a2", jst(2026, 5, 20, 10)),
    off("a3", jst(2026, 5, 20, 10)),
]


def test_month_before_start_bills_nothing():
    inv = monthly_invoice(START, HISTORY, 2026, 2, TERMS, MonthlyUsage(recording_seconds=600))
    assert inv.status == "not_started"
    assert inv.is_trial
    assert (inv.billed_days, inv.total_yen, inv.lines) == (0, 0, ())


def test_start_month_is_free_trial():
    inv = monthly_invoice(START, HISTORY, 2026, 3, TERMS)
    assert inv.status == "trial" and inv.is_trial
    assert (inv.period_start, inv.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert (inv.trial_end, inv.billing_start) == (date(2026, 4, 16), date(2026, 4, 17))
    assert inv.peak_accounts == 3  # a1..a3 from 03-17
    assert (inv.billed_days, inv.billed_peak_accounts, inv.account_charge_yen) == (0, 0, 0)
    assert inv.total_yen == 0
    assert inv.due_date == date(2026, 4, 15)


def test_first_billed_month_is_prorated_on_billed_days_only():
    inv = monthly_invoice(START, HISTORY, 2026, 4, TERMS)
    assert inv.status == "prorated" and not inv.is_trial
    # April has 30 days; billed 04-17..04-30 = 14 days.
    assert (inv.days_in_month, inv.billed_days) == (30, 14)
    # Whole month: 3 + 4 extra on 04-02..04-16 = 7. Billed days: a1..a3 + a4 = 4.
    assert inv.peak_accounts == 7
    assert inv.billed_peak_accounts == 4
    # 4 × 1000 × 14 / 30 = 56000 / 30 = 1866.67 → 1866 (rounded down once;
    # rounding per account would give 466 × 4 = 1864).
    assert inv.account_charge_yen == 1866
    assert inv.total_yen == 1866
    assert inv.due_date == date(2026, 5, 15)
    (line,) = [line for line in inv.lines if line.code == "accounts"]
    assert (line.quantity, line.unit_price_yen, line.amount_yen) == (4, 1000, 1866)
    assert line.label == "User accounts (prorated ${billed_days}/${days_in_month} days)"
    assert line.label.interpolate() == "User accounts (prorated 14/30 days)"


@pytest.mark.parametrize(
    "off_at, billed_peak, charge",
    [
        # x0..x3 off at 04-17 00:00 JST (= 04-16T15:00Z): not active on a billed day → 4.
        (datetime(2026, 4, 16, 15, 0, 0, tzinfo=UTC), 4, 1866),
        # One second into 04-17 JST: they count on the first billed day → 3 + 4 = 7
        # (a4 only comes on 04-20). 7 × 1000 × 14 / 30 = 98000 / 30 = 3266.67 → 3266.
        (datetime(2026, 4, 16, 15, 0, 1, tzinfo=UTC), 7, 3266),
    ],
)
def test_proration_boundary_at_billing_start(off_at, billed_peak, charge):
    history = [e for e in HISTORY if not (e.kind == "deactivated" and e.account_id[0] == "x")]
    history += [off(f"x{i}", off_at) for i in range(4)]
    inv = monthly_invoice(START, history, 2026, 4, TERMS)
    assert (inv.billed_peak_accounts, inv.account_charge_yen) == (billed_peak, charge)


def test_later_month_billed_whole_on_peak():
    inv = monthly_invoice(START, HISTORY, 2026, 5, TERMS)
    assert inv.status == "full"
    # May: 4 (a1..a4) → 6 on 05-10..05-20 → 3 from 05-21. 31/31 days billed.
    assert (inv.days_in_month, inv.billed_days) == (31, 31)
    assert inv.peak_accounts == inv.billed_peak_accounts == 6
    assert inv.account_charge_yen == 6000  # 6 × 1000
    assert inv.due_date == date(2026, 6, 15)
    # June: a4, a5, a6 → 3 × 1000.
    assert monthly_invoice(START, HISTORY, 2026, 6, TERMS).account_charge_yen == 3000


@pytest.mark.parametrize(
    "start, year, month, peak, unit, billed_days, days, charge, due",
    [
        # Leap February: start 2028-01-20 → billed from 2028-02-20, 02-20..02-29 = 10/29 days.
        # 3 × 1000 × 10 / 29 = 30000 / 29 = 1034.48 → 1034.
        (date(2028, 1, 20), 2028, 2, 3, 1000, 10, 29, 1034, date(2028, 3, 15)),
        # Same in 2027 (not leap): 02-20..02-28 = 9/28 days; 27000 / 28 = 964.29 → 964.
        (date(2027, 1, 20), 2027, 2, 3, 1000, 9, 28, 964, date(2027, 3, 15)),
        # December: start 2026-11-10 → billed 12-10..12-31 = 22/31 days.
        # 2 × 1500 × 22 / 31 = 66000 / 31 = 2129.03 → 2129, due across the year end.
        (date(2026, 11, 10), 2026, 12, 2, 1500, 22, 31, 2129, date(2027, 1, 15)),
        # Start 2026-01-31: trial to 02-28, March billed whole: 3 × 1000.
        (date(2026, 1, 31), 2026, 3, 3, 1000, 31, 31, 3000, date(2026, 4, 15)),
        # Start on the 1st (2026-03-01): April is the first billed month, billed whole.
        (date(2026, 3, 1), 2026, 4, 3, 1000, 30, 30, 3000, date(2026, 5, 15)),
    ],
)
def test_first_billed_month_table(start, year, month, peak, unit, billed_days, days, charge, due):
    events = [on(f"a{i}", jst(start.year, start.month, start.day, 9)) for i in range(peak)]
    inv = monthly_invoice(start, events, year, month, BillingTerms(unit_price_yen=unit))
    assert (inv.billed_days, inv.days_in_month) == (billed_days, days)
    assert inv.billed_peak_accounts == peak
    assert inv.account_charge_yen == charge
    assert inv.total_yen == charge
    assert inv.due_date == due
    assert inv.status == ("full" if billed_days == days else "prorated")


def test_month_fully_inside_trial_after_month_end_start():
    # Start 2026-01-31: February is entirely trial.
    events = [on("a", jst(2026, 1, 31, 9))]
    inv = monthly_invoice(date(2026, 1, 31), events, 2026, 2, TERMS)
    assert inv.status == "trial"
    assert inv.peak_accounts == 1
    assert inv.total_yen == 0


def test_recording_and_storage_charges():
    terms = BillingTerms(unit_price_yen=1000, recording_price_yen_per_minute=3,
                         storage_price_yen_per_minute=1)
    usage = MonthlyUsage(inbound_call_seconds=7200, outbound_call_seconds=61,
                         recording_seconds=3601, recording_storage_seconds=120_000,
                         sms_sent=12, sms_received=4)
    inv = monthly_invoice(START, HISTORY, 2026, 5, terms, usage)
    # Recording: 3601 s → 61 started minutes × 3 = 183. Storage: 120000 s = 2000 min × 1.
    assert (inv.recording_minutes, inv.recording_charge_yen) == (61, 183)
    assert (inv.storage_minutes, inv.storage_charge_yen) == (2000, 2000)
    # 6000 (accounts) + 183 + 2000.
    assert inv.total_yen == 8183
    assert [line.code for line in inv.lines] == ["accounts", "recording", "storage"]
    assert sum(line.amount_yen for line in inv.lines) == inv.total_yen
    # Usage reported next to the invoice.
    assert (usage.inbound_call_minutes, usage.outbound_call_minutes) == (120, 2)
    assert inv.usage.sms_sent == 12


def test_storage_line_absent_when_not_priced():
    inv = monthly_invoice(START, HISTORY, 2026, 5, TERMS,
                          MonthlyUsage(recording_storage_seconds=600))
    assert [line.code for line in inv.lines] == ["accounts", "recording"]
    assert inv.storage_charge_yen == 0


def test_recording_charged_during_trial():
    # The trial waives the account fee only; 90 s → 2 minutes × 3 yen = 6.
    inv = monthly_invoice(START, HISTORY, 2026, 3, TERMS, MonthlyUsage(recording_seconds=90))
    assert inv.status == "trial"
    assert inv.account_charge_yen == 0
    assert inv.recording_charge_yen == 6
    assert inv.total_yen == 6


def test_recomputation_is_deterministic():
    shuffled = list(HISTORY)
    random.Random(7).shuffle(shuffled)
    for month in (3, 4, 5, 6):
        assert (monthly_invoice(START, HISTORY, 2026, month, TERMS)
                == monthly_invoice(START, shuffled, 2026, month, TERMS))


@pytest.mark.parametrize(
    "kwargs",
    [dict(unit_price_yen=-1), dict(unit_price_yen=100, trial_months=-1),
     dict(unit_price_yen=1.5), dict(unit_price_yen=100, recording_price_yen_per_minute=-3)],
)
def test_invalid_terms_rejected(kwargs):
    with pytest.raises(ValueError):
        BillingTerms(**kwargs)


def test_invalid_month_and_usage_rejected():
    with pytest.raises(ValueError):
        monthly_invoice(START, HISTORY, 2026, 13, TERMS)
    with pytest.raises(ValueError):
        MonthlyUsage(recording_seconds=-1)
