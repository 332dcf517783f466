"""Report pages, CSV exports, the live wallboard and their JSON API (admins and supervisors)."""
from __future__ import annotations

import functools
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pyramid.i18n import make_localizer
from pyramid.response import Response
from pyramid.view import view_config

from ..acd.models import STATUS_LABELS
from ..api import API_PREFIX, api_view
from ..i18n import _, locale_dirs
from ..telephony.numbering import format_domestic
from ..web import tenant_zone
from .charts import Series, bar_chart
from .columns import AGENT_COLUMNS, CENTER_COLUMNS, QUEUE_COLUMNS, shown
from ..dispositions.services import disposition_counts
from .csvfile import to_csv
from .definitions import SECTIONS
from .periods import BUCKET_LABELS, PRESET_LABELS, PRESETS, Period, PeriodError, parse_period
from .formats import WEEKDAYS
from .queries import agent_report, center_report, queue_report

TAGS = ("reports",)
PERMISSION = "supervise"


# --- API models ---------------------------------------------------------------------------------

class PeriodQuery(BaseModel):
    """The period of a report, as query parameters (the same as the pages' and the CSVs')."""

    model_config = ConfigDict(populate_by_name=True)

    first_day: date | None = Field(None, alias="from", description="First day of the period (YYYY-MM-DD, the company's time zone), "
                                                                  "with `to`; both days included")
    to: date | None = Field(None, description="Last day of the period (YYYY-MM-DD), with `from`; at most 366 days")
    bucket: Literal["day", "week", "month"] = Field("day", description="Rows by day, week (from Monday) or month")
    preset: Literal[PRESETS] | None = Field(None, description="A named period instead of from/to; default this_month")

    @model_validator(mode="before")
    @classmethod
    def _specific_errors(cls, data, info: ValidationInfo):
        """Bad input gets the same specific message (400) as on the pages."""
        if not isinstance(data, dict):
            return data
        data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        data = {k: v for k, v in data.items() if v not in ("", None)}
        request = (info.context or {}).get("request")
        parse_period(data, tenant_zone(request) if request is not None else ZoneInfo("UTC"))
        return data

    def params(self) -> dict[str, str]:
        out = {"from": self.first_day.isoformat() if self.first_day else None, "to": self.to.isoformat() if self.to else None,
               "bucket": self.bucket, "preset": self.preset}
        return {k: v for k, v in out.items() if v}


class PeriodOut(BaseModel):
    first_day: str
    last_day: str
    bucket: str
    time_zone: str


class QueueFiguresOut(BaseModel):
    label: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    abandonment_rate: float | None
    answered_within_threshold: int
    service_level: float | None = Field(description="Answered within the threshold / (answered + not answered after waiting past it, "
                                                     "callers still waiting included), percent")
    service_level_answered: float | None
    service_level_offered: float | None
    average_speed_of_answer: float | None
    average_wait: float | None
    longest_wait: float | None
    average_time_to_abandon: float | None
    overflowed: int
    timed_out: int
    in_progress: int
    voicemails: int


class QueueReportQueue(BaseModel):
    id: int
    name: str
    service_level_seconds: int
    total: QueueFiguresOut
    buckets: list[QueueFiguresOut]


class QueueReportOut(BaseModel):
    period: PeriodOut
    queues: list[QueueReportQueue]


class AgentFiguresOut(BaseModel):
    user_id: int
    name: str
    handled_inbound: int
    handled_outbound: int
    talk_seconds: float | None
    average_talk_seconds: float | None
    hold_seconds: float | None
    wrap_up_seconds: float | None
    average_handle_seconds: float | None
    no_answer: int
    declined: int
    status_available: float | None
    status_ringing: float | None
    status_on_call: float | None
    status_wrap_up: float | None
    status_after_call_work: float | None
    status_away: float | None
    status_disconnected: float | None
    occupancy: float | None


class AgentReportOut(BaseModel):
    period: PeriodOut
    agents: list[AgentFiguresOut]


class CenterFiguresOut(BaseModel):
    label: str
    inbound: int
    outbound: int
    outbound_answered: int
    after_hours: int
    holiday: int
    ivr_calls: int
    ivr_abandoned: int
    ivr_abandonment_rate: float | None


