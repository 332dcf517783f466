"""Operator console: the hosted companies, their health, suspension; and their JSON API."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..audit.models import AuditEntry
from ..audit.services import list_entries, record_audit, summary
from ..billing.services import current_month, month_label, set_billing_terms, tenant_month, terms_history
from ..billing.views import record_terms_change
from ..db import all_tenants
from ..errors import UserError
from ..formats import date_time
from ..i18n import _
from ..telephony.models import PhoneNumber
from ..web import flash
from ..tenancy.models import Role, Tenant, User
from .services import (
    WEBHOOK_ERROR_WINDOW,
    TenantHealth,
    change_carrier_credentials,
    create_hosted_tenant,
    recent_webhook_errors,
    reissue_password,
    resume_tenant,
    suspend_tenant,
    tenant_health,
    unattributed_webhook_errors,
)

CREATE_FIELDS = (
    "slug", "name", "time_zone", "locale", "start_date", "carrier", "carrier_account_id", "carrier_secret", "admin_email", "admin_name",
)
MAX_REASON = 500


def in_zone(request):
    """``in_zone(value, zone_name)`` for templates: a stored UTC time in a company's own time zone
    (the operator looks at many), in the console's one format (:func:`ecti.formats.date_time`)."""
    return lambda value, zone_name: date_time(value, ZoneInfo(zone_name), request.localizer.translate)


def _carrier_choices(request) -> list[tuple[str, object]]:
    return sorted((name, carrier.label) for name, carrier in request.registry.ecti.carriers.items())


def _parse_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError("invalid_date", _("Enter the start date as YYYY-MM-DD, e.g. 2026-04-01."), field="start_date", status=422)


def _tenant_or_404(request) -> Tenant:
    try:
        tenant_id = int(request.matchdict["id"])
    except (KeyError, ValueError):
        raise HTTPNotFound()
    with all_tenants(request.db):
        tenant = request.db.get(Tenant, tenant_id)
    if tenant is None:
        raise HTTPNotFound()
    return tenant


# --- tenant list and creation ----------------------------------------------------------------

@view_config(route_name="operator.tenants", renderer="ecti:operator/templates/tenants.jinja2", permission="operate", request_method="GET")
def tenants_page(request):
    return _tenants_context(request, form={}, errors={})


def _tenants_context(request, *, form, errors, created=None):
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        health = tenant_health(request.db, tenants)
        unattributed = unattributed_webhook_errors(request.db)
    return {
        "tenants": tenants,
        "health": health,
        "unattributed_errors": unattributed,
        "form": form,
        "errors": errors,
        "created": created,
        "carriers": _carrier_choices(request),
        "in_zone": in_zone(request),
        "error_window_days": WEBHOOK_ERROR_WINDOW.days,
    }


@view_config(route_name="operator.tenants", renderer="ecti:operator/templates/tenants.jinja2", permission="operate", request_method="POST")
def tenants_create(request):
    form = {k: request.POST.get(k, "").strip() for k in CREATE_FIELDS}
    secret = form.pop("carrier_secret")  # never echoed back into the page
    try:
        with all_tenants(request.db):
            new = create_hosted_tenant(
                request.db,
                request.registry,
                slug=form["slug"],
                name=form["name"],
                time_zone=form["time_zone"] or "Asia/Tokyo",
                locale=form["locale"] or "ja",
                start_date=_parse_date(form["start_date"]),
                carrier=form["carrier"] or "twilio",
                carrier_account_id=form["carrier_account_id"],
                carrier_secret=secret,
                admin_email=form["admin_email"],
                admin_name=form["admin_name"],
            )
            _audit_created(request, new)
    except UserError as err:
        request.response.status_int = 422
        return _tenants_context(request, form=form, errors={err.field or "": err.message})
    created = {"id": new.tenant.id, "slug": new.tenant.slug, "email": new.admin.email, "password": new.one_time_password}
    return _tenants_context(request, form={}, errors={}, created=created)


def _audit_created(request, new) -> None:
    record_audit(
        request, "tenant.create", new.tenant,
        slug=new.tenant.slug, name=new.tenant.name, admin_email=new.admin.email, start_date=new.tenant.start_date,
        carrier=new.tenant.carrier, account_id=new.tenant.carrier_account_id,
    )


# --- one tenant ------------------------------------------------------------------------------

