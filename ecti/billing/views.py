"""Billing pages, CSV export and API: the operator sees every company, an admin their own."""
from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import make_localizer
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..audit.services import record_audit
from ..db import all_tenants
from ..errors import UserError
from ..i18n import _, locale_dirs
from ..tenancy.models import Tenant
from ..web import tenant_zone
from .services import (
    STATUS_LABELS,
    TenantMonth,
    billing_csv,
    current_month,
    month_label,
    parse_month,
    pending_note,
    pending_usage_sources,
    set_billing_terms,
    shift_month,
    tenant_month,
    tenant_months,
    translate,
)


def _month_param(request, value: str | None) -> tuple[tuple[int, int], object]:
    """The month asked for (``?month=YYYY-MM``), else the current one; and an error, if any."""
    current = current_month(tenant_zone(request))
    if not value:
        return current, None
    try:
        return parse_month(value), None
    except UserError as err:
        request.response.status_int = 400
        return current, err.message


def _is_closed(tenant: Tenant, year: int, month: int) -> bool:
    return (year, month) < current_month(ZoneInfo(tenant.time_zone))


def _navigation(request, route_name: str, year: int, month: int) -> dict:
    previous, following = shift_month(year, month, -1), shift_month(year, month, 1)
    return {
        "month": month_label(year, month),
        "previous_url": request.route_url(route_name, _query={"month": month_label(*previous)}),
        "next_url": request.route_url(route_name, _query={"month": month_label(*following)}),
    }


def _page_helpers(request) -> dict:
    return {
        "status_label": lambda row: STATUS_LABELS[row.invoice.status],
        "pending_notes": [translate(request.localizer, pending_note(s)) for s in pending_usage_sources()],
        "yen": lambda amount: f"{amount:,}",
        "line_label": lambda line: translate(request.localizer, line.label),
    }


@view_config(route_name="operator.billing", renderer="ecti:billing/templates/operator_billing.jinja2", permission="operate", request_method="GET")
def operator_billing_page(request):
    (year, month), error = _month_param(request, request.params.get("month"))
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        rows = tenant_months(request.db, tenants, year, month)
    context = {
        "rows": rows,
        "error": error,
        "total": sum(r.invoice.total_yen for r in rows),
        "closed": lambda row: _is_closed(row.tenant, year, month),
        "csv_url": request.route_url("operator.billing_csv", _query={"month": month_label(year, month)}),
        "csv_en_url": request.route_url("operator.billing_csv", _query={"month": month_label(year, month), "lang": "en"}),
    }
    context.update(_navigation(request, "operator.billing", year, month), **_page_helpers(request))
    return context


@view_config(route_name="operator.billing_csv", permission="operate", request_method="GET")
def operator_billing_csv(request):
    """The month of every company as CSV for Excel: Japanese headers, ``?lang=en`` for English."""
    try:
        year, month = parse_month(request.params.get("month", ""))
    except UserError as err:
        return Response(request.localizer.translate(err.message), status=400, content_type="text/plain", charset="utf-8")
    lang = "en" if request.params.get("lang") == "en" else "ja"
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        rows = tenant_months(request.db, tenants, year, month)
    body = billing_csv(rows, make_localizer(lang, locale_dirs()))
    filename = f"ecti-billing-{month_label(year, month)}{'-en' if lang == 'en' else ''}.csv"
    return Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="{filename}"',
    )


@view_config(route_name="admin.billing", renderer="ecti:billing/templates/usage.jinja2", permission="manage", request_method="GET")
def admin_billing_page(request):
    (year, month), error = _month_param(request, request.params.get("month"))
    row = tenant_month(request.db, request.tenant, year, month)
    context = {"row": row, "error": error, "closed": _is_closed(request.tenant, year, month)}
    context.update(_navigation(request, "admin.billing", year, month), **_page_helpers(request))
    return context


def record_terms_change(request, tenant: Tenant, row, previous) -> None:
    """Audit a price change, with the prices it replaced in that month."""

    def prices(terms):
        return {
            "unit_price_yen": terms.unit_price_yen,
            "recording_price_yen_per_minute": terms.recording_price_yen_per_minute,
            "storage_price_yen_per_minute": terms.storage_price_yen_per_minute,
        }

    record_audit(
        request, "billing.terms", tenant, slug=tenant.slug, effective_from=row.effective_from.strftime("%Y-%m"),
        **prices(row), previous=prices(previous) if previous is not None else None,
    )


# --- JSON API --------------------------------------------------------------------------------

class InvoiceLineOut(BaseModel):
    code: str
    label: str
    quantity: int
    unit_price_yen: int
    amount_yen: int


class UsageOut(BaseModel):
    inbound_call_seconds: int
    inbound_call_minutes: int
    outbound_call_seconds: int
    outbound_call_minutes: int
    recording_minutes: int
    recording_storage_minutes: int
    sms_sent: int
    sms_received: int
    #: Kinds of usage ECTI does not record yet; their figures are 0.
    not_recorded: list[str]


class InvoiceOut(BaseModel):
    month: str
    #: False while the month is running: its figures can still grow.
    closed: bool
    status: Literal["not_started", "trial", "prorated", "full"]
    period_start: date
    period_end: date
    trial_end: date
    billing_start: date
    days_in_month: int
    billed_days: int
    peak_accounts: int
    billed_peak_accounts: int
    prices_set: bool
    unit_price_yen: int
    recording_price_yen_per_minute: int
    storage_price_yen_per_minute: int
    account_charge_yen: int
    recording_charge_yen: int
    storage_charge_yen: int
    total_yen: int
    due_date: date
    lines: list[InvoiceLineOut]
    usage: UsageOut


