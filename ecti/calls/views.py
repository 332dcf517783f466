"""The conversation list (会話一覧) and a call's page in the console, and the same in the JSON API."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.i18n import TranslationString
from pyramid.view import view_config
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..i18n import _
from ..recordings.services import may_delete, may_listen
from ..telephony.numbering import display_number
from ..tenancy.models import Role, User
from ..web import get_or_404, tenant_zone
from .listing import MAX_PAGE_SIZE, PAGE_SIZE, CallFilter, FilterError, list_calls, may_see_all_calls, parse_filters, visible
from .models import Call, CallAgent, CallEvent, CallOutcome, Direction, EventKind, Recording

TAGS = ("calls",)

OUTCOME_LABELS = {
    CallOutcome.answered: _("Answered"),
    CallOutcome.voicemail: _("Voicemail"),
    CallOutcome.forwarded: _("Forwarded"),
    CallOutcome.abandoned: _("Abandoned"),
    CallOutcome.timed_out: _("Timed out in the queue"),
    CallOutcome.overflowed: _("Overflowed"),
    CallOutcome.refused: _("Not accepted"),
    CallOutcome.ivr: _("Ended in the IVR"),
    CallOutcome.busy: _("Busy"),
    CallOutcome.no_answer: _("No answer"),
    CallOutcome.failed: _("Not connected"),
    CallOutcome.canceled: _("Canceled"),
}

EVENT_LABELS = {
    EventKind.started: _("Call started"),
    EventKind.status: _("Carrier status"),
    EventKind.flow_step: _("Call flow step"),
    EventKind.refused: _("Not accepted"),
    EventKind.entered_queue: _("Entered the queue"),
    EventKind.offered: _("Offered to an agent"),
    EventKind.no_answer: _("Agent did not answer"),
    EventKind.connected: _("Agent answered"),
    EventKind.held: _("Put on hold"),
    EventKind.resumed: _("Taken off hold"),
    EventKind.transferred: _("Transferred"),
    EventKind.abandoned: _("Caller hung up while waiting"),
    EventKind.timed_out: _("Waited the queue's maximum"),
    EventKind.overflowed: _("Sent to the overflow"),
    EventKind.exit_empty: _("Left the queue: nobody signed in"),
    EventKind.offer_canceled: _("Offer withdrawn"),
    EventKind.queue_completed: _("Conversation ended"),
    EventKind.reconciled: _("Repaired a lost carrier report"),
    EventKind.voicemail: _("Voicemail left"),
    EventKind.recording: _("Recording made"),
    EventKind.dial_ended: _("Outgoing call ended"),
    EventKind.callback_requested: _("Caller asked to be called back"),
    EventKind.callback_dialed: _("Calling the customer back"),
    EventKind.callback_no_answer: _("Customer did not answer the callback"),
    EventKind.callback_reached: _("Customer answered the callback"),
    EventKind.completed: _("Call ended"),
}

DIRECTION_LABELS = {"inbound": _("Incoming"), "outbound": _("Outgoing")}

#: What the carrier said of the call (``status`` events) or of a dial (``dial_ended``).
CARRIER_STATUS_LABELS = {
    "queued": _("Waiting at the carrier"), "initiated": _("Dialling"), "ringing": _("Ringing"), "in-progress": _("Talking"),
    "answered": _("Answered"), "completed": _("Ended"), "busy": _("Busy"), "failed": _("Not connected"),
    "no-answer": _("No answer"), "canceled": _("Canceled"),
}
#: Why something happened (``reason`` of an event): schedules, the ACD, refusals.
REASON_LABELS = {
    "holiday": _("Holiday"), "closure": _("Company closure"), "open": _("In business hours"),
    "closed_day": _("No business hours on this weekday"), "outside_hours": _("Outside business hours"),
    "max_wait": _("Waited the queue's maximum"), "queue_full": _("The queue was full"), "no_agents": _("Nobody signed in"),
    "entered_other_queue": _("Moved to another queue"), "phone_not_joined": _("The agent's phone did not connect"),
    "declined": _("Declined"), "no_answer": _("No answer"), "canceled": _("Withdrawn"), "failed": _("Not connected"),
    "unknown_number": _("Number not set up"), "no_flow": _("No call flow assigned"), "tenant_suspended": _("Company suspended"),
    "caller_id_not_owned": _("Caller ID not the company's"), "unknown_queue": _("Queue not found"),
}
#: Who ended something (``by``), and what a recording was of (``purpose``).
BY_LABELS = {"caller": _("by the caller"), "agent": _("by the agent"), "system": _("by the system")}
PURPOSE_LABELS = {"call": _("Conversation"), "voicemail": _("Voicemail")}
#: Branches of a flow step besides the exits (a menu waiting for a key).
STEP_LABELS = {"prompt": _("Waiting for a key"), "invalid": _("Wrong key"), "no_input": _("No key pressed")}


display = display_number  # the templates' ``phone`` filter (anonymous, client:…: as the carrier gave it)


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def recording_url(request, recording: Recording) -> str | None:
    """Where this user plays the recording, or None when it cannot be played or they may not hear it."""
    if not recording.playable or not may_listen(request, recording):
        return None
    return request.route_url("recording_media", id=recording.id)


def recording_note(recording: Recording) -> TranslationString | None:
    """Why a recording cannot be played, in words (None: it can be, and has sound).

    One sentence instead of a length of 0:00 next to "not available": an empty recording
    (Twilio's ``absent``, or completed with no length) stays empty, so it says so."""
    if recording.deleted_at is not None:
        return _("Deleted.")
    if recording.status == "failed":
        return _("The carrier could not record this call.")
    if recording.status == "absent" or (recording.status == "completed" and not recording.duration_seconds):
        return _("Empty recording: nothing was recorded.")
    if recording.status != "completed":
        return _("Not available yet: the carrier is still preparing it.")
    return None


def _names(request, user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(request.db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _queue_names(request, queue_ids) -> dict[int, str]:
    from ..acd.models import Queue

    ids = {i for i in queue_ids if i is not None}
    if not ids:
        return {}
    return dict(request.db.execute(select(Queue.id, Queue.name).where(Queue.id.in_(ids))).all())


def _page(request, query: CallQuery | None = None):
    """The filters and one page of calls; an agent's list is their own calls."""
    if query is not None:
        filters, after, before, limit = query.filters(), query.after, query.before, query.limit
    else:
        filters = parse_filters(request.params)
        after, before = request.params.get("after") or None, request.params.get("before") or None
        try:
            limit = int(request.params.get("limit", "") or PAGE_SIZE)
        except ValueError:
            limit = PAGE_SIZE
    if not may_see_all_calls(request):
        filters.own_user_id = request.identity.id
    return list_calls(request.db, filters, tenant_zone(request), after=after, before=before, limit=limit)


def _call_for(request) -> Call:
    call = get_or_404(request, Call, request.matchdict["id"])
    if not visible(request, call):
        raise HTTPNotFound()  # an agent asks for a call that is not theirs: as if it did not exist
    return call


# --- console ----------------------------------------------------------------------------------

@view_config(route_name="calls", renderer="ecti:calls/templates/calls.jinja2", permission="softphone")
def calls_page(request):
    from ..acd.models import Queue
    from ..dispositions.services import codes as disposition_codes

    error, page = None, None
    try:
        page = _page(request)
    except FilterError as err:
        error = err
        request.response.status_int = 422
    calls = page.calls if page else []
    everyone = may_see_all_calls(request)
    agents = request.db.scalars(
        select(User).where(User.role != Role.operator, User.is_active.is_(True)).order_by(User.display_name)
    ).all() if everyone else []
    return {
        "page": page, "calls": calls, "error": error, "params": request.params, "everyone": everyone,
        "agents": agents, "queues": request.db.scalars(select(Queue).order_by(Queue.name)).all(),
        "agent_names": _names(request, [c.agent_user_id for c in calls]),
        "queue_names": _queue_names(request, [c.queue_id for c in calls]),
        "outcomes": OUTCOME_LABELS, "directions": DIRECTION_LABELS, "display": display, "duration": duration,
        "query": page.filters.query_params() if page else {},
        "dispositions": disposition_codes(request.db, include_inactive=True),
    }


@view_config(route_name="call", renderer="ecti:calls/templates/call.jinja2", permission="softphone")
def call_page(request):
    from ..ivr.models import VoicemailMessage

    call = _call_for(request)
    events = request.db.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.at, CallEvent.id)).all()
    recordings = request.db.scalars(select(Recording).where(Recording.call_id == call.id).order_by(Recording.id)).all()
    voicemails = request.db.scalars(select(VoicemailMessage).where(VoicemailMessage.call_id == call.id).order_by(VoicemailMessage.id)).all()
    agents = request.db.scalars(select(CallAgent).where(CallAgent.call_id == call.id).order_by(CallAgent.id)).all()
    # One contact: a queued callback's legs and the call that asked for it (issue 24).
    related = request.db.scalars(select(Call).where(Call.parent_call_id == call.id).order_by(Call.id)).all()
    parent = request.db.get(Call, call.parent_call_id) if call.parent_call_id else None
    related = [c for c in ([parent] if parent else []) + list(related) if visible(request, c)]
    return {
        "related": related, "parent_id": call.parent_call_id,
        "call": call, "events": events, "event_labels": EVENT_LABELS, "recordings": recordings, "voicemails": voicemails,
        "recording_url": lambda r: recording_url(request, r), "may_delete": lambda r: may_delete(request, r), "agents": agents,
        "recording_note": recording_note,
        "names": _names(request, [a.user_id for a in agents] + [call.agent_user_id]),
        "queue_names": _queue_names(request, [call.queue_id]),
        "outcomes": OUTCOME_LABELS, "directions": DIRECTION_LABELS, "display": display, "duration": duration,
        "describe": lambda e: describe(request, e),
        "step_words": lambda step: flow_step_words(request, step),
    }


def flow_step_words(request, step: dict) -> tuple[str | None, str | None]:
    """(node type, branch) of a flow step by their labels: ``("営業時間", "営業時間内")``."""
    from ..ivr.forms import exit_label
    from ..ivr.schedules import BRANCH_LABELS

    say = request.localizer.translate
    node_type = request.registry.ecti.ivr_node_types.get(step.get("type"))
    branch = step.get("branch")
    branch_label = (BRANCH_LABELS.get(branch) or STEP_LABELS.get(branch) or exit_label(branch)) if branch else None
    return (say(node_type.label) if node_type is not None else None, say(branch_label) if branch_label else None)


def describe(request, event: CallEvent) -> str:
    """A short detail of an event for the timeline (queue, agent, branch, reason …)."""
    data = event.data or {}
    parts = []
    say = request.localizer.translate
    if event.kind in (EventKind.status, EventKind.dial_ended) and data.get("status") in CARRIER_STATUS_LABELS:
        parts.append(say(CARRIER_STATUS_LABELS[data["status"]]))
    if event.kind is EventKind.flow_step:
        parts.extend(str(data[k]) for k in ("flow_name", "node") if data.get(k))  # named by the admin
        node_type, branch = flow_step_words(request, data)
        parts.extend(w for w in (node_type, "→ " + branch if branch else None) if w)
    if data.get("queue") is not None and event.kind is not EventKind.refused:
        name = _queue_names(request, [data["queue"]]).get(data["queue"]) if isinstance(data["queue"], int) else None
        parts.append(name or str(data["queue"]))
    for key in ("agent", "from_agent"):
        if isinstance(data.get(key), int):
            parts.append(_names(request, [data[key]]).get(data[key], f"#{data[key]}"))
    # Codes are shown by their label; a code without one is left out rather than shown raw.
    for key, labels in (("reason", REASON_LABELS), ("by", BY_LABELS), ("purpose", PURPOSE_LABELS)):
        if data.get(key) in labels:
            parts.append(say(labels[data[key]]))
    if data.get("box_name"):
        parts.append(str(data["box_name"]))
    if data.get("wait_seconds") is not None:
        parts.append(request.localizer.translate(_("waited ${time}", mapping={"time": duration(data["wait_seconds"])})))
    return " · ".join(parts)


# --- API --------------------------------------------------------------------------------------

class CallOut(BaseModel):
    id: int
    direction: Literal["inbound", "outbound"]
    #: A queued callback's leg: the call whose caller asked to be called back (one contact).
    parent_call_id: int | None = None
    from_number: str
    to_number: str
    from_display: str
    to_display: str
    tenant_number: str | None
    status: str
    outcome: Literal[tuple(o.value for o in CallOutcome)] | None  # type: ignore[valid-type]
    started_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    wait_seconds: int | None
    talk_seconds: int | None
    hold_seconds: int | None
    wrap_up_seconds: int | None
    queue_id: int | None
    queue_name: str | None
    agent_user_id: int | None
    agent_name: str | None
    has_recording: bool
    has_voicemail: bool
    crm_record_ids: dict[str, str]
    disposition: str | None = Field(None, description="The disposition code chosen at wrap-up")
    disposition_label: str | None = Field(None, description="Its label when it was chosen")
    wrap_up_note: str | None = Field(None, description="The agent's note")


class CallList(BaseModel):
    calls: list[CallOut]
    #: Give as ``?after=`` for the next (older) page / ``?before=`` for the previous (newer) one.
    next_cursor: str | None
    previous_cursor: str | None


class EventOut(BaseModel):
    kind: str
    label: str
    at: datetime
    data: dict[str, Any]


class RecordingOut(BaseModel):
    id: int
    status: str
    purpose: str
    duration_seconds: int | None
    created_at: datetime
    media_url: str | None


class CallAgentOut(BaseModel):
    user_id: int
    name: str | None
    offered: bool
    answered: bool
    transferred: bool
    placed: bool


class CallDetail(CallOut):
    flow_path: list[dict[str, Any]]
    agents: list[CallAgentOut]
    events: list[EventOut]
    recordings: list[RecordingOut]


def call_out(call: Call, agent_names: dict[int, str], queue_names: dict[int, str], cls=CallOut, **extra):
    return cls(
        id=call.id, parent_call_id=call.parent_call_id, direction=call.direction.value, from_number=call.from_number, to_number=call.to_number,
        from_display=display(call.from_number), to_display=display(call.to_number), tenant_number=call.tenant_number,
        status=call.status.value, outcome=call.outcome.value if call.outcome else None, started_at=call.started_at,
        queued_at=call.queued_at, answered_at=call.answered_at, connected_at=call.connected_at, ended_at=call.ended_at,
        duration_seconds=call.duration_seconds, wait_seconds=call.wait_seconds, talk_seconds=call.talk_seconds,
        hold_seconds=call.hold_seconds, wrap_up_seconds=call.wrap_up_seconds, queue_id=call.queue_id,
        queue_name=queue_names.get(call.queue_id), agent_user_id=call.agent_user_id, agent_name=agent_names.get(call.agent_user_id),
        has_recording=call.has_recording, has_voicemail=call.has_voicemail, crm_record_ids=call.crm_record_ids or {},
        disposition=call.disposition, disposition_label=call.disposition_label, wrap_up_note=call.wrap_up_note, **extra,
    )


class CallQuery(BaseModel):
    """The conversation list's filters and paging, as query parameters (the same as the page's)."""

    model_config = ConfigDict(populate_by_name=True)

    start: date | None = Field(None, alias="from", description="Calls started on or after this day (YYYY-MM-DD, the company's time zone)")
    to: date | None = Field(None, description="Calls started on or before this day (YYYY-MM-DD)")
    direction: Literal["inbound", "outbound"] | None = Field(None, description="Incoming or outgoing calls")
    agent: int | None = Field(None, description="Calls this agent (user id) took part in")
    queue: int | None = Field(None, description="Calls that went through this queue (id)")
    number: str | None = Field(None, description="At least two digits of the other party's number: 090-1234 (the start) or 5678 (anywhere)")
    outcome: Literal[tuple(o.value for o in CallOutcome)] | None = Field(None, description="How the call ended")
    disposition: str | None = Field(None, max_length=40, description="The disposition code chosen at wrap-up (\"-\": calls without one)")
    after: str | None = Field(None, description="Cursor: the page of older calls (next_cursor of the previous page)")
    before: str | None = Field(None, description="Cursor: the page of newer calls (previous_cursor)")
    limit: int = Field(PAGE_SIZE, ge=1, description=f"Calls per page (at most {MAX_PAGE_SIZE})")

    @model_validator(mode="before")
    @classmethod
    def _specific_errors(cls, data):
        """Bad filters get the same specific message and code (422) as on the page."""
        if not isinstance(data, dict):
            return data
        f = parse_filters(data)
        out = {k: v for k, v in data.items() if k in ("after", "before", "limit") and v not in ("", None)}
        out.update({"from": f.start, "to": f.end, "direction": f.direction.value if f.direction else None, "agent": f.agent_id,
                    "queue": f.queue_id, "number": f.number, "outcome": f.outcome.value if f.outcome else None,
                    "disposition": f.disposition})
        return out

    def filters(self) -> CallFilter:
        return CallFilter(start=self.start, end=self.to, direction=Direction(self.direction) if self.direction else None,
                          agent_id=self.agent, queue_id=self.queue, number=self.number,
                          outcome=CallOutcome(self.outcome) if self.outcome else None, disposition=self.disposition)


@api_view("api.calls", method="GET",
          summary="The conversation list: calls newest first, filtered and paged by the query parameters",
          permission="softphone", response=CallList, tags=TAGS, errors=(422,), query=CallQuery)
def api_calls(request, query: CallQuery):
    page = _page(request, query)
    return CallList(
        calls=[call_out(c, _names(request, [x.agent_user_id for x in page.calls]), _queue_names(request, [x.queue_id for x in page.calls]))
               for c in page.calls],
        next_cursor=page.next, previous_cursor=page.previous,
    )


@api_view("api.call", method="GET", summary="One call: its record, the agents in it, its events and recordings",
          permission="softphone", response=CallDetail, tags=TAGS, errors=(404,))
def api_call(request):
    call = _call_for(request)
    translate = request.localizer.translate
    events = request.db.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.at, CallEvent.id)).all()
    recordings = request.db.scalars(select(Recording).where(Recording.call_id == call.id).order_by(Recording.id)).all()
    agents = request.db.scalars(select(CallAgent).where(CallAgent.call_id == call.id).order_by(CallAgent.id)).all()
    names = _names(request, [a.user_id for a in agents] + [call.agent_user_id])
    return call_out(
        call, names, _queue_names(request, [call.queue_id]), cls=CallDetail, flow_path=call.flow_path or [],
        agents=[CallAgentOut(user_id=a.user_id, name=names.get(a.user_id), offered=a.offered, answered=a.answered,
                             transferred=a.transferred, placed=a.placed) for a in agents],
        events=[EventOut(kind=e.kind.value, label=translate(EVENT_LABELS[e.kind]), at=e.at, data=e.data or {}) for e in events],
        recordings=[RecordingOut(id=r.id, status=r.status, purpose=r.purpose, duration_seconds=r.duration_seconds,
                                 created_at=r.created_at, media_url=recording_url(request, r)) for r in recordings],
    )


def includeme(config):
    config.add_route("calls", "/calls")
    config.add_route("call", "/calls/{id:\\d+}")
    config.add_route("api.calls", f"{API_PREFIX}/calls")
    config.add_route("api.call", f"{API_PREFIX}/calls/{{id:\\d+}}")
    config.add_console_nav("calls", _("Conversation list"), group="calls", permission="softphone", order=10)

