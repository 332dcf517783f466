"""The IVR in the console (flows, numbers, business hours, holidays, voicemail, configuration
files) and in the JSON API (flows and the "what happens at …" preview). Admins only."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, FieldError, RequestValidationFailed, api_view
from ..errors import UserError
from ..i18n import _
from ..prompts.models import Prompt
from ..telephony.models import PhoneNumber
from ..telephony.numbering import format_domestic
from ..tenant_config import ConfigRefused, dumps, export_document, import_document
from ..web import flash, get_or_404
from . import forms
from .engine import now
from .models import Closure, Flow, Schedule, VoicemailBox, VoicemailMessage
from .schedules import BRANCH_LABELS, WEEKDAY_LABELS, WEEKDAYS, decide, format_ranges, holidays_between, parse_ranges
from .services import FlowInvalid, add_closure, create_box, delete_flow, delete_schedule, flow_numbers, flow_problems, save_flow, save_schedule
from .validation import ReferenceChecker, flow_phone_problems, problem_text, translate

#: Registry key of the function that places a test call to a number (the simulator plugin).
TEST_CALL_KEY = "ecti.ivr.test_call"
TEMPLATES = "ecti:ivr/templates/"
STARTER_NODE = {"id": "start", "type": "hangup", "settings": {}, "next": {}}


def _redirect(request, route, **kw):
    return HTTPSeeOther(request.route_url(route, **kw))


# --- flows and numbers ---------------------------------------------------------------------------

@view_config(route_name="ivr.flows", renderer=TEMPLATES + "flows.jinja2", permission="manage", request_method="GET")
def flows_page(request):
    return _flows_context(request, error=None)


def _flows_context(request, *, error, name=""):
    flows = request.db.scalars(select(Flow).order_by(Flow.name)).all()
    numbers = request.db.scalars(select(PhoneNumber).order_by(PhoneNumber.e164)).all()
    return {"flows": flows, "numbers": [(n, format_domestic(n.e164)) for n in numbers], "error": error, "name": name}


@view_config(route_name="ivr.flows", renderer=TEMPLATES + "flows.jinja2", permission="manage", request_method="POST")
def flow_create(request):
    """A new flow starts as one node that hangs up; the editor grows it."""
    name = request.POST.get("name", "").strip()
    try:
        flow = save_flow(request.db, request.registry, {"name": name, "start": "start", "nodes": [STARTER_NODE]})
    except FlowInvalid as invalid:
        request.response.status_int = 422
        return _flows_context(request, error=problem_text(request.localizer, invalid.problems[0]), name=name)
    return _redirect(request, "ivr.flow", id=flow.id)


@view_config(route_name="ivr.numbers", permission="manage", request_method="POST")
def numbers_assign(request):
    """Number → flow assignment: one select per number."""
    flows = {str(f.id): f for f in request.db.scalars(select(Flow))}
    node_types = request.registry.ecti.ivr_node_types
    refusals = 0
    for number in request.db.scalars(select(PhoneNumber)):
        choice = request.POST.get(f"number-{number.id}")
        if choice is None:
            continue
        flow = flows.get(choice)
        # The flow's forwards call from this number: the dialing rules must allow them.
        refused = flow_phone_problems(flow.document(), node_types, [number.e164]) if flow and flow.id != number.flow_id else []
        if refused:
            flash(request, _("${number} was not assigned: ${problem}", mapping={"number": format_domestic(number.e164), "problem": problem_text(request.localizer, refused[0])}), "error")
            refusals += 1
            continue
        number.flow_id = flow.id if flow else None
    if not refusals:
        flash(request, _("The numbers were assigned."))
    return _redirect(request, "ivr.flows")


@view_config(route_name="ivr.flow_form", renderer=TEMPLATES + "flow.jinja2", permission="manage", request_method="GET")
def flow_page(request):
    """The flow as one form: the accessible fallback of the visual editor (:mod:`.editor`)."""
    flow = get_or_404(request, Flow, request.matchdict["id"])
    return _flow_context(request, flow, flow.document(), [])


@view_config(route_name="ivr.flow_form", renderer=TEMPLATES + "flow.jinja2", permission="manage", request_method="POST")
def flow_save(request):
    flow = get_or_404(request, Flow, request.matchdict["id"])
    node_types = request.registry.ecti.ivr_node_types
    doc, problems = forms.read_flow(request.POST, node_types, flow_numbers(request.db, flow))
    if request.POST.get("action") == "add":  # show the new node's fields; save nothing yet
        return {**_flow_context(request, flow, doc, problems), "unsaved": True}
    problems += flow_problems(request.db, request.registry, doc, flow)
    if problems:
        request.response.status_int = 422
        return {**_flow_context(request, flow, doc, problems), "unsaved": True}
    save_flow(request.db, request.registry, doc, flow)
    flash(request, _("The flow ${name} was saved.", mapping={"name": flow.name}))
    return _redirect(request, "ivr.flow_form", id=flow.id)


def _flow_context(request, flow, doc, problems):
    node_types = request.registry.ecti.ivr_node_types
    checker = ReferenceChecker(request.registry, request.db)
    by_node: dict[int, list[str]] = {}
    general = []
    for problem in problems:
        index = _node_index(problem.path)
        text = translate(request.localizer, problem.message)
        (by_node.setdefault(index, []) if index is not None else general).append(text if index is not None else problem_text(request.localizer, problem))
    nodes = []
    for i, node in enumerate(doc["nodes"]):
        node_type = node_types.get(node.get("type"))
        settings = node.get("settings") or {}
        try:
            exits = list(node_type.exits(settings)) if node_type else list(node.get("next", {}))
        except (TypeError, KeyError, AttributeError):  # settings too broken to name the exits
            exits = list(node.get("next", {}))
        nodes.append({
            "index": i, "id": node.get("id", ""), "type": node.get("type"), "type_label": node_type.label if node_type else node.get("type"),
            "fields": forms.fields(node_type, settings, checker),
            "exits": [(exit, forms.exit_label(exit), (node.get("next") or {}).get(exit, "")) for exit in exits],
            "problems": by_node.get(i, []),
        })
    return {
        "flow": flow, "doc": doc, "nodes": nodes, "problems": general, "node_types": sorted(node_types.values(), key=lambda t: t.name),
        "node_ids": [n.get("id", "") for n in doc["nodes"]], "can_test_call": TEST_CALL_KEY in request.registry,
        "numbers": [format_domestic(n) for n in flow_numbers(request.db, flow)],
        "prompts": request.db.scalars(select(Prompt).order_by(Prompt.name)).all(), "unsaved": False,
    }


def _node_index(path: str) -> int | None:
    if path.startswith("nodes["):
        return int(path[6:path.index("]")])
    return None


@view_config(route_name="ivr.flow_delete", permission="manage", request_method="POST")
def flow_delete(request):
    flow = get_or_404(request, Flow, request.matchdict["id"])
    try:
        delete_flow(request.db, flow)
    except UserError as err:
        flash(request, err.message, "error")
        return _redirect(request, "ivr.flow", id=flow.id)
    flash(request, _("The flow ${name} was deleted.", mapping={"name": flow.name}))
    return _redirect(request, "ivr.flows")


@view_config(route_name="ivr.flow_test_call", permission="manage", request_method="POST")
def flow_test_call(request):
    """Place a test call to a number of this flow through the registered test-call function
    (``registry["ecti.ivr.test_call"](request, number)``, provided by the Twilio plugin when
    it talks to the simulator). The function places the call once this request has committed
    and returns the page that follows the call, where the admin is sent."""
    flow = get_or_404(request, Flow, request.matchdict["id"])
    place = request.registry.get(TEST_CALL_KEY)
    number = request.db.scalar(select(PhoneNumber).where(PhoneNumber.flow_id == flow.id).order_by(PhoneNumber.e164))
    if place is None:
        flash(request, _("Test calls need the Twilio simulator, which is not installed here."), "error")
    elif number is None:
        flash(request, _("Assign a number to this flow first."), "error")
    else:
        where = place(request, number)
        flash(request, _("A test call to ${number} was placed.", mapping={"number": format_domestic(number.e164)}))
        if where:
            return HTTPSeeOther(where)
    return _redirect(request, "ivr.flow", id=flow.id)


# --- business hours ------------------------------------------------------------------------------

@view_config(route_name="ivr.schedules", renderer=TEMPLATES + "schedules.jinja2", permission="manage", request_method="GET")
def schedules_page(request):
    return {"schedules": request.db.scalars(select(Schedule).order_by(Schedule.name)).all(), "error": None, "name": ""}


@view_config(route_name="ivr.schedules", renderer=TEMPLATES + "schedules.jinja2", permission="manage", request_method="POST")
def schedule_create(request):
    name = request.POST.get("name", "")
    weekday = [["09:00", "18:00"]]
    try:
        schedule = save_schedule(
            request.db, request.registry, name=name, weekly={d: weekday for d in WEEKDAYS[:5]},
            calendars=[c for c in ("jp_national",) if c in request.registry.ecti.holiday_calendars],
        )
    except UserError as err:
        request.response.status_int = 422
        return {"schedules": request.db.scalars(select(Schedule).order_by(Schedule.name)).all(), "error": err.message, "name": name}
    return _redirect(request, "ivr.schedule", id=schedule.id)


@view_config(route_name="ivr.schedule", renderer=TEMPLATES + "schedule.jinja2", permission="manage", request_method="GET")
def schedule_page(request):
    schedule = get_or_404(request, Schedule, request.matchdict["id"])
    form = {day: format_ranges(schedule.weekly.get(day, [])) for day in WEEKDAYS}
    return _schedule_context(request, schedule, form, schedule.name, schedule.calendars, {})


@view_config(route_name="ivr.schedule", renderer=TEMPLATES + "schedule.jinja2", permission="manage", request_method="POST")
def schedule_save(request):
    schedule = get_or_404(request, Schedule, request.matchdict["id"])
    if request.POST.get("action") == "delete":
        try:
            delete_schedule(request.db, request.registry, schedule)
        except UserError as err:
            flash(request, err.message, "error")
            return _redirect(request, "ivr.schedule", id=schedule.id)
        return _redirect(request, "ivr.schedules")
    form = {day: request.POST.get(day, "") for day in WEEKDAYS}
    name, calendars = request.POST.get("name", ""), request.POST.getall("calendars")
    try:
        weekly = {day: parse_ranges(form[day], day) for day in WEEKDAYS}
        save_schedule(request.db, request.registry, name=name, weekly=weekly, calendars=calendars, schedule=schedule)
    except UserError as err:
        request.response.status_int = 422
        return _schedule_context(request, schedule, form, name, calendars, {err.field or "name": err.message})
    flash(request, _("The schedule ${name} was saved.", mapping={"name": schedule.name}))
    return _redirect(request, "ivr.schedule", id=schedule.id)


def _schedule_context(request, schedule, form, name, calendars, errors):
    preview = None
    at = request.GET.get("at", "")
    if at:
        preview = _preview(request, schedule, at)
    return {
        "schedule": schedule, "form": form, "name": name, "chosen": calendars, "errors": errors, "weekdays": [(d, WEEKDAY_LABELS[d]) for d in WEEKDAYS],
        "calendars": sorted(request.registry.ecti.holiday_calendars.values(), key=lambda c: c.name), "at": at, "preview": preview,
        "branch_labels": BRANCH_LABELS,
    }


def _preview(request, schedule, at: str) -> dict:
    """Which branch a call at ``at`` (tenant's local time) would take, and why."""
    try:
        moment = datetime.fromisoformat(at).replace(tzinfo=ZoneInfo(request.tenant.time_zone))
    except ValueError:
        return {"error": _("Enter a date and time such as 2025-12-30T10:00.")}
    decision = decide(request.db, request.registry.ecti.holiday_calendars, schedule, request.tenant.time_zone, moment)
    return {"branch": decision.branch, "reason": decision.reason, "explanation": translate(request.localizer, decision.explain(request.registry.ecti.holiday_calendars))}


# --- holidays ------------------------------------------------------------------------------------

@view_config(route_name="ivr.holidays", renderer=TEMPLATES + "holidays.jinja2", permission="manage", request_method="GET")
def holidays_page(request):
    return _holidays_context(request, {}, {})


def _holidays_context(request, form, errors):
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = now(request).astimezone(ZoneInfo(request.tenant.time_zone)).year
    calendars = request.registry.ecti.holiday_calendars
    days = holidays_between(request.db, calendars, sorted(calendars), date(year, 1, 1), date(year, 12, 31))
    closures = request.db.scalars(select(Closure).order_by(Closure.start_date)).all()
    labels = {name: c.label for name, c in calendars.items()}
    return {"year": year, "days": [(d, name, labels.get(source, _("Company closure"))) for d, name, source in days], "closures": closures, "form": form, "errors": errors}


@view_config(route_name="ivr.holidays", renderer=TEMPLATES + "holidays.jinja2", permission="manage", request_method="POST")
def closure_add(request):
    form = {k: request.POST.get(k, "").strip() for k in ("name", "start", "end")}
    try:
        try:
            start = date.fromisoformat(form["start"])
            end = date.fromisoformat(form["end"]) if form["end"] else None
        except ValueError:
            raise UserError("invalid_date", _("Enter dates as YYYY-MM-DD."), field="start", status=422)
        add_closure(request.db, name=form["name"], start=start, end=end)
    except UserError as err:
        request.response.status_int = 422
        return _holidays_context(request, form, {err.field or "name": err.message})
    flash(request, _("The closure ${name} was added.", mapping={"name": form["name"]}))
    return _redirect(request, "ivr.holidays", _query={"year": start.year})


@view_config(route_name="ivr.closure_delete", permission="manage", request_method="POST")
def closure_delete(request):
    closure = get_or_404(request, Closure, request.matchdict["id"])
    request.db.delete(closure)
    return _redirect(request, "ivr.holidays", _query={"year": closure.start_date.year})


# --- voicemail -----------------------------------------------------------------------------------

@view_config(route_name="ivr.voicemail", renderer=TEMPLATES + "voicemail.jinja2", permission="manage", request_method="GET")
def voicemail_page(request):
    return _voicemail_context(request, None)


def _voicemail_context(request, error):
    boxes = request.db.scalars(select(VoicemailBox).order_by(VoicemailBox.name)).all()
    messages = request.db.scalars(
        select(VoicemailMessage).where(VoicemailMessage.deleted_at.is_(None)).order_by(VoicemailMessage.created_at.desc()).limit(100)
    ).all()
    return {"boxes": boxes, "names": {b.id: b.name for b in boxes}, "messages": messages, "error": error}


@view_config(route_name="ivr.voicemail", renderer=TEMPLATES + "voicemail.jinja2", permission="manage", request_method="POST")
def box_create(request):
    try:
        create_box(request.db, request.POST.get("name", ""))
    except UserError as err:
        request.response.status_int = 422
        return _voicemail_context(request, err.message)
    return _redirect(request, "ivr.voicemail")


# --- configuration files -------------------------------------------------------------------------

@view_config(route_name="ivr.config", renderer=TEMPLATES + "config.jinja2", permission="manage", request_method="GET")
def config_page(request):
    return {"errors": [], "summary": None}


@view_config(route_name="ivr.config_download", permission="manage", request_method="GET")
def config_download(request):
    body = dumps(export_document(request.db, request.registry, request.tenant))
    response = Response(body, content_type="application/json", charset="utf-8")
    response.content_disposition = f'attachment; filename="{request.tenant.slug}-config.json"'
    return response


@view_config(route_name="ivr.config", renderer=TEMPLATES + "config.jinja2", permission="manage", request_method="POST")
def config_upload(request):
    upload = request.POST.get("file")
    try:
        doc = json.loads(upload.file.read().decode("utf-8")) if hasattr(upload, "file") else None
    except (ValueError, UnicodeDecodeError):
        doc = None
    if doc is None:
        request.response.status_int = 422
        return {"errors": [("", translate(request.localizer, _("Choose a JSON file exported from ECTI.")))], "summary": None}
    try:
        import_document(request.db, request.registry, doc, tenant=request.tenant)
    except ConfigRefused as refused:
        request.response.status_int = 422
        return {"errors": [(path, translate(request.localizer, message)) for path, message in refused.errors], "summary": refused.message}
    flash(request, _("The configuration file was applied."))
    return _redirect(request, "ivr.config")


# --- JSON API ------------------------------------------------------------------------------------

class NodeDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    type: str
    settings: dict[str, Any] = {}
    next: dict[str, str | None] = {}


class FlowDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    start: str
    nodes: list[NodeDoc] = Field(min_length=1)


class FlowOut(FlowDoc):
    id: int


class FlowList(BaseModel):
    flows: list[FlowOut]


class PreviewOut(BaseModel):
    branch: str
    reason: str
    explanation: str


def _flow_out(flow: Flow) -> FlowOut:
    return FlowOut(id=flow.id, **flow.document())


def _save(request, body: FlowDoc, flow: Flow | None) -> Flow:
    try:
        return save_flow(request.db, request.registry, body.model_dump(), flow)
    except FlowInvalid as invalid:
        raise RequestValidationFailed([FieldError(field=p.path, code="flow_invalid", message=problem_text(request.localizer, p)) for p in invalid.problems])


@api_view("api.ivr_flows", method="GET", summary="The company's call flows", permission="manage", response=FlowList, tags=("ivr",))
def api_flows(request):
    return FlowList(flows=[_flow_out(f) for f in request.db.scalars(select(Flow).order_by(Flow.name))])


@api_view("api.ivr_flows", method="POST", summary="Create a call flow (validated first)", permission="manage", body=FlowDoc, response=FlowOut, status=201, tags=("ivr",))
def api_flow_create(request, body: FlowDoc):
    return _flow_out(_save(request, body, None))


@api_view("api.ivr_flow", method="GET", summary="One call flow", permission="manage", response=FlowOut, tags=("ivr",), errors=(404,))
def api_flow(request):
    return _flow_out(get_or_404(request, Flow, request.matchdict["id"]))


@api_view("api.ivr_flow", method="PUT", summary="Replace a call flow (validated first)", permission="manage", body=FlowDoc, response=FlowOut, tags=("ivr",), errors=(404,))
def api_flow_replace(request, body: FlowDoc):
    return _flow_out(_save(request, body, get_or_404(request, Flow, request.matchdict["id"])))


@api_view("api.ivr_preview", method="GET", summary="Which branch a schedule takes at a date and time (?at=2025-12-30T10:00)", permission="manage", response=PreviewOut, tags=("ivr",), errors=(404, 422))
def api_preview(request):
    schedule = get_or_404(request, Schedule, request.matchdict["id"])
    preview = _preview(request, schedule, request.GET.get("at", ""))
    if "error" in preview:
        raise RequestValidationFailed([FieldError(field="at", code="invalid_datetime", message=translate(request.localizer, preview["error"]))])
    return PreviewOut(**preview)


def includeme(config):
    config.add_route("ivr.flows", "/admin/ivr/flows")
    config.add_route("ivr.flow", "/admin/ivr/flows/{id:\\d+}")
    config.add_route("ivr.flow_form", "/admin/ivr/flows/{id:\\d+}/form")
    config.add_route("ivr.flow_document", "/admin/ivr/flows/{id:\\d+}/document")
    config.add_route("ivr.flow_check_number", "/admin/ivr/flows/{id:\\d+}/check-number")
    config.add_route("ivr.flow_delete", "/admin/ivr/flows/{id:\\d+}/delete")
    config.add_route("ivr.flow_test_call", "/admin/ivr/flows/{id:\\d+}/test-call")
    config.add_route("ivr.numbers", "/admin/ivr/numbers")
    config.add_route("ivr.schedules", "/admin/ivr/schedules")
    config.add_route("ivr.schedule", "/admin/ivr/schedules/{id:\\d+}")
    config.add_route("ivr.holidays", "/admin/ivr/holidays")
    config.add_route("ivr.closure_delete", "/admin/ivr/closures/{id:\\d+}/delete")
    config.add_route("ivr.voicemail", "/admin/ivr/voicemail")
    config.add_route("ivr.config", "/admin/config")
    config.add_route("ivr.config_download", "/admin/config/download")
    config.add_route("api.ivr_flows", f"{API_PREFIX}/ivr/flows")
    config.add_route("api.ivr_flow", f"{API_PREFIX}/ivr/flows/{{id:\\d+}}")
    config.add_route("api.ivr_preview", f"{API_PREFIX}/ivr/schedules/{{id:\\d+}}/preview")
    config.add_console_nav("ivr.flows", _("Call flows"), group="settings", permission="manage", order=10)
    config.add_console_nav("ivr.schedules", _("Business hours"), group="settings", permission="manage", order=30, routes=("ivr.schedule",))
    config.add_console_nav("ivr.holidays", _("Holidays"), group="settings", permission="manage", order=31)
    config.add_console_nav("ivr.voicemail", _("Voicemail boxes"), group="settings", permission="manage", order=50, routes=("voicemail.box",))
    config.add_console_nav("ivr.config", _("Configuration file"), group="settings", permission="manage", order=990)