class NumberOut(BaseModel):
    number: str
    inbound: int
    outbound: int
    outbound_answered: int


class CenterReportOut(BaseModel):
    period: PeriodOut
    total: CenterFiguresOut
    buckets: list[CenterFiguresOut]
    numbers: list[NumberOut]
    calls_by_hour: list[int]
    calls_by_weekday: list[int]


# --- helpers ------------------------------------------------------------------------------------

def _period(request, query: PeriodQuery | None = None) -> Period:
    return parse_period(query.params() if query is not None else request.params, tenant_zone(request))


def _period_out(period: Period) -> PeriodOut:
    return PeriodOut(first_day=period.first_day.isoformat(), last_day=period.last_day.isoformat(), bucket=period.bucket,
                     time_zone=period.zone.key)


def _row(columns, figures, **extra) -> dict:
    return {**extra, **{c.key: c.value(figures) for c in columns}}


def _number(value: str) -> str:
    try:
        return format_domestic(value)
    except Exception:  # anonymous or foreign: as the carrier gave it
        return value


def _csv_localizer(request):
    lang = request.params.get("lang")
    if lang not in ("ja", "en"):
        lang = request.locale_name if request.locale_name in ("ja", "en") else "ja"
    return lang, make_localizer(lang, locale_dirs())


def csv_download(name: str):
    """Make ``build(request, period, translate) -> (headers, rows)`` a CSV download view: the
    period from the query (a bad one: 400 with the reason as text), headers and rows in the asked
    language (``?lang=ja|en``, else the user's), the Excel file named after report and period."""
    def decorate(build):
        @functools.wraps(build)
        def view(request):
            try:
                period = _period(request)
            except PeriodError as err:
                return Response(request.localizer.translate(err.message), status=400, content_type="text/plain", charset="utf-8")
            lang, localizer = _csv_localizer(request)
            headers, rows = build(request, period, localizer.translate)
            filename = f"ecti-{name}-{period.first_day.isoformat()}-{period.last_day.isoformat()}{'-en' if lang == 'en' else ''}.csv"
            return Response(body=to_csv(headers, rows), content_type="text/csv", charset="utf-8",
                            content_disposition=f'attachment; filename="{filename}"')
        return view
    return decorate


def _page_context(request, route: str, period: Period | None, error) -> dict:
    t = request.localizer.translate
    links = _csv_links(request, route + "_csv", period)
    return {
        "period": period,
        "error": error,
        "presets": [(p, t(PRESET_LABELS[p]), request.route_url(route, _query={"preset": p, "bucket": period.bucket if period else "day"}))
                    for p in PRESETS],
        "buckets": [(b, t(label)) for b, label in BUCKET_LABELS.items()],
        "csv_url": links["url"], "csv_en_url": links["en"], "csv_ja_url": links["ja"],
        "route": route,
        "shown": shown,
    }


def _with_period(request):
    """The period asked for, or (with status 400 and the reason) this month by day."""
    try:
        return _period(request), None
    except PeriodError as err:
        request.response.status_int = 400
        return parse_period({"bucket": "day"}, tenant_zone(request)), err.message


# --- queues -------------------------------------------------------------------------------------

def _queue_rows(report, total_label: str) -> list[tuple[object, str, object]]:
    """(queue, bucket label, figures): each bucket with calls, then the queue's total."""
    rows = []
    for queue in report.queues:
        for i, bucket in enumerate(report.buckets):
            if (queue.id, i) in report.cells:
                rows.append((queue, bucket.label, report.figures(queue.id, i)))
        rows.append((queue, total_label, report.total(queue.id)))
    return rows


