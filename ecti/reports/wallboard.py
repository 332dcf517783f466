"""The live wallboard: a full-screen page for a wall screen and the JSON it polls (docs/reports.md).

The page draws every figure on the server; ``static/wallboard.js`` then polls
``GET /api/v1/reports/wallboard`` and updates the same elements in place (no flicker), ticks the
longest waits and the agents' time in state every second, and turns a figure and its tile amber
or red at the thresholds the admin set on the queue (``Queue.wallboard_*``).
"""
from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel
from pyramid.view import view_config

from sqlalchemy import select

from ..acd.models import MONITOR_MODE_LABELS, STATUS_LABELS, EntryStatus, MonitorSession, QueueEntry
from ..acd.queues import WALLBOARD_FIGURES
from ..acd.views import QueueWaiting
from ..api import api_view
from ..i18n import _
from ..web import tenant_zone
from .formats import date_time, hms
from .periods import parse_period
from .queries import STATUSES, WallboardQueue, wallboard

TAGS = ("reports",)
PERMISSION = "supervise"
#: How often the page asks for new figures (milliseconds).
POLL_MS = 5000
LEVEL_LABELS = {"amber": _("Warning"), "red": _("Alert")}


class ThresholdOut(BaseModel):
    amber: int
    red: int


class WallboardThresholdsOut(BaseModel):
    """Amber and red: calls waiting and longest wait (seconds) from these values up, service
    level (percent) below them."""

    waiting: ThresholdOut
    wait: ThresholdOut
    service_level: ThresholdOut


class WallboardLevelsOut(BaseModel):
    """green, amber or red for each figure; the tile takes the worst."""

    waiting: str
    wait: str
    service_level: str
    tile: str


class WallboardQueueOut(QueueWaiting):
    """The ACD's live figures of a queue, and today's."""

    offered_today: int
    answered_today: int
    abandoned_today: int
    #: Of the calls waiting: queued callbacks (callers who hung up to be called back).
    callbacks_waiting: int = 0
    service_level_today: float | None
    service_level_threshold_seconds: int
    thresholds: WallboardThresholdsOut
    levels: WallboardLevelsOut


class WallboardAgentOut(BaseModel):
    user_id: int
    name: str
    status: str
    status_label: str
    since: datetime
    seconds_in_status: int
    #: The queue call the agent is on (what a supervisor can monitor), None when not on one.
    call_id: int | None = None


class WallboardMonitorOut(BaseModel):
    """The viewer's own live monitoring session (issue 24)."""

    id: int
    call_id: int
    mode: str
    mode_label: str


class WallboardOut(BaseModel):
    at: datetime
    at_label: str
    queues: list[WallboardQueueOut]
    agents_by_status: dict[str, int]
    agents: list[WallboardAgentOut]
    monitor: WallboardMonitorOut | None = None


def level(value: float | None, amber: int, red: int, worse: str) -> str:
    """green, amber or red: a count or wait at or above the threshold, a service level (percent) below it."""
    if value is None:
        return "green"
    if worse == "higher":
        return "red" if value >= red else "amber" if value >= amber else "green"
    return "red" if value < red else "amber" if value < amber else "green"


def _thresholds(q: WallboardQueue) -> WallboardThresholdsOut:
    return WallboardThresholdsOut(**{
        figure: ThresholdOut(amber=getattr(q.queue, f"wallboard_{figure}_amber"), red=getattr(q.queue, f"wallboard_{figure}_red"))
        for figure in WALLBOARD_FIGURES})


def _levels(q: WallboardQueue, thresholds: WallboardThresholdsOut) -> WallboardLevelsOut:
    sl = q.today.service_level
    values = {"waiting": q.waiting, "wait": q.longest_wait_seconds if q.waiting else None, "service_level": None if sl is None else sl * 100}
    levels = {figure: level(values[figure], getattr(thresholds, figure).amber, getattr(thresholds, figure).red, worse)
              for figure, (_label, _low, _high, worse) in WALLBOARD_FIGURES.items()}
    tile = "red" if "red" in levels.values() else "amber" if "amber" in levels.values() else "green"
    return WallboardLevelsOut(**levels, tile=tile)


