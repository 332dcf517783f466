"""Monthly billing of a tenant, computed only from its inputs (F-ORG-3).

Nothing here reads a database, a clock or a setting: the caller passes the tenant's start
date, its account history, its prices and the month's usage totals, so a past month can be
recomputed at any time and gives the same invoice.

Rules (from the original product: "月末締め翌月15日支払い", "1ヶ月間は無料",
"初月は月間最大アカウント数*日割"):

* **Calendar month** – a month is the calendar month in the tenant's time zone
  (default ``Asia/Tokyo``); it closes at local month end.
* **Accounts counted** – an account counts for a local calendar day if it was active at any
  moment of that day, i.e. its active interval ``[activated, deactivated)`` overlaps
  ``[day 00:00, next day 00:00)``. An account created and deactivated the same day counts
  for that day; one deactivated exactly at local midnight does not count for the day that
  begins at that midnight. The month's figure is the largest daily count.
* **Free trial** – ``trial_months`` (default 1) from the start date. Billing begins on the
  same day of the month ``trial_months`` later; when that day does not exist (start on the
  29th–31st) it begins on the 1st of the following month, so the trial is never shorter than
  a whole month. The trial ends the day before billing begins
  (2026-03-17 → trial to 2026-04-16, billed from 2026-04-17; 2026-01-31 → trial to
  2026-02-28, billed from 2026-03-01).
* **Proration** – the calendar month containing the first billed day is prorated:
  ``peak × unit price × billed days ÷ days in month``, where *peak* is the largest daily
  count over the billed days only (accounts that existed only during the free days are not
  charged). Later months are billed whole on the month's peak. When billing begins on the
  1st the month is simply billed whole.
* **Rounding** – all amounts are integer yen. The account charge is computed exactly with
  integers and rounded down to a whole yen (切り捨て) once, at the end. Recording is billed
  per started minute of the month's total: ``ceil(seconds ÷ 60)`` minutes × price.
* **Recording** – a metered charge (the original passed Twilio's recording price through),
  billed in every month from the tenant's start, trial months included: the free trial
  waives the platform (account) fee only. Storage of recordings is billed per started minute
  held at month close, at ``storage_price_yen_per_minute`` (0 = not charged, no line).
* **Months before the start date** bill nothing.
* **Due date** – the 15th of the following month (no business-day adjustment).
* Taxes are not computed here; prices are whatever the operator configures.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Literal, Sequence
from zoneinfo import ZoneInfo

from ecti.i18n import _

TOKYO = ZoneInfo("Asia/Tokyo")

ACTIVATED = "activated"
DEACTIVATED = "deactivated"

EventKind = Literal["activated", "deactivated"]
Status = Literal["not_started", "trial", "prorated", "full"]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class AccountEvent:
    """One change of a user account: created or reactivated (``"activated"``) or
    deactivated (``"deactivated"``), at an aware instant."""

    account_id: object
    at: datetime
    kind: EventKind

    def __post_init__(self) -> None:
        if self.kind not in (ACTIVATED, DEACTIVATED):
            raise ValueError(f"unknown account event kind: {self.kind!r}")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("AccountEvent.at must be timezone-aware")


@dataclass(frozen=True)
class BillingTerms:
    """Per-tenant prices, integer yen."""

    unit_price_yen: int
    recording_price_yen_per_minute: int = 0
    storage_price_yen_per_minute: int = 0
    trial_months: int = 1

    def __post_init__(self) -> None:
        for name in ("unit_price_yen", "recording_price_yen_per_minute",
                     "storage_price_yen_per_minute", "trial_months"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"BillingTerms.{name} must be a non-negative integer")


@dataclass(frozen=True)
class MonthlyUsage:
    """Usage of one tenant in one calendar month, totals filled in by the caller.

    ``recording_storage_seconds`` is the length of all recordings still stored at month
    close. Only recording and storage are charged; the rest is reported.
    """

    inbound_call_seconds: int = 0
    outbound_call_seconds: int = 0
    recording_seconds: int = 0
    recording_storage_seconds: int = 0
    sms_sent: int = 0
    sms_received: int = 0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"MonthlyUsage.{name} must be a non-negative integer")

    @property
    def inbound_call_minutes(self) -> int:
        return started_minutes(self.inbound_call_seconds)

    @property
    def outbound_call_minutes(self) -> int:
        return started_minutes(self.outbound_call_seconds)

    @property
    def recording_minutes(self) -> int:
        return started_minutes(self.recording_seconds)

    @property
    def recording_storage_minutes(self) -> int:
        return started_minutes(self.recording_storage_seconds)


# -------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class InvoiceLine:
    """One charge. ``label`` is a translation string; ``amount_yen`` is final."""

    code: str
    label: object
    quantity: int
    unit_price_yen: int
    amount_yen: int


@dataclass(frozen=True)
class Invoice:
    year: int
    month: int
    period_start: date
    period_end: date
    status: Status
    trial_end: date
    billing_start: date
    days_in_month: int
    billed_days: int
    peak_accounts: int
    billed_peak_accounts: int
    account_charge_yen: int
    recording_minutes: int
    recording_charge_yen: int
    storage_minutes: int
    storage_charge_yen: int
    total_yen: int
    due_date: date
    usage: MonthlyUsage
    lines: tuple[InvoiceLine, ...]

    @property
    def is_trial(self) -> bool:
        """True when no day of the month is billed for accounts (trial or not started)."""
        return self.status in ("trial", "not_started")


# -------------------------------------------------------------------------- helpers


def started_minutes(seconds: int) -> int:
    """Whole minutes, a started minute counting as one (``ceil(seconds / 60)``)."""
    if seconds < 0:
        raise ValueError("seconds must be non-negative")
    return -(-seconds // 60)


def _check_month(year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise ValueError(f"month out of range: {month}")


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a calendar month."""
    _check_month(year, month)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def due_date(year: int, month: int) -> date:
    """Payment due date of a month's invoice: the 15th of the following month."""
    _check_month(year, month)
    y, m = _next_month(year, month)
    return date(y, m, 15)


