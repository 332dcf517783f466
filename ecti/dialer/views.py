"""The dialer in the console: lists, settings, CSV upload with preview, status, progress, export."""
from __future__ import annotations


from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..errors import UserError
from ..i18n import _
from ..ivr.models import Schedule
from ..ivr.schedules import WEEKDAY_LABELS, WEEKDAYS, format_ranges, parse_ranges
from ..spreadsheets import excel_csv
from ..telephony.models import PhoneNumber
from ..telephony.numbering import NumberError, to_e164
from ..tenancy.models import Role, User
from ..web import flash, get_or_404
from . import services
from .api import display, list_out, reason_text
from .csv_import import MAX_BYTES, MAX_ROWS
from .models import (
    LIST_STATUS_LABELS, OUTCOME_LABELS, AttemptStatus, DialingAttempt, DialingImport, DialingList, DialingRow, DoNotCall, ListStatus,
)

TEMPLATES = "ecti:dialer/templates/"
RETRY_LABELS = {"no_answer": _("No answer / answering machine"), "busy": _("Busy"), "failed": _("Not connected (failed)")}
#: Cells that a spreadsheet would run as a formula.


def _form_of(lst: DialingList | None) -> dict:
    if lst is None:
        return {"name": "", "caller_id": "", "schedule_id": "", "calendars": True, "preview_seconds": 0, "agent_ids": set(),
                "retry": services.DEFAULT_RETRY, **{d: "" for d in WEEKDAYS}}
    return {"name": lst.name, "caller_id": lst.caller_id, "schedule_id": str(lst.schedule_id or ""), "calendars": bool(lst.calendars),
            "preview_seconds": lst.preview_seconds, "agent_ids": {m.user_id for m in lst.agents},
            "retry": {**services.DEFAULT_RETRY, **(lst.retry or {})},
            **{d: format_ranges((lst.weekly or {}).get(d, [])) for d in WEEKDAYS}}


def _choices(request) -> dict:
    return {
        # Only numbers the caller-ID rules allow on outgoing calls (050, 0120, 0800, overseas).
        "caller_ids": [(n.e164, display(n.e164), n.label) for n in request.db.scalars(
            select(PhoneNumber).where(PhoneNumber.voice_capable.is_(True)).order_by(PhoneNumber.e164))
            if services.caller_id_refusal(n.e164) is None],
        "schedules": request.db.scalars(select(Schedule).order_by(Schedule.name)).all(),
        "users": request.db.scalars(select(User).where(User.is_active.is_(True), User.role != Role.operator).order_by(User.display_name, User.id)).all(),
        "weekdays": [(d, WEEKDAY_LABELS[d]) for d in WEEKDAYS],
        "retry_labels": RETRY_LABELS,
    }


def _read_form(request) -> dict:
    post = request.POST
    weekly = {d: parse_ranges(post.get(d, ""), d) for d in WEEKDAYS}
    weekly = {d: r for d, r in weekly.items() if r}
    schedule = post.get("schedule_id", "")

    def number(key, default=0):
        value = post.get(key, "").strip()
        if not value.lstrip("-").isdigit():
            if value == "":
                return default
            raise UserError("not_a_number", _("Enter a whole number."), field=key, status=422)
        return int(value)

    return dict(
        name=post.get("name", ""), caller_id=post.get("caller_id", ""), schedule_id=int(schedule) if schedule.isdigit() else None,
        weekly=weekly, calendars=sorted(request.registry.ecti.holiday_calendars) if post.get("calendars") else [],
        retry={k: {"count": number(f"retry_{k}_count"), "delay_minutes": number(f"retry_{k}_delay")} for k in services.RETRY_KINDS},
        preview_seconds=number("preview_seconds"), agent_ids=[int(v) for v in post.getall("agent") if v.isdigit()],
    )


def _raw_form(request) -> dict:
    post = request.POST
    return {"name": post.get("name", ""), "caller_id": post.get("caller_id", ""), "schedule_id": post.get("schedule_id", ""),
            "calendars": bool(post.get("calendars")), "preview_seconds": post.get("preview_seconds", ""),
            "agent_ids": {int(v) for v in post.getall("agent") if v.isdigit()},
            "retry": {k: {"count": post.get(f"retry_{k}_count", ""), "delay_minutes": post.get(f"retry_{k}_delay", "")} for k in services.RETRY_KINDS},
            **{d: post.get(d, "") for d in WEEKDAYS}}