class TenantInvoiceOut(InvoiceOut):
    tenant_id: int
    slug: str
    name: str


class BillingMonthOut(BaseModel):
    month: str
    total_yen: int
    tenants: list[TenantInvoiceOut]


class BillingTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: ``YYYY-MM``: the current month or later.
    effective_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    unit_price_yen: int = Field(ge=0)
    recording_price_yen_per_minute: int = Field(default=0, ge=0)
    storage_price_yen_per_minute: int = Field(default=0, ge=0)


class BillingTermsOut(BaseModel):
    tenant_id: int
    effective_from: str
    unit_price_yen: int
    recording_price_yen_per_minute: int
    storage_price_yen_per_minute: int


def _invoice_fields(request, row: TenantMonth) -> dict:
    inv, usage = row.invoice, row.invoice.usage
    return dict(
        month=row.month,
        closed=_is_closed(row.tenant, inv.year, inv.month),
        status=inv.status,
        period_start=inv.period_start,
        period_end=inv.period_end,
        trial_end=inv.trial_end,
        billing_start=inv.billing_start,
        days_in_month=inv.days_in_month,
        billed_days=inv.billed_days,
        peak_accounts=inv.peak_accounts,
        billed_peak_accounts=inv.billed_peak_accounts,
        prices_set=row.prices_set,
        unit_price_yen=row.terms.unit_price_yen,
        recording_price_yen_per_minute=row.terms.recording_price_yen_per_minute,
        storage_price_yen_per_minute=row.terms.storage_price_yen_per_minute,
        account_charge_yen=inv.account_charge_yen,
        recording_charge_yen=inv.recording_charge_yen,
        storage_charge_yen=inv.storage_charge_yen,
        total_yen=inv.total_yen,
        due_date=inv.due_date,
        lines=[
            InvoiceLineOut(code=line.code, label=translate(request.localizer, line.label), quantity=line.quantity,
                           unit_price_yen=line.unit_price_yen, amount_yen=line.amount_yen)
            for line in inv.lines
        ],
        usage=UsageOut(
            inbound_call_seconds=usage.inbound_call_seconds,
            inbound_call_minutes=usage.inbound_call_minutes,
            outbound_call_seconds=usage.outbound_call_seconds,
            outbound_call_minutes=usage.outbound_call_minutes,
            recording_minutes=usage.recording_minutes,
            recording_storage_minutes=usage.recording_storage_minutes,
            sms_sent=usage.sms_sent,
            sms_received=usage.sms_received,
            not_recorded=[s.name for s in pending_usage_sources()],
        ),
    )


@api_view("api.billing_month", method="GET", summary="The company's usage and invoice of a month (YYYY-MM)", permission="manage", response=InvoiceOut, tags=("billing",), errors=(404, 422))
def api_billing_month(request):
    year, month = parse_month(request.matchdict["month"])
    return InvoiceOut(**_invoice_fields(request, tenant_month(request.db, request.tenant, year, month)))


@api_view("api.operator.billing_month", method="GET", summary="Every company's invoice and usage of a month (YYYY-MM)", permission="operate", response=BillingMonthOut, tags=("operator", "billing"), errors=(404, 422))
def api_operator_billing_month(request):
    year, month = parse_month(request.matchdict["month"])
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        rows = tenant_months(request.db, tenants, year, month)
    return BillingMonthOut(
        month=month_label(year, month),
        total_yen=sum(r.invoice.total_yen for r in rows),
        tenants=[TenantInvoiceOut(tenant_id=r.tenant.id, slug=r.tenant.slug, name=r.tenant.name, **_invoice_fields(request, r)) for r in rows],
    )


@api_view("api.operator.billing_terms", method="PUT", summary="Set a company's prices from a month on (the current month or later)", permission="operate", body=BillingTermsIn, response=BillingTermsOut, tags=("operator", "billing"), errors=(404,))
def api_operator_billing_terms(request, body: BillingTermsIn):
    with all_tenants(request.db):
        tenant = request.db.get(Tenant, int(request.matchdict["id"]))
        if tenant is None:
            raise HTTPNotFound()
        row, previous = set_billing_terms(request.db, tenant, actor=request.identity, **body.model_dump())
        record_terms_change(request, tenant, row, previous)
    return BillingTermsOut(
        tenant_id=tenant.id,
        effective_from=row.effective_from.strftime("%Y-%m"),
        unit_price_yen=row.unit_price_yen,
        recording_price_yen_per_minute=row.recording_price_yen_per_minute,
        storage_price_yen_per_minute=row.storage_price_yen_per_minute,
    )


def includeme(config):
    config.add_route("operator.billing", "/operator/billing")
    config.add_route("operator.billing_csv", "/operator/billing.csv")
    config.add_route("admin.billing", "/admin/billing")
    config.add_route("api.billing_month", f"{API_PREFIX}/billing/{{month:\\d\\d\\d\\d-\\d\\d}}")
    config.add_route("api.operator.billing_month", f"{API_PREFIX}/operator/billing/{{month:\\d\\d\\d\\d-\\d\\d}}")
    config.add_route("api.operator.billing_terms", f"{API_PREFIX}/operator/tenants/{{id:\\d+}}/billing-terms")
    config.add_console_nav("operator.billing", _("Billing"), group="operator", permission="operate", order=50)
    config.add_console_nav("admin.billing", _("Usage and billing"), group="admin", permission="manage", order=50)