def billing_start(start: date, trial_months: int = 1) -> date:
    """First billed day: the same day of the month ``trial_months`` after ``start``; if
    that month has no such day, the 1st of the month after it."""
    if trial_months < 0:
        raise ValueError("trial_months must be non-negative")
    index = start.year * 12 + (start.month - 1) + trial_months
    y, m = divmod(index, 12)
    m += 1
    if start.day <= calendar.monthrange(y, m)[1]:
        return date(y, m, start.day)
    y, m = _next_month(y, m)
    return date(y, m, 1)


def trial_end(start: date, trial_months: int = 1) -> date:
    """Last free day: the day before :func:`billing_start` (2026-03-17 → 2026-04-16,
    2026-01-31 → 2026-02-28, 2028-01-31 → 2028-02-29)."""
    return billing_start(start, trial_months) - timedelta(days=1)


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def active_intervals(
    events: Iterable[AccountEvent],
) -> dict[object, list[tuple[datetime, datetime | None]]]:
    """Active intervals ``[from, to)`` per account, ``to`` None while still active.

    Events are ordered by time (ties keep their given order). An activation of an account
    that is already active, or a deactivation of one that is not, changes nothing.
    """
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].at, pair[0]))
    open_since: dict[object, datetime] = {}
    result: dict[object, list[tuple[datetime, datetime | None]]] = {}
    for _index, event in ordered:
        at = event.at.astimezone(timezone.utc)
        if event.kind == ACTIVATED:
            if event.account_id not in open_since:
                open_since[event.account_id] = at
                result.setdefault(event.account_id, [])
        elif event.account_id in open_since:
            since = open_since.pop(event.account_id)
            if at > since:  # an instant of activity is no activity
                result[event.account_id].append((since, at))
    for account_id, since in open_since.items():
        result[account_id].append((since, None))
    return {k: v for k, v in result.items() if v}