# --- lists -----------------------------------------------------------------------------------

@view_config(route_name="dialer", renderer=TEMPLATES + "lists.jinja2", permission="supervise", request_method="GET")
def lists_page(request):
    return _lists_context(request, _form_of(None), {})


def _lists_context(request, form, errors):
    lists = request.db.scalars(select(DialingList).order_by(DialingList.id.desc())).all()
    return {"lists": [list_out(request, lst) for lst in lists], "form": form, "errors": errors, **_choices(request)}


@view_config(route_name="dialer", renderer=TEMPLATES + "lists.jinja2", permission="manage", request_method="POST")
def list_create(request):
    try:
        lst = services.save_list(request, None, **_read_form(request))
    except UserError as err:
        request.response.status_int = 422
        return _lists_context(request, _raw_form(request), {err.field or "": err.message})
    flash(request, _("The list \"${name}\" was created. Upload its numbers next.", mapping={"name": lst.name}))
    return HTTPSeeOther(request.route_url("dialer.list", id=lst.id))


@view_config(route_name="dialer.list", renderer=TEMPLATES + "list.jinja2", permission="supervise", request_method="GET")
def list_page(request):
    lst = get_or_404(request, DialingList, request.matchdict["id"])
    return _list_context(request, lst, _form_of(lst), {})


