"""Audit log pages and API: the operator sees every entry, a tenant admin their company's."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..db import all_tenants
from ..i18n import _
from ..tenancy.models import Tenant
from ..web import get_or_404
from .models import AuditEntry
from .services import audit_entry_dict, changes, entry_kinds, list_entries, summary

PAGE_SIZE = 100


def _int_param(request, name: str) -> int | None:
    value = request.params.get(name, "")
    return int(value) if value.isdigit() else None


def _kind_param(request, kinds: list[tuple[str, str]]) -> str | None:
    value = request.params.get("kind", "")
    return value if value in dict(kinds) else None


def _page(request, *, tenant_id: int | None, show_tenant: bool) -> dict:
    before = _int_param(request, "before")
    kinds = entry_kinds(request.localizer)
    kind = _kind_param(request, kinds)
    entries = list_entries(request.db, tenant_id=tenant_id, before_id=before, limit=PAGE_SIZE + 1, kind=kind)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return {
        "entries": entries,
        "summary": lambda entry: summary(request.localizer, entry),
        "changes": lambda entry: changes(request.localizer, entry, request.registry),
        "actor": lambda entry: _actor(request, entry),
        "older": entries[-1].id if more else None,
        "show_tenant": show_tenant,
        "kinds": kinds,
        "selected_kind": kind,
    }


ACTOR_LABELS = {"cli": _("CLI (command line)")}


def _actor(request, entry: AuditEntry) -> str:
    if entry.actor_email:
        return entry.actor_email
    label = ACTOR_LABELS.get((entry.details or {}).get("actor"))
    return request.localizer.translate(label if label is not None else _("(system)"))


@view_config(route_name="operator.audit", renderer="ecti:audit/templates/audit.jinja2", permission="operate", request_method="GET")
def operator_audit_page(request):
    tenant_id = _int_param(request, "tenant")
    with all_tenants(request.db):
        tenants = request.db.scalars(select(Tenant).order_by(Tenant.slug)).all()
        context = _page(request, tenant_id=tenant_id, show_tenant=True)
    context.update(tenants=tenants, tenant_names={t.id: t.name for t in tenants}, selected_tenant=tenant_id)
    return context


@view_config(route_name="admin.audit", renderer="ecti:audit/templates/audit.jinja2", permission="manage", request_method="GET")
def admin_audit_page(request):
    context = _page(request, tenant_id=request.tenant.id, show_tenant=False)
    context.update(tenants=[], tenant_names={}, selected_tenant=None)
    return context


# --- JSON API --------------------------------------------------------------------------------

class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    tenant_id: int | None
    actor_id: int | None
    actor_email: str | None
    action: str
    target_type: str | None
    target_id: int | None
    details: dict[str, Any]
    summary: str


class AuditEntryList(BaseModel):
    entries: list[AuditEntryOut]
    #: Pass as ``?before=`` to get the next (older) page; null on the last page.
    older: int | None


def _api_list(request, tenant_id):
    before = _int_param(request, "before")
    entries = list_entries(
        request.db, tenant_id=tenant_id, before_id=before, limit=PAGE_SIZE + 1,
        kind=_kind_param(request, entry_kinds(request.localizer)),
    )
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return AuditEntryList(
        entries=[AuditEntryOut(**audit_entry_dict(request.localizer, e)) for e in entries[:PAGE_SIZE]], older=older
    )


@api_view("api.audit", method="GET", summary="The company's audit log, newest first (?before=id for older, ?kind= for one kind such as queue)", permission="manage", response=AuditEntryList, tags=("audit",))
def api_audit(request):
    return _api_list(request, request.tenant.id)


@api_view("api.audit_entry", method="GET", summary="One entry of the company's audit log", permission="manage", response=AuditEntryOut, tags=("audit",), errors=(404,))
def api_audit_entry(request):
    return AuditEntryOut(**audit_entry_dict(request.localizer, get_or_404(request, AuditEntry, request.matchdict["id"])))


@api_view("api.operator.audit", method="GET", summary="Every audit entry, newest first (?tenant_id= to filter, ?before=id for older)", permission="operate", response=AuditEntryList, tags=("operator",))
def api_operator_audit(request):
    with all_tenants(request.db):
        return _api_list(request, _int_param(request, "tenant_id"))


def includeme(config):
    config.add_route("operator.audit", "/operator/audit")
    config.add_route("admin.audit", "/admin/audit")
    config.add_route("api.audit", f"{API_PREFIX}/audit")
    config.add_route("api.audit_entry", f"{API_PREFIX}/audit/{{id:\\d+}}")
    config.add_route("api.operator.audit", f"{API_PREFIX}/operator/audit")
    config.add_console_nav("operator.audit", _("Audit log"), group="operator", permission="operate", order=80)
    config.add_console_nav("admin.audit", _("Audit log"), group="admin", permission="manage", order=20)