@view_config(route_name="reports.queues", renderer="ecti:reports/templates/queues.jinja2", permission=PERMISSION, request_method="GET")
def queues_page(request):
    period, error = _with_period(request)
    report = queue_report(request.db, request.tenant.id, period)
    t = request.localizer.translate
    labels = [b.label for b in report.buckets]
    by_bucket = [report.by_bucket(i) for i in range(len(report.buckets))]
    calls_chart = bar_chart(labels, [
        Series(t(_("Answered calls")), [f.answered for f in by_bucket]),
        Series(t(_("Abandoned")), [f.abandoned for f in by_bucket]),
        Series(t(_("Overflowed")), [f.overflowed + f.timed_out for f in by_bucket]),
    ], title=t(_("Calls offered to the queues")), chart_id="queue-calls")
    sl_chart = bar_chart(labels, [
        Series(t(_("Service level, waiting included (%)")), [f.service_level for f in by_bucket]),
        Series(t(_("Service level, answered-based (%)")), [f.service_level_answered for f in by_bucket]),
        Series(t(_("Service level, offered-based (%)")), [f.service_level_offered for f in by_bucket]),
    ], title=t(_("Service level")), chart_id="queue-service-level", percent=True)
    context = _page_context(request, "reports.queues", period, error)
    rows = [(queue.name, label, figures) for queue, label, figures in _queue_rows(report, t(_("Total")))]
    context.update(report=report, rows=rows, columns=QUEUE_COLUMNS, charts=[calls_chart, sl_chart])
    return context


@view_config(route_name="reports.queues_csv", permission=PERMISSION, request_method="GET")
@csv_download("queues")
def queues_csv(request, period: Period, translate):
    report = queue_report(request.db, request.tenant.id, period)
    headers = [translate(h) for h in (_("Queue"), _("Period"), _("Service level threshold (s)"))] + [translate(c.header) for c in QUEUE_COLUMNS]
    rows = [[queue.name, label, queue.service_level_seconds, *[c.value(figures) for c in QUEUE_COLUMNS]]
            for queue, label, figures in _queue_rows(report, translate(_("Total")))]
    return headers, rows


@api_view("api.reports.queues", method="GET", summary="Queue report: offered, answered, abandoned, service level (both definitions), waits, by day/week/month",
          permission=PERMISSION, response=QueueReportOut, tags=TAGS, errors=(400,), query=PeriodQuery)
def api_queue_report(request, query: PeriodQuery):
    period = _period(request, query)
    report = queue_report(request.db, request.tenant.id, period)
    t = request.localizer.translate
    queues = []
    for queue in report.queues:
        buckets = [QueueFiguresOut(**_row(QUEUE_COLUMNS, report.figures(queue.id, i), label=b.label)) for i, b in enumerate(report.buckets)]
        queues.append(QueueReportQueue(id=queue.id, name=queue.name, service_level_seconds=queue.service_level_seconds,
                                       total=QueueFiguresOut(**_row(QUEUE_COLUMNS, report.total(queue.id), label=t(_("Total")))), buckets=buckets))
    return QueueReportOut(period=_period_out(period), queues=queues)


# --- agents -------------------------------------------------------------------------------------

@view_config(route_name="reports.agents", renderer="ecti:reports/templates/agents.jinja2", permission=PERMISSION, request_method="GET")
def agents_page(request):
    period, error = _with_period(request)
    report = agent_report(request.db, request.tenant.id, period)
    t = request.localizer.translate
    names = [a.name for a in report.agents]
    calls_chart = bar_chart(names, [
        Series(t(_("Inbound calls handled")), [a.handled_inbound for a in report.agents]),
        Series(t(_("Outbound calls")), [a.handled_outbound for a in report.agents]),
        Series(t(_("Missed offers")), [a.missed_offers for a in report.agents]),
    ], title=t(_("Calls per agent")), chart_id="agent-calls")
    time_chart = bar_chart(names, [
        Series(t(STATUS_LABELS[s]), [round(a.status(s) / 60, 1) for a in report.agents])
        for s in ("available", "on_call", "wrap_up", "after_call_work", "away", "disconnected")
    ], title=t(_("Time in each status (minutes)")), chart_id="agent-status", unit=t(_(" min")))
    context = _page_context(request, "reports.agents", period, error)
    context.update(report=report, columns=AGENT_COLUMNS, charts=[calls_chart, time_chart], total=report.total())
    return context


@view_config(route_name="reports.agents_csv", permission=PERMISSION, request_method="GET")
@csv_download("agents")
def agents_csv(request, period: Period, translate):
    report = agent_report(request.db, request.tenant.id, period)
    headers = [translate(_("Agent"))] + [translate(c.header) for c in AGENT_COLUMNS]
    rows = [[a.name, *[c.value(a) for c in AGENT_COLUMNS]] for a in report.agents]
    return headers, rows


