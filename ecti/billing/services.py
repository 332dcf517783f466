"""Billing from the database: account history, usage, prices → :mod:`.calculation`.

:func:`tenant_months` reads only rows stamped before the month's end (account events, calls)
and the prices in force for that month, and hands them to the pure
:func:`~ecti.billing.calculation.monthly_invoice`; so a closed month is recomputed at any time
and gives the same invoice.

Usage comes from ECTI's own records through :data:`USAGE_SOURCES`, one entry per kind of
record. Recordings and SMS are not recorded yet: their sources have no ``collect`` function and
count 0, and the pages say so. When those tables exist, giving the source a ``collect``
function is the only change needed.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from pyramid.i18n import TranslationString
from sqlalchemy import func, select

from ..calls.models import Call, Direction, Recording
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..spreadsheets import excel_csv
from ..tenancy.models import AccountEvent as AccountEventRow
from ..tenancy.models import Tenant
from . import calculation
from .calculation import BillingTerms, Invoice, MonthlyUsage
from .models import TenantBillingTerms

#: The largest price the operator may enter, in yen.
MAX_PRICE_YEN = 10_000_000
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


# --- months ----------------------------------------------------------------------------------

def parse_month(value: str) -> tuple[int, int]:
    """``"2026-05"`` → ``(2026, 5)``; anything else is a :class:`UserError`."""
    match = _MONTH.match((value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 9000:
        raise UserError("invalid_month", _("Enter the month as YYYY-MM, e.g. 2026-05."), field="month", status=422)
    return int(match.group(1)), int(match.group(2))


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    y, m = divmod(year * 12 + month - 1 + delta, 12)
    return y, m + 1


def current_month(zone: ZoneInfo, now: datetime | None = None) -> tuple[int, int]:
    local = (now or utcnow()).astimezone(zone)
    return local.year, local.month


def month_window(zone: ZoneInfo, year: int, month: int) -> tuple[datetime, datetime]:
    """The month as a UTC interval ``[start, end)``: local midnight of the 1st to that of the
    next month's 1st."""
    ny, nm = shift_month(year, month, 1)
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(date(ny, nm, 1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return start, end


# --- prices ----------------------------------------------------------------------------------

def terms_history(session, tenant_id: int) -> list[TenantBillingTerms]:
    """Every price change of a tenant, newest first."""
    return list(
        session.scalars(
            select(TenantBillingTerms).where(TenantBillingTerms.tenant_id == tenant_id).order_by(TenantBillingTerms.effective_from.desc())
        )
    )


def terms_in_force(history: Sequence[TenantBillingTerms], year: int, month: int) -> TenantBillingTerms | None:
    first = date(year, month, 1)
    return next((row for row in sorted(history, key=lambda r: r.effective_from, reverse=True) if row.effective_from <= first), None)


def _price(value, field: str) -> int:
    if isinstance(value, str):
        value = value.strip().replace(",", "")
        if not re.fullmatch(r"\d+", value):
            raise UserError("invalid_price", _("Enter a whole number of yen (0 or more)."), field=field, status=422)
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UserError("invalid_price", _("Enter a whole number of yen (0 or more)."), field=field, status=422)
    if value > MAX_PRICE_YEN:
        raise UserError(
            "price_too_high", _("Enter at most ${max} yen.", mapping={"max": f"{MAX_PRICE_YEN:,}"}), field=field, status=422
        )
    return value


def set_billing_terms(
    session,
    tenant: Tenant,
    *,
    effective_from: str,
    unit_price_yen,
    recording_price_yen_per_minute=0,
    storage_price_yen_per_minute=0,
    actor=None,
    now: datetime | None = None,
) -> tuple[TenantBillingTerms, BillingTerms | None]:
    """Set a tenant's prices from a month on (``"YYYY-MM"``, the current month or later).

    Returns the terms and the prices they replace in that month (None if none were set). A closed month
    cannot be changed: its invoice must stay what it was.
    """
    year, month = parse_month(effective_from)
    prices = {
        "unit_price_yen": _price(unit_price_yen, "unit_price_yen"),
        "recording_price_yen_per_minute": _price(recording_price_yen_per_minute, "recording_price_yen_per_minute"),
        "storage_price_yen_per_minute": _price(storage_price_yen_per_minute, "storage_price_yen_per_minute"),
    }
    zone = ZoneInfo(tenant.time_zone)
    current = current_month(zone, now)
    if (year, month) < current:
        raise UserError(
            "month_closed",
            _(
                "${month} is closed, so its prices cannot change. Choose ${current} or a later month.",
                mapping={"month": month_label(year, month), "current": month_label(*current)},
            ),
            field="effective_from",
            status=422,
        )
    history = terms_history(session, tenant.id)
    in_force = terms_in_force(history, year, month)
    # A snapshot: the row itself may be the one updated below.
    previous = BillingTerms(
        unit_price_yen=in_force.unit_price_yen,
        recording_price_yen_per_minute=in_force.recording_price_yen_per_minute,
        storage_price_yen_per_minute=in_force.storage_price_yen_per_minute,
    ) if in_force is not None else None
    row = next((r for r in history if r.effective_from == date(year, month, 1)), None)
    if row is None:
        row = TenantBillingTerms(tenant_id=tenant.id, effective_from=date(year, month, 1), **prices)
        session.add(row)
    else:
        for key, value in prices.items():
            setattr(row, key, value)
    row.created_by_id = actor.id if actor is not None else None
    row.created_at = utcnow()
    session.flush()
    return row, previous


# --- usage -----------------------------------------------------------------------------------

#: ``collect(session, tenant_ids, start, end)`` → ``{tenant_id: {MonthlyUsage field: int}}``
#: for records stamped in ``[start, end)`` (UTC).
Collector = Callable[[object, Sequence[int], datetime, datetime], dict[int, dict[str, int]]]


@dataclass(frozen=True)
class UsageSource:
    """One kind of ECTI record that usage is counted from."""

    name: str
    label: TranslationString
    #: The :class:`~ecti.billing.calculation.MonthlyUsage` fields it fills.
    fields: tuple[str, ...]
    #: None while ECTI does not record this yet (its fields count 0, and pages say so).
    collect: Collector | None


def _call_usage(session, tenant_ids, start, end) -> dict[int, dict[str, int]]:
    """Call seconds by direction. A call counts in the month it started in; minutes are the
    month's total seconds rounded up once (:attr:`MonthlyUsage.inbound_call_minutes`)."""
    rows = session.execute(
        select(Call.tenant_id, Call.direction, func.coalesce(func.sum(Call.duration_seconds), 0))
        .where(Call.tenant_id.in_(tenant_ids), Call.started_at >= start, Call.started_at < end, Call.duration_seconds.is_not(None))
        .group_by(Call.tenant_id, Call.direction)
    ).all()
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for tenant_id, direction, seconds in rows:
        field = "inbound_call_seconds" if direction is Direction.inbound else "outbound_call_seconds"
        result[tenant_id][field] = int(seconds)
    return result


def _recording_usage(session, tenant_ids, start, end) -> dict[int, dict[str, int]]:
    """Recording seconds from the carrier's own durations (RecordingDuration of each completed
    recording, conversations and voicemail alike). A recording counts in the month ECTI learnt
    of it; storage is the length of those still kept at the carrier when the month closes
    (not deleted before ``end``)."""
    completed = (Recording.tenant_id.in_(tenant_ids), Recording.status == "completed", Recording.duration_seconds.is_not(None))
    made = session.execute(
        select(Recording.tenant_id, func.coalesce(func.sum(Recording.duration_seconds), 0))
        .where(*completed, Recording.created_at >= start, Recording.created_at < end)
        .group_by(Recording.tenant_id)
    ).all()
    kept = session.execute(
        select(Recording.tenant_id, func.coalesce(func.sum(Recording.duration_seconds), 0))
        .where(*completed, Recording.created_at < end, (Recording.deleted_at.is_(None)) | (Recording.deleted_at >= end))
        .group_by(Recording.tenant_id)
    ).all()
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for tenant_id, seconds in made:
        result[tenant_id]["recording_seconds"] = int(seconds)
    for tenant_id, seconds in kept:
        result[tenant_id]["recording_storage_seconds"] = int(seconds)
    return result


USAGE_SOURCES: tuple[UsageSource, ...] = (
    UsageSource("calls", _("Calls"), ("inbound_call_seconds", "outbound_call_seconds"), _call_usage),
    UsageSource("recordings", _("Recordings"), ("recording_seconds", "recording_storage_seconds"), _recording_usage),
    # Not recorded yet: add the collect function when SMS are stored.
    UsageSource("sms", _("SMS"), ("sms_sent", "sms_received"), None),
)


def pending_usage_sources() -> tuple[UsageSource, ...]:
    """The kinds of usage ECTI does not record yet (shown as 0 with a note)."""
    return tuple(source for source in USAGE_SOURCES if source.collect is None)


def monthly_usage(session, tenants: Sequence[Tenant], year: int, month: int) -> dict[int, MonthlyUsage]:
    """Usage of each tenant in its own local calendar month."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for tenant in tenants:
        by_zone[tenant.time_zone].append(tenant.id)
    totals: dict[int, dict[str, int]] = {t.id: {} for t in tenants}
    for source in USAGE_SOURCES:
        if source.collect is None:
            continue
        for zone_name, ids in by_zone.items():
            start, end = month_window(ZoneInfo(zone_name), year, month)
            for tenant_id, values in source.collect(session, ids, start, end).items():
                totals[tenant_id].update({k: v for k, v in values.items() if k in source.fields})
    return {tenant_id: MonthlyUsage(**values) for tenant_id, values in totals.items()}


# --- invoices --------------------------------------------------------------------------------

def account_history(session, tenants: Sequence[Tenant], year: int, month: int) -> dict[int, list[calculation.AccountEvent]]:
    """Each tenant's account events up to the end of the month (later ones cannot matter)."""
    history: dict[int, list[calculation.AccountEvent]] = {t.id: [] for t in tenants}
    ends = {t.id: month_window(ZoneInfo(t.time_zone), year, month)[1] for t in tenants}
    if not tenants:
        return history
    rows = session.scalars(
        select(AccountEventRow)
        .where(AccountEventRow.tenant_id.in_(list(history)), AccountEventRow.at < max(ends.values()))
        .order_by(AccountEventRow.at, AccountEventRow.id)
    )
    for row in rows:
        if row.at < ends[row.tenant_id]:
            history[row.tenant_id].append(calculation.AccountEvent(row.user_id, row.at, row.kind.value))
    return history


@dataclass(frozen=True)
class TenantMonth:
    """One tenant's month: its invoice, the prices used, and whether prices were set at all."""

    tenant: Tenant
    invoice: Invoice
    terms: BillingTerms
    #: False when the operator has not set prices for this month yet (everything billed at 0).
    prices_set: bool

    @property
    def month(self) -> str:
        return month_label(self.invoice.year, self.invoice.month)


def tenant_months(session, tenants: Sequence[Tenant], year: int, month: int) -> list[TenantMonth]:
    """The month of each tenant (in the caller's tenant scope), in the given order."""
    calculation.month_bounds(year, month)  # rejects a month out of range
    tenants = list(tenants)
    history = account_history(session, tenants, year, month)
    usage = monthly_usage(session, tenants, year, month)
    all_terms: dict[int, list[TenantBillingTerms]] = defaultdict(list)
    if tenants:
        for row in session.scalars(select(TenantBillingTerms).where(TenantBillingTerms.tenant_id.in_([t.id for t in tenants]))):
            all_terms[row.tenant_id].append(row)
    result = []
    for tenant in tenants:
        row = terms_in_force(all_terms[tenant.id], year, month)
        terms = BillingTerms(
            unit_price_yen=row.unit_price_yen if row else 0,
            recording_price_yen_per_minute=row.recording_price_yen_per_minute if row else 0,
            storage_price_yen_per_minute=row.storage_price_yen_per_minute if row else 0,
        )
        invoice = calculation.monthly_invoice(
            tenant.start_date, history[tenant.id], year, month, terms, usage[tenant.id], ZoneInfo(tenant.time_zone)
        )
        result.append(TenantMonth(tenant, invoice, terms, row is not None))
    return result


def tenant_month(session, tenant: Tenant, year: int, month: int) -> TenantMonth:
    return tenant_months(session, [tenant], year, month)[0]


# --- CSV -------------------------------------------------------------------------------------

STATUS_LABELS = {
    "not_started": _("Not started"),
    "trial": _("Free trial"),
    "prorated": _("Prorated"),
    "full": _("Whole month"),
}

#: Column header and value of the operator's monthly CSV, in order.
CSV_COLUMNS: tuple[tuple[TranslationString, Callable[[TenantMonth], object]], ...] = (
    (_("Month"), lambda r: r.month),
    (_("Short name"), lambda r: r.tenant.slug),
    (_("Company name"), lambda r: r.tenant.name),
    (_("Billing status"), lambda r: STATUS_LABELS[r.invoice.status]),
    (_("Free trial until"), lambda r: r.invoice.trial_end.isoformat()),
    (_("Billed from"), lambda r: r.invoice.billing_start.isoformat()),
    (_("Largest number of accounts"), lambda r: r.invoice.peak_accounts),
    (_("Accounts billed"), lambda r: r.invoice.billed_peak_accounts),
    (_("Days billed"), lambda r: r.invoice.billed_days),
    (_("Days in month"), lambda r: r.invoice.days_in_month),
    (_("Price per account (yen)"), lambda r: r.terms.unit_price_yen),
    (_("Account charge (yen)"), lambda r: r.invoice.account_charge_yen),
    (_("Recording minutes"), lambda r: r.invoice.recording_minutes),
    (_("Recording price per minute (yen)"), lambda r: r.terms.recording_price_yen_per_minute),
    (_("Recording charge (yen)"), lambda r: r.invoice.recording_charge_yen),
    (_("Stored recording minutes"), lambda r: r.invoice.storage_minutes),
    (_("Storage charge (yen)"), lambda r: r.invoice.storage_charge_yen),
    (_("Total (yen)"), lambda r: r.invoice.total_yen),
    (_("Due date"), lambda r: r.invoice.due_date.isoformat()),
    (_("Inbound call minutes"), lambda r: r.invoice.usage.inbound_call_minutes),
    (_("Outbound call minutes"), lambda r: r.invoice.usage.outbound_call_minutes),
    (_("SMS sent"), lambda r: r.invoice.usage.sms_sent),
    (_("SMS received"), lambda r: r.invoice.usage.sms_received),
    (_("Notes"), lambda r: _row_notes(r)),
)


def _row_notes(row: TenantMonth) -> list[TranslationString]:
    notes = []
    if not row.prices_set:
        notes.append(_("Prices not set"))
    for source in pending_usage_sources():
        notes.append(pending_note(source))
    return notes


def pending_note(source: UsageSource) -> TranslationString:
    return _("${source}: not recorded by ECTI yet, counted as 0", mapping={"source": source.label})


def translate(localizer, message) -> str:
    """Translate a message whose mapping may itself hold translation strings."""
    if not isinstance(message, TranslationString):
        return message
    if message.mapping and any(isinstance(v, TranslationString) for v in message.mapping.values()):
        mapping = {k: localizer.translate(v) if isinstance(v, TranslationString) else v for k, v in message.mapping.items()}
        message = TranslationString(message, mapping=mapping)
    return localizer.translate(message)


def _cell(localizer, value) -> object:
    if isinstance(value, list):
        return " / ".join(str(_cell(localizer, v)) for v in value)
    if isinstance(value, TranslationString):
        value = translate(localizer, value)
    return value


def billing_csv(rows: Sequence[TenantMonth], localizer) -> bytes:
    """The month as CSV for Excel in Japan: UTF-8 with a BOM, CRLF line ends, headers in the
    localizer's language, amounts as plain integers (yen), dates as YYYY-MM-DD."""
    return excel_csv([localizer.translate(header) for header, _value in CSV_COLUMNS],
                     ([_cell(localizer, value(row)) for _header, value in CSV_COLUMNS] for row in rows))