@view_config(route_name="operator.tenant", renderer="ecti:operator/templates/tenant.jinja2", permission="operate", request_method="GET")
def tenant_page(request):
    return _detail_context(request, _tenant_or_404(request))


def _detail_context(request, tenant: Tenant, *, errors=None, form=None, new_password=None):
    db = request.db
    with all_tenants(db):
        health = tenant_health(db, [tenant])[tenant.id]
        admins = db.scalars(select(User).where(User.tenant_id == tenant.id, User.role == Role.admin).order_by(User.display_name)).all()
        numbers = db.scalars(select(PhoneNumber).where(PhoneNumber.tenant_id == tenant.id).order_by(PhoneNumber.e164)).all()
        history = terms_history(db, tenant.id)
        year, month = current_month(ZoneInfo(tenant.time_zone))
        running = tenant_month(db, tenant, year, month)
        audit = list_entries(db, tenant_id=tenant.id, limit=10)
        suspension = _last_suspension(db, tenant)
    return {
        "tenant": tenant,
        "health": health,
        "admins": admins,
        "numbers": numbers,
        "webhook_errors": recent_webhook_errors(db, tenant.id),
        "terms_history": history,
        "running": running,
        "current_month": month_label(year, month),
        "audit": audit,
        "summary": lambda entry: summary(request.localizer, entry),
        "suspension": suspension,
        "errors": errors or {},
        "form": form or {},
        "new_password": new_password,
        "in_zone": in_zone(request),
        "error_window_days": WEBHOOK_ERROR_WINDOW.days,
    }


def _last_suspension(db, tenant: Tenant) -> AuditEntry | None:
    if tenant.is_active:
        return None
    return db.scalar(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant.id, AuditEntry.action == "tenant.suspend").order_by(AuditEntry.id.desc()).limit(1)
    )


def _detail_error(request, tenant, section: str, err: UserError, form=None):
    request.response.status_int = 422
    return _detail_context(request, tenant, errors={section: err.message}, form={section: form or {}})


@view_config(route_name="operator.tenant_suspend", renderer="ecti:operator/templates/tenant.jinja2", permission="operate", request_method="POST")
def tenant_suspend(request):
    tenant = _tenant_or_404(request)
    reason = request.POST.get("reason", "").strip()
    try:
        _check_reason(reason)
    except UserError as err:
        return _detail_error(request, tenant, "suspend", err)
    if suspend_tenant(tenant):
        record_audit(request, "tenant.suspend", tenant, slug=tenant.slug, reason=reason)
        flash(request, _("${name} is suspended. Its users cannot sign in; nothing was deleted.", mapping={"name": tenant.name}))
    return HTTPSeeOther(request.route_url("operator.tenant", id=tenant.id))


def _check_reason(reason: str) -> None:
    if not reason:
        raise UserError("reason_required", _("Enter the reason for the suspension."), field="reason", status=422)
    if len(reason) > MAX_REASON:
        raise UserError("reason_too_long", _("Enter at most ${n} characters.", mapping={"n": MAX_REASON}), field="reason", status=422)


@view_config(route_name="operator.tenant_resume", permission="operate", request_method="POST")
def tenant_resume(request):
    tenant = _tenant_or_404(request)
    if resume_tenant(tenant):
        record_audit(request, "tenant.resume", tenant, slug=tenant.slug)
        flash(request, _("${name} is active again. Its users can sign in.", mapping={"name": tenant.name}))
    return HTTPSeeOther(request.route_url("operator.tenant", id=tenant.id))


@view_config(route_name="operator.tenant_carrier", renderer="ecti:operator/templates/tenant.jinja2", permission="operate", request_method="POST")
def tenant_carrier(request):
    tenant = _tenant_or_404(request)
    account_id = request.POST.get("carrier_account_id", "").strip()
    previous = tenant.carrier_account_id
    try:
        with all_tenants(request.db):
            change_carrier_credentials(request.db, request.registry, tenant, account_id, request.POST.get("carrier_secret", ""))
    except UserError as err:
        return _detail_error(request, tenant, "carrier", err, {"carrier_account_id": account_id})
    record_audit(request, "tenant.carrier_credentials", tenant, slug=tenant.slug, account_id=account_id, previous_account_id=previous)
    flash(request, _("The carrier accepted the new credentials; they are saved."))
    return HTTPSeeOther(request.route_url("operator.tenant", id=tenant.id))