@api_view("api.reports.agents", method="GET", summary="Agent report: calls handled, talk, hold, after-call work, handle time, missed offers, time in each status, occupancy",
          permission=PERMISSION, response=AgentReportOut, tags=TAGS, errors=(400,), query=PeriodQuery)
def api_agent_report(request, query: PeriodQuery):
    period = _period(request, query)
    report = agent_report(request.db, request.tenant.id, period)
    return AgentReportOut(period=_period_out(period),
                          agents=[AgentFiguresOut(**_row(AGENT_COLUMNS, a, user_id=a.user_id, name=a.name)) for a in report.agents])


# --- the whole center ---------------------------------------------------------------------------

@view_config(route_name="reports.center", renderer="ecti:reports/templates/center.jinja2", permission=PERMISSION, request_method="GET")
def center_page(request):
    period, error = _with_period(request)
    report = center_report(request.db, request.tenant.id, period)
    t = request.localizer.translate
    labels = [b.label for b in report.buckets]
    cells = [report.figures(i) for i in range(len(report.buckets))]
    calls_chart = bar_chart(labels, [
        Series(t(_("Inbound calls")), [c.inbound for c in cells]),
        Series(t(_("Outbound calls")), [c.outbound for c in cells]),
        Series(t(_("After-hours calls")), [c.after_hours for c in cells]),
        Series(t(_("Holiday calls")), [c.holiday for c in cells]),
    ], title=t(_("Calls")), chart_id="center-calls")
    hour_chart = bar_chart([f"{h}" for h in range(24)], [Series(t(_("Calls")), report.hours)], title=t(_("Calls by hour of day")), chart_id="center-hours")
    weekday_chart = bar_chart([t(d) for d in WEEKDAYS], [Series(t(_("Calls")), report.weekdays)], title=t(_("Calls by weekday")), chart_id="center-weekdays")
    context = _page_context(request, "reports.center", period, error)
    context.update(report=report, columns=CENTER_COLUMNS, charts=[calls_chart, hour_chart, weekday_chart], cells=cells,
                   total=report.total(), weekdays=[t(d) for d in WEEKDAYS], number=_number,
                   numbers_csv=_csv_links(request, "reports.center_numbers_csv", period),
                   hours_csv=_csv_links(request, "reports.center_hours_csv", period),
                   dispositions=disposition_counts(request.db, request.tenant.id, period.start, period.end),
                   dispositions_csv=_csv_links(request, "reports.center_dispositions_csv", period))
    return context


def _csv_links(request, route: str, period: Period | None) -> dict:
    """The download links of one CSV: in the page's language, in Japanese, in English."""
    query = period.query() if period else {}
    return {"url": request.route_url(route, _query=query), "ja": request.route_url(route, _query={**query, "lang": "ja"}),
            "en": request.route_url(route, _query={**query, "lang": "en"})}


@view_config(route_name="reports.center_csv", permission=PERMISSION, request_method="GET")
@csv_download("center")
def center_csv(request, period: Period, translate):
    report = center_report(request.db, request.tenant.id, period)
    headers = [translate(_("Period"))] + [translate(c.header) for c in CENTER_COLUMNS]
    rows = [[b.label, *[c.value(report.figures(i)) for c in CENTER_COLUMNS]] for i, b in enumerate(report.buckets)]
    rows.append([translate(_("Total")), *[c.value(report.total()) for c in CENTER_COLUMNS]])
    return headers, rows


NUMBER_HEADERS = (_("Number"), _("Inbound calls"), _("Outbound calls"), _("Outbound answered"))


@view_config(route_name="reports.center_numbers_csv", permission=PERMISSION, request_method="GET")
@csv_download("center-numbers")
def center_numbers_csv(request, period: Period, translate):
    """The whole center by number (as on the page: inbound by the number called, outbound by caller ID)."""
    report = center_report(request.db, request.tenant.id, period)
    headers = [translate(h) for h in NUMBER_HEADERS]
    rows = [[_number(n.number), n.inbound, n.outbound, n.outbound_answered] for n in report.numbers]
    return headers, rows


