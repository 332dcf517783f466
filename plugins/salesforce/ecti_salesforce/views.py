"""Console pages (settings, call center file, setup guide), the standby page and the adapter's API."""
from __future__ import annotations

from pydantic import BaseModel
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from ecti.api import api_view
from ecti.i18n import _
from ecti.softphone import allow_framed_page, framing_tenant
from ecti.web import flash

from .callcenter import (adapter_url, call_center_xml, check_settings, defaults, origin_allowed, public_base,
                         script_url, settings_of, standby_url, usable_domains)
from .models import SalesforceSettings

TAGS = ("salesforce",)

#: Strings the adapter writes into Salesforce (the Task), translated for the agent.
TASK_STRINGS = {
    "subject_inbound": _("Incoming call ${number}"),
    "subject_outbound": _("Outgoing call ${number}"),
    "description": _("Call in ECTI (recording and details): ${url}"),
    "outcome_answered": _("Answered"),
    "outcome_missed": _("Missed"),
    "outcome_transferred": _("Transferred"),
    "outcome_refused": _("Refused"),
    "outcome_failed": _("Not connected"),
    "outcome_in_progress": _("In progress"),
}


def _form_of(settings, tenant) -> dict:
    values = settings or defaults(tenant)
    return {
        "domains": "\n".join(settings.domains) if settings else "",
        "internal_name": values.internal_name, "display_name": values.display_name,
        "softphone_height": values.softphone_height, "softphone_width": values.softphone_width,
    }


def _context(request, form, errors):
    tenant = request.tenant
    return {"form": form, "errors": errors, "adapter_url": adapter_url(request, tenant),
            "configured": settings_of(request.db, tenant) is not None}


@view_config(route_name="salesforce.settings", renderer="ecti_salesforce:templates/settings.jinja2", permission="manage", request_method="GET")
def settings_page(request):
    return _context(request, _form_of(settings_of(request.db, request.tenant), request.tenant), {})


@view_config(route_name="salesforce.settings", renderer="ecti_salesforce:templates/settings.jinja2", permission="manage", request_method="POST")
def settings_save(request):
    form = {k: request.POST.get(k, "") for k in ("domains", "internal_name", "display_name", "softphone_height", "softphone_width")}
    values, errors = check_settings(form)
    if errors:
        request.response.status_int = 400
        return _context(request, form, errors)
    tenant = request.tenant
    settings = settings_of(request.db, tenant)
    if settings is None:
        settings = SalesforceSettings(tenant_id=tenant.id)
        request.db.add(settings)
    for key, value in values.items():
        setattr(settings, key, value)
    flash(request, _("Salesforce settings saved."))
    return HTTPSeeOther(request.route_url("salesforce.settings"))


@view_config(route_name="salesforce.callcenter", permission="manage", request_method="GET")
def call_center_file(request):
    tenant = request.tenant
    body = call_center_xml(request, tenant, settings_of(request.db, tenant))
    return Response(body=body, content_type="application/xml", charset="utf-8",
                    content_disposition=f'attachment; filename="ecti-callcenter-{tenant.slug}.xml"')


@view_config(route_name="salesforce.guide", renderer="ecti_salesforce:templates/guide.jinja2", permission="manage", request_method="GET")
def guide_page(request):
    tenant = request.tenant
    settings = settings_of(request.db, tenant)
    return {"adapter_url": adapter_url(request, tenant), "standby_url": standby_url(request, tenant),
            "download_url": request.route_url("salesforce.callcenter"), "settings_url": request.route_url("salesforce.settings"),
            "ecti_url": public_base(request), "display_name": (settings or defaults(tenant)).display_name,
            "domains": settings.domains if settings else [], "lang": request.locale_name}


@view_config(route_name="salesforce.standby", renderer="ecti_salesforce:templates/standby.jinja2", request_method="GET")
def standby_page(request):
    """Shown by Salesforce in the softphone panel when ECTI did not answer in time."""
    tenant = framing_tenant(request)
    allow_framed_page(request)
    retry = adapter_url(request, tenant) if tenant is not None else request.route_url("softphone")
    return {"retry_url": retry}


def salesforce_frame_ancestors(request, tenant) -> list[str]:
    """The tenant's Salesforce domains may frame the softphone (core ``add_softphone_frame_ancestors``)."""
    settings = settings_of(request.db, tenant)
    return usable_domains(settings.domains) if settings else []


# --- the adapter's API ----------------------------------------------------------------------------

class AdapterConfig(BaseModel):
    allowed: bool
    script_url: str | None
    calls_url: str
    strings: dict[str, str]


@api_view("api.salesforce.adapter", method="GET",
          summary="May the softphone talk to this Salesforce origin, and which Open CTI script does it load?",
          permission="softphone", response=AdapterConfig, tags=TAGS)
def api_adapter(request):
    origin = request.params.get("origin", "")
    lightning = request.params.get("mode") == "lightning"
    settings = settings_of(request.db, request.tenant) if request.tenant is not None else None
    allowed = bool(settings) and origin_allowed(origin, usable_domains(settings.domains))
    translate = request.localizer.translate
    return AdapterConfig(
        allowed=allowed, script_url=script_url(request, origin, lightning) if allowed else None,
        calls_url=public_base(request) + "/calls/", strings={k: translate(v) for k, v in TASK_STRINGS.items()},
    )