@view_config(route_name="operator.tenant_admin_password", renderer="ecti:operator/templates/tenant.jinja2", permission="operate", request_method="POST")
def tenant_admin_password(request):
    tenant = _tenant_or_404(request)
    with all_tenants(request.db):
        admin = request.db.scalar(
            select(User).where(User.id == int(request.matchdict["user_id"]), User.tenant_id == tenant.id, User.role == Role.admin)
        )
    if admin is None:
        raise HTTPNotFound()
    password = reissue_password(admin)
    record_audit(request, "tenant.admin_password", admin, email=admin.email)
    return _detail_context(request, tenant, new_password={"email": admin.email, "password": password})


@view_config(route_name="operator.tenant_terms", renderer="ecti:operator/templates/tenant.jinja2", permission="operate", request_method="POST")
def tenant_terms(request):
    tenant = _tenant_or_404(request)
    fields = ("effective_from", "unit_price_yen", "recording_price_yen_per_minute", "storage_price_yen_per_minute")
    form = {k: request.POST.get(k, "").strip() for k in fields}
    try:
        with all_tenants(request.db):
            row, previous = set_billing_terms(request.db, tenant, actor=request.identity, **form)
    except UserError as err:
        return _detail_error(request, tenant, "terms", err, form)
    record_terms_change(request, tenant, row, previous)
    flash(request, _("The prices of ${name} are saved from ${month} on.", mapping={"name": tenant.name, "month": form["effective_from"]}))
    return HTTPSeeOther(request.route_url("operator.tenant", id=tenant.id))


# --- JSON API --------------------------------------------------------------------------------

class TenantHealthOut(BaseModel):
    phone_numbers: int
    active_accounts: int
    last_call_at: datetime | None
    webhook_errors_last_7_days: int
    last_webhook_error_at: datetime | None
    carrier_configured: bool


class OperatorTenantOut(BaseModel):
    id: int
    slug: str
    name: str
    status: Literal["active", "suspended"]
    time_zone: str
    locale: str
    start_date: date
    carrier: str
    carrier_account_id: str | None
    created_at: datetime
    health: TenantHealthOut


class OperatorTenantList(BaseModel):
    tenants: list[OperatorTenantOut]


class TenantAdminOut(BaseModel):
    id: int
    email: str
    display_name: str
    is_active: bool


class WebhookErrorOut(BaseModel):
    at: datetime
    kind: str
    detail: str


class OperatorTenantDetail(OperatorTenantOut):
    admins: list[TenantAdminOut]
    phone_numbers: list[str]
    recent_webhook_errors: list[WebhookErrorOut]
    suspension_reason: str | None
    suspended_at: datetime | None


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(default="Asia/Tokyo", max_length=64)
    locale: Literal["ja", "en"] = "ja"
    #: The first day of the free trial; today in the tenant's time zone when omitted.
    start_date: date | None = None
    carrier: str = Field(default="twilio", max_length=32)
    carrier_account_id: str | None = Field(default=None, max_length=64)
    carrier_secret: str | None = Field(default=None, max_length=256)
    admin_email: str = Field(min_length=3, max_length=254)
    admin_name: str = Field(default="", max_length=100)


class TenantCreated(BaseModel):
    tenant: OperatorTenantOut
    admin: TenantAdminOut
    #: Shown this once: hand it to the company's first administrator.
    one_time_password: str


class TenantSuspend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=MAX_REASON)


def _health_out(health: TenantHealth) -> TenantHealthOut:
    return TenantHealthOut(
        phone_numbers=health.phone_numbers,
        active_accounts=health.active_accounts,
        last_call_at=health.last_call_at,
        webhook_errors_last_7_days=health.webhook_errors,
        last_webhook_error_at=health.last_webhook_error_at,
        carrier_configured=health.carrier_configured,
    )


def _tenant_fields(tenant: Tenant, health: TenantHealth) -> dict:
    return dict(
        id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status.value, time_zone=tenant.time_zone, locale=tenant.locale,
        start_date=tenant.start_date, carrier=tenant.carrier, carrier_account_id=tenant.carrier_account_id, created_at=tenant.created_at,
        health=_health_out(health),
    )


def _tenant_out(request, tenant: Tenant) -> OperatorTenantOut:
    return OperatorTenantOut(**_tenant_fields(tenant, tenant_health(request.db, [tenant])[tenant.id]))


def _admin_out(user: User) -> TenantAdminOut:
    return TenantAdminOut(id=user.id, email=user.email, display_name=user.display_name, is_active=user.is_active)