def daily_active_accounts(
    events: Iterable[AccountEvent], year: int, month: int, tz: ZoneInfo = TOKYO
) -> list[int]:
    """Number of accounts active on each local day of the month (index 0 = the 1st).

    An account counts for a day if it was active at any moment of that local day.
    """
    first, last = month_bounds(year, month)
    days = last.day
    bounds = [_local_midnight_utc(first + timedelta(days=i), tz) for i in range(days + 1)]
    counts = [0] * days
    for intervals in active_intervals(events).values():
        active_days: set[int] = set()
        for since, until in intervals:
            for i in range(days):
                if since < bounds[i + 1] and (until is None or until > bounds[i]):
                    active_days.add(i)
        for i in active_days:
            counts[i] += 1
    return counts


def peak_accounts(
    events: Iterable[AccountEvent], year: int, month: int, tz: ZoneInfo = TOKYO
) -> int:
    """Largest number of accounts active on any local day of the month (0 if none).

    An account active at any moment of a local calendar day counts for that day, so one
    created and deactivated on the same day counts, and one deactivated exactly at local
    midnight does not count for the day starting then.
    """
    return max(daily_active_accounts(events, year, month, tz), default=0)


# -------------------------------------------------------------------------- invoice


def monthly_invoice(
    tenant_start: date,
    events: Sequence[AccountEvent],
    year: int,
    month: int,
    terms: BillingTerms,
    usage: MonthlyUsage | None = None,
    tz: ZoneInfo = TOKYO,
) -> Invoice:
    """Invoice of one tenant for one calendar month; see the module docstring for rules."""
    first, last = month_bounds(year, month)
    usage = usage if usage is not None else MonthlyUsage()
    days_in_month = last.day
    start_billing = billing_start(tenant_start, terms.trial_months)
    end_trial = start_billing - timedelta(days=1)

    daily = daily_active_accounts(events, year, month, tz)
    peak = max(daily, default=0)

    if last < tenant_start:
        status: Status = "not_started"
        billed_days = 0
    elif last < start_billing:
        status = "trial"
        billed_days = 0
    elif first >= start_billing:
        status = "full"
        billed_days = days_in_month
    else:
        status = "prorated"
        billed_days = (last - start_billing).days + 1

    billed_peak = max(daily[days_in_month - billed_days:], default=0) if billed_days else 0
    # Exact integer arithmetic, rounded down once.
    account_charge = billed_peak * terms.unit_price_yen * billed_days // days_in_month

    lines: list[InvoiceLine] = []
    if status in ("prorated", "full"):
        if status == "prorated":
            label = _(
                "User accounts (prorated ${billed_days}/${days_in_month} days)",
                mapping={"billed_days": billed_days, "days_in_month": days_in_month},
            )
        else:
            label = _("User accounts")
        lines.append(InvoiceLine("accounts", label, billed_peak, terms.unit_price_yen,
                                 account_charge))

    charged = status != "not_started"
    recording_minutes = usage.recording_minutes if charged else 0
    recording_charge = recording_minutes * terms.recording_price_yen_per_minute
    storage_minutes = usage.recording_storage_minutes if charged else 0
    storage_charge = storage_minutes * terms.storage_price_yen_per_minute
    if charged:
        lines.append(InvoiceLine("recording", _("Call recording (minutes)"),
                                 recording_minutes, terms.recording_price_yen_per_minute,
                                 recording_charge))
        if terms.storage_price_yen_per_minute:
            lines.append(InvoiceLine("storage", _("Recording storage (minutes)"),
                                     storage_minutes, terms.storage_price_yen_per_minute,
                                     storage_charge))

    total = sum(line.amount_yen for line in lines)
    return Invoice(
        year=year,
        month=month,
        period_start=first,
        period_end=last,
        status=status,
        trial_end=end_trial,
        billing_start=start_billing,
        days_in_month=days_in_month,
        billed_days=billed_days,
        peak_accounts=peak,
        billed_peak_accounts=billed_peak,
        account_charge_yen=account_charge,
        recording_minutes=recording_minutes,
        recording_charge_yen=recording_charge,
        storage_minutes=storage_minutes,
        storage_charge_yen=storage_charge,
        total_yen=total,
        due_date=due_date(year, month),
        usage=usage,
        lines=tuple(lines),
    )