@view_config(route_name="reports.center_hours_csv", permission=PERMISSION, request_method="GET")
@csv_download("center-hours")
def center_hours_csv(request, period: Period, translate):
    """Calls by weekday (rows) and hour of day (columns) in the company's time zone, with totals."""
    report = center_report(request.db, request.tenant.id, period)
    total = translate(_("Total"))
    headers = [translate(_("Weekday"))] + [f"{h}:00" for h in range(24)] + [total]
    rows = [[translate(day), *counts, sum(counts)] for day, counts in zip(WEEKDAYS, report.by_hour)]
    rows.append([total, *report.hours, sum(report.hours)])
    return headers, rows


DISPOSITION_HEADERS = (_("Disposition"), _("Code"), _("Calls"), _("Inbound calls"), _("Outbound calls"))


@view_config(route_name="reports.center_dispositions_csv", permission=PERMISSION, request_method="GET")
@csv_download("center-dispositions")
def center_dispositions_csv(request, period: Period, translate):
    """Calls per disposition chosen at wrap-up (calls without one: the last row)."""
    headers = [translate(h) for h in DISPOSITION_HEADERS]
    rows = [[(d.label or d.code) if d.code else translate(_("None")), d.code or "", d.calls, d.inbound, d.outbound]
            for d in disposition_counts(request.db, request.tenant.id, period.start, period.end)]
    return headers, rows


@api_view("api.reports.center", method="GET", summary="Whole-center report: inbound/outbound, after-hours and holiday calls, IVR abandonment, by number, by hour and weekday",
          permission=PERMISSION, response=CenterReportOut, tags=TAGS, errors=(400,), query=PeriodQuery)
def api_center_report(request, query: PeriodQuery):
    period = _period(request, query)
    report = center_report(request.db, request.tenant.id, period)
    t = request.localizer.translate
    return CenterReportOut(
        period=_period_out(period),
        total=CenterFiguresOut(**_row(CENTER_COLUMNS, report.total(), label=t(_("Total")))),
        buckets=[CenterFiguresOut(**_row(CENTER_COLUMNS, report.figures(i), label=b.label)) for i, b in enumerate(report.buckets)],
        numbers=[NumberOut(**n.__dict__) for n in report.numbers],
        calls_by_hour=report.hours, calls_by_weekday=report.weekdays,
    )


# --- help ---------------------------------------------------------------------------------------

@view_config(route_name="reports.help", renderer="ecti:reports/templates/help.jinja2", permission=PERMISSION, request_method="GET")
def help_page(request):
    titles = {"queues": _("Queue report"), "agents": _("Agent report"), "center": _("Whole-center report")}
    return {"sections": [(key, titles[key], items) for key, items in SECTIONS]}


def includeme(config):
    config.add_route("reports.queues", "/reports/queues")
    config.add_route("reports.queues_csv", "/reports/queues.csv")
    config.add_route("reports.agents", "/reports/agents")
    config.add_route("reports.agents_csv", "/reports/agents.csv")
    config.add_route("reports.center", "/reports/center")
    config.add_route("reports.center_csv", "/reports/center.csv")
    config.add_route("reports.center_numbers_csv", "/reports/center-numbers.csv")
    config.add_route("reports.center_hours_csv", "/reports/center-hours.csv")
    config.add_route("reports.center_dispositions_csv", "/reports/center-dispositions.csv")
    config.add_route("reports.wallboard", "/reports/wallboard")
    config.add_route("reports.help", "/reports/help")
    config.add_route("api.reports.queues", f"{API_PREFIX}/reports/queues")
    config.add_route("api.reports.agents", f"{API_PREFIX}/reports/agents")
    config.add_route("api.reports.center", f"{API_PREFIX}/reports/center")
    config.add_route("api.reports.wallboard", f"{API_PREFIX}/reports/wallboard")
    config.add_console_nav("reports.queues", _("Reports"), group="analytics", permission=PERMISSION, order=10, routes=("reports.agents", "reports.center", "reports.help"))
    config.add_console_nav("reports.wallboard", _("Wallboard"), group="analytics", permission=PERMISSION, order=20)