@api_view("api.operator.tenants", method="GET", summary="Every hosted company with its health", permission="operate", response=OperatorTenantList, tags=("operator",))
def api_operator_tenants(request):
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        health = tenant_health(request.db, tenants)
    return OperatorTenantList(tenants=[OperatorTenantOut(**_tenant_fields(t, health[t.id])) for t in tenants])


@api_view("api.operator.tenants", method="POST", summary="Create a company with its carrier credentials and first administrator", permission="operate", body=TenantCreate, response=TenantCreated, status=201, tags=("operator",), errors=(409, 502))
def api_operator_tenant_create(request, body: TenantCreate):
    with all_tenants(request.db):
        new = create_hosted_tenant(request.db, request.registry, **body.model_dump())
        _audit_created(request, new)
        return TenantCreated(tenant=_tenant_out(request, new.tenant), admin=_admin_out(new.admin), one_time_password=new.one_time_password)


@api_view("api.operator.tenant", method="GET", summary="One hosted company: health, administrators, numbers, webhook errors", permission="operate", response=OperatorTenantDetail, tags=("operator",), errors=(404,))
def api_operator_tenant(request):
    tenant = _tenant_or_404(request)
    db = request.db
    with all_tenants(db):
        admins = db.scalars(select(User).where(User.tenant_id == tenant.id, User.role == Role.admin).order_by(User.id)).all()
        numbers = db.scalars(select(PhoneNumber.e164).where(PhoneNumber.tenant_id == tenant.id).order_by(PhoneNumber.e164)).all()
        suspension = _last_suspension(db, tenant)
        return OperatorTenantDetail(
            **_tenant_fields(tenant, tenant_health(db, [tenant])[tenant.id]),
            admins=[_admin_out(u) for u in admins],
            phone_numbers=list(numbers),
            recent_webhook_errors=[WebhookErrorOut(at=e.at, kind=e.kind, detail=e.detail) for e in recent_webhook_errors(db, tenant.id)],
            suspension_reason=suspension.details.get("reason") if suspension else None,
            suspended_at=suspension.at if suspension else None,
        )


@api_view("api.operator.tenant_suspend", method="POST", summary="Suspend a company: its users cannot sign in, its calls hear an announcement, nothing is deleted", permission="operate", body=TenantSuspend, response=OperatorTenantOut, tags=("operator",), errors=(404,))
def api_operator_tenant_suspend(request, body: TenantSuspend):
    tenant = _tenant_or_404(request)
    with all_tenants(request.db):
        if suspend_tenant(tenant):
            record_audit(request, "tenant.suspend", tenant, slug=tenant.slug, reason=body.reason.strip())
        return _tenant_out(request, tenant)


@api_view("api.operator.tenant_resume", method="POST", summary="Resume a suspended company", permission="operate", response=OperatorTenantOut, tags=("operator",), errors=(404,))
def api_operator_tenant_resume(request):
    tenant = _tenant_or_404(request)
    with all_tenants(request.db):
        if resume_tenant(tenant):
            record_audit(request, "tenant.resume", tenant, slug=tenant.slug)
        return _tenant_out(request, tenant)


def includeme(config):
    config.add_route("operator.tenants", "/operator/tenants")
    config.add_route("operator.tenant", "/operator/tenants/{id:\\d+}")
    config.add_route("operator.tenant_suspend", "/operator/tenants/{id:\\d+}/suspend")
    config.add_route("operator.tenant_resume", "/operator/tenants/{id:\\d+}/resume")
    config.add_route("operator.tenant_carrier", "/operator/tenants/{id:\\d+}/carrier")
    config.add_route("operator.tenant_terms", "/operator/tenants/{id:\\d+}/billing-terms")
    config.add_route("operator.tenant_admin_password", "/operator/tenants/{id:\\d+}/admins/{user_id:\\d+}/password")
    config.add_console_nav("operator.tenants", _("Companies"), group="operator", permission="operate", order=10)
    config.add_route("api.operator.tenants", f"{API_PREFIX}/operator/tenants")
    config.add_route("api.operator.tenant", f"{API_PREFIX}/operator/tenants/{{id:\\d+}}")
    config.add_route("api.operator.tenant_suspend", f"{API_PREFIX}/operator/tenants/{{id:\\d+}}/suspend")
    config.add_route("api.operator.tenant_resume", f"{API_PREFIX}/operator/tenants/{{id:\\d+}}/resume")