def _queue_out(q: WallboardQueue) -> WallboardQueueOut:
    thresholds = _thresholds(q)
    return WallboardQueueOut(
        id=q.id, name=q.name, waiting=q.waiting, longest_wait_seconds=q.longest_wait_seconds, agents_logged_in=q.agents_logged_in,
        agents_available=q.agents_available, offered_today=q.today.offered, answered_today=q.today.answered,
        abandoned_today=q.today.abandoned, callbacks_waiting=q.callbacks_waiting, service_level_today=q.today.service_level,
        service_level_threshold_seconds=q.queue.service_level_seconds, thresholds=thresholds, levels=_levels(q, thresholds),
    )


def _status_order(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)


def board(request) -> WallboardOut:
    zone = tenant_zone(request)
    data = wallboard(request.db, request.tenant.id, parse_period({"preset": "today"}, zone))
    t = request.localizer.translate
    agents = sorted(data.agents, key=lambda a: (_status_order(a.status), a.name, a.user_id))
    on_call = dict(request.db.execute(
        select(QueueEntry.agent_user_id, QueueEntry.call_id).where(QueueEntry.status == EntryStatus.connected)
    ).all())
    mine = request.db.scalar(select(MonitorSession).where(MonitorSession.supervisor_id == request.identity.id,
                                                          MonitorSession.ended_at.is_(None)).limit(1))
    return WallboardOut(
        at=data.at,
        at_label=date_time(data.at, zone, t),
        queues=[_queue_out(q) for q in data.queues],
        agents_by_status=data.statuses,
        agents=[WallboardAgentOut(user_id=a.user_id, name=a.name, status=a.status, status_label=t(STATUS_LABELS.get(a.status, a.status)),
                                  since=a.since, seconds_in_status=max(0, int((data.at - a.since).total_seconds())),
                                  call_id=on_call.get(a.user_id))
                for a in agents],
        monitor=WallboardMonitorOut(id=mine.id, call_id=mine.call_id, mode=mine.mode.value,
                                    mode_label=t(MONITOR_MODE_LABELS[mine.mode.value])) if mine else None,
    )


@view_config(route_name="reports.wallboard", renderer="ecti:reports/templates/wallboard.jinja2", permission=PERMISSION, request_method="GET")
def wallboard_page(request):
    data = board(request)
    t = request.localizer.translate
    config = {
        "url": request.route_url("api.reports.wallboard"), "interval": POLL_MS,
        "levels": {k: t(v) for k, v in LEVEL_LABELS.items()},
        "monitor_url": request.route_url("api.acd.monitor"),
        "modes": {k: t(v) for k, v in MONITOR_MODE_LABELS.items()},
        "texts": {
            "answer": t(_("Answer the call on your softphone to start: ${mode}")),
            "now": t(_("You are in the call: ${mode}")),
            "left": t(_("You left the call.")),
            "failed": t(_("Could not do this: ${error}")),
            "group": t(_("Monitor the call of ${name}")),
            "leave": t(_("Leave")),
        },
    }
    return {
        "board": data,
        "status_labels": {s: t(STATUS_LABELS[s]) for s in STATUSES if s != "offline"},
        "mode_labels": {k: t(v) for k, v in MONITOR_MODE_LABELS.items()},
        "level_labels": config["levels"],
        "hms": hms,
        # Read by static/wallboard.js; "<" escaped so the JSON cannot end the element early.
        "initial_json": data.model_dump_json().replace("<", "\\u003c"),
        "config_json": json.dumps(config, ensure_ascii=False).replace("<", "\\u003c"),
    }


@api_view("api.reports.wallboard", method="GET", summary="Live wallboard: calls waiting per queue, longest wait, today's figures and service level "
          "(callers still waiting past the threshold included), colour thresholds and levels, agents by status with time in state",
          permission=PERMISSION, response=WallboardOut, tags=TAGS)
def api_wallboard(request):
    return board(request)