def _list_context(request, lst, form, errors, upload_error=None):
    return {"lst": lst, "out": list_out(request, lst), "form": form, "errors": errors, "upload_error": upload_error,
            "status_labels": LIST_STATUS_LABELS, "outcome_labels": {o.value: l for o, l in OUTCOME_LABELS.items()},
            "max_mb": MAX_BYTES // (1024 * 1024), "max_rows": MAX_ROWS, **_choices(request)}


@view_config(route_name="dialer.list", renderer=TEMPLATES + "list.jinja2", permission="manage", request_method="POST")
def list_save(request):
    lst = get_or_404(request, DialingList, request.matchdict["id"])
    try:
        services.save_list(request, lst, **_read_form(request))
    except UserError as err:
        request.response.status_int = 422
        return _list_context(request, lst, _raw_form(request), {err.field or "": err.message})
    flash(request, _("Saved."))
    return HTTPSeeOther(request.route_url("dialer.list", id=lst.id))


@view_config(route_name="dialer.status", permission="supervise", request_method="POST")
def list_status(request):
    lst = get_or_404(request, DialingList, request.matchdict["id"])
    wanted = request.POST.get("status", "")
    try:
        services.set_status(request, lst, ListStatus(wanted) if wanted in ("running", "paused", "stopped") else ListStatus.draft)
    except UserError as err:
        flash(request, err.message, "error")
    else:
        flash(request, _("The list is now: ${status}", mapping={"status": request.localizer.translate(LIST_STATUS_LABELS[lst.status])}))
    return HTTPSeeOther(request.route_url("dialer.list", id=lst.id))


# --- upload, preview, confirm ----------------------------------------------------------------

@view_config(route_name="dialer.upload", renderer=TEMPLATES + "list.jinja2", permission="manage", request_method="POST")
def upload(request):
    lst = get_or_404(request, DialingList, request.matchdict["id"])
    field = request.POST.get("file")
    try:
        if not hasattr(field, "file"):
            raise UserError("no_file", _("Choose a CSV file to upload."), field="file", status=422)
        data = field.file.read(MAX_BYTES + 1)
        imp = services.preview_import(request, lst, data, field.filename, request.identity.id)
    except UserError as err:
        request.response.status_int = 422
        return _list_context(request, lst, _form_of(lst), {}, upload_error=err.message)
    return HTTPSeeOther(request.route_url("dialer.import", id=imp.id))


@view_config(route_name="dialer.import", renderer=TEMPLATES + "preview.jinja2", permission="manage", request_method="GET")
def preview_page(request):
    imp = get_or_404(request, DialingImport, request.matchdict["id"])
    lst = request.db.get(DialingList, imp.list_id)
    refused = [dict(r, reason=reason_text(request, r)) for r in imp.refused]
    return {"imp": imp, "lst": lst, "refused": refused, "sample": imp.good[:10], "display": display}


@view_config(route_name="dialer.import", permission="manage", request_method="POST")
def confirm(request):
    imp = get_or_404(request, DialingImport, request.matchdict["id"])
    try:
        count = services.confirm_import(request, imp)
    except UserError as err:
        flash(request, err.message, "error")
        return HTTPSeeOther(request.route_url("dialer.import", id=imp.id))
    flash(request, _("${count} numbers were imported.", mapping={"count": count}))
    return HTTPSeeOther(request.route_url("dialer.list", id=imp.list_id))


# --- results ---------------------------------------------------------------------------------

@view_config(route_name="dialer.export", permission="supervise", request_method="GET")
def export(request):
    """The list's rows with their results, for Excel: UTF-8 with BOM, CRLF, Japanese headers."""
    lst = get_or_404(request, DialingList, request.matchdict["id"])
    translate = request.localizer.translate
    rows = request.db.scalars(select(DialingRow).where(DialingRow.list_id == lst.id).order_by(DialingRow.row_number, DialingRow.id)).all()
    last = {}
    for attempt in request.db.scalars(
        select(DialingAttempt).where(DialingAttempt.list_id == lst.id, DialingAttempt.status == AttemptStatus.done).order_by(DialingAttempt.id)
    ):
        last[attempt.row_id] = attempt
    users = {u.id: u.display_name for u in request.db.scalars(select(User))}
    extra_columns = list(dict.fromkeys(c for r in rows for c, _v in r.extra))  # every import's columns, in order
    headers = [translate(h) for h in (_("Row"), _("Phone number"), _("Name"))] + extra_columns + [
        translate(h) for h in (_("Status"), _("Result"), _("Number of calls"), _("Agent"), _("Last call"), _("Callback at"), _("Note"))]
    zone = request.tenant.time_zone or "Asia/Tokyo"
    from zoneinfo import ZoneInfo

    def local(at):
        return at.astimezone(ZoneInfo(zone)).strftime("%Y/%m/%d %H:%M") if at else ""

    status_words = {"pending": _("Remaining"), "reserved": _("In progress"), "done": _("Done")}
    table = []
    for row in rows:
        attempt = last.get(row.id)
        values = dict(row.extra)
        table.append([row.row_number, display(row.number), row.name] + [values.get(c, "") for c in extra_columns] + [
            translate(status_words[row.status.value]),
            translate(OUTCOME_LABELS[row.last_outcome]) if row.last_outcome else "",
            row.attempts,
            users.get(attempt.user_id, "") if attempt else "",
            local(attempt.ended_at) if attempt else "",
            local(row.callback_at),
            attempt.note if attempt and attempt.note else "",
        ])
    response = Response(body=excel_csv(headers, table), content_type="text/csv", charset="utf-8")
    response.content_disposition = f"attachment; filename=\"dialer-{lst.id}-results.csv\""
    return response


# --- do-not-call -----------------------------------------------------------------------------

@view_config(route_name="dialer.dnc", renderer=TEMPLATES + "dnc.jinja2", permission="supervise", request_method="GET")
def dnc_page(request):
    return _dnc_context(request, "", None)


def _dnc_context(request, number, error):
    entries = request.db.scalars(select(DoNotCall).order_by(DoNotCall.created_at.desc(), DoNotCall.id.desc())).all()
    return {"entries": entries, "number": number, "error": error, "display": display}


@view_config(route_name="dialer.dnc", renderer=TEMPLATES + "dnc.jinja2", permission="supervise", request_method="POST")
def dnc_change(request):
    remove = request.POST.get("remove", "")
    if remove.isdigit():
        entry = get_or_404(request, DoNotCall, remove)
        request.db.delete(entry)
        flash(request, _("${number} was removed from the do-not-call list.", mapping={"number": display(entry.number)}))
        return HTTPSeeOther(request.route_url("dialer.dnc"))
    number = request.POST.get("number", "")
    try:
        e164 = to_e164(number)
    except NumberError as err:
        request.response.status_int = 422
        return _dnc_context(request, number, err.message)
    services.add_do_not_call(request, request.tenant.id, e164, reason=request.POST.get("reason", ""), user_id=request.identity.id)
    flash(request, _("${number} is on the do-not-call list.", mapping={"number": display(e164)}))
    return HTTPSeeOther(request.route_url("dialer.dnc"))

