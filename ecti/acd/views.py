"""The ACD's JSON API (the softphone's and the supervisor's) and the console's queue pages."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, select

from ..api import API_PREFIX, PatchModel, api_view
from ..calls.models import Call
from ..errors import UserError
from ..i18n import _
from ..ivr.models import Schedule
from ..models.meta import utcnow
from ..telephony.numbering import display_number
from ..tenancy.models import Role, User
from ..web import get_or_404
from . import control, monitoring, phone
from .agents import agent_or_offline, dialer_work_open, end_wrap_up, live_status, set_presence
from .models import (
    MONITOR_MODE_LABELS, STATUS_LABELS, Agent, AgentState, MonitorSession, EntryStatus, Offer, OfferStatus, Presence, Queue, QueueEntry, QueueMember,
)
from .queues import OVERFLOW_KINDS, WALLBOARD_DEFAULTS, WALLBOARD_FIELDS, MemberSetting, QueueSettings, delete_queue, find_queue, live_queues, save_queue, set_members
from .routing import accept, decline

TAGS = ("acd",)
#: What the agent's phone says while a supervisor is on the call.
MONITORED_LABELS = {"listen": _("Being monitored"), "coach": _("Being coached"), "barge": _("Supervisor joined")}


# --- models -------------------------------------------------------------------------------------

class OfferOut(BaseModel):
    id: int
    kind: Literal["queue", "transfer"]
    call_id: int
    caller_number: str
    caller_display: str
    queue_id: int
    queue_name: str
    wait_seconds: int
    offered_at: datetime
    expires_at: datetime
    from_agent_id: int | None
    #: A queued callback (issue 24): answering calls the customer at ``caller_number``.
    callback: bool = False


class CurrentCallOut(BaseModel):
    call_id: int
    caller_number: str
    caller_display: str
    queue_id: int
    queue_name: str
    connected_at: datetime | None
    on_hold: bool
    hold_seconds: int
    transfer_ringing_to: int | None
    #: A queued callback: the agent is calling, or talking to, the customer at ``caller_number``.
    callback: bool = False
    #: A supervisor on this call, as the agent is told: listen (unless the company hides it),
    #: coach or barge; None when nobody (or nobody shown) is monitoring.
    monitored: Literal["listen", "coach", "barge"] | None = None
    monitored_label: str | None = None


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: int
    mode: str = Field(max_length=16)


class MonitorModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: str = Field(max_length=16)


class MonitorOut(BaseModel):
    id: int
    call_id: int
    agent_user_id: int | None
    mode: Literal["listen", "coach", "barge"]
    mode_label: str
    started_at: datetime
    ended_at: datetime | None


class MonitorList(BaseModel):
    sessions: list[MonitorOut]


class MonitorSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen_visible: bool


class MonitorSettingsOut(BaseModel):
    listen_visible: bool


class AgentMe(BaseModel):
    user_id: int
    display_name: str
    presence: Literal["offline", "available", "away", "after_call_work", "disconnected"]
    away_reason: str | None
    #: Why the phone is disconnected (a sentence), or why the agent came back 離席中.
    presence_note: str | None = None
    state: Literal["idle", "ringing", "on_call", "wrap_up"]
    status: str
    status_label: str
    status_since: datetime
    wrap_up_until: datetime | None
    offer: OfferOut | None
    call: CurrentCallOut | None


class OfferEnvelope(BaseModel):
    offer: OfferOut | None


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presence: Literal["offline", "available", "away", "after_call_work"]
    reason: str | None = Field(default=None, max_length=100)


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: What the phone's device says: registered (ready to ring) or unregistered.
    device: Literal["registered", "unregistered"] = "registered"
    #: An id of this page load: a new one means the phone was reopened.
    page: str | None = Field(default=None, max_length=40)


class HeartbeatOut(BaseModel):
    connected: bool
    #: What the heartbeat did to the presence: restored, away (back too late), disconnected.
    presence_changed: Literal["restored", "away", "disconnected"] | None
    interval_seconds: int
    timeout_seconds: int


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["agent", "queue", "number"]
    agent_id: int | None = None
    queue_id: int | None = None
    number: str | None = Field(default=None, max_length=40)


class TransferOut(BaseModel):
    kind: Literal["agent", "queue", "number"]
    status: Literal["ringing", "transferred"]
    to: str


class AgentSummary(BaseModel):
    user_id: int
    display_name: str
    presence: str
    status: str
    status_label: str
    status_since: datetime
    away_reason: str | None
    #: While disconnected: why (the tab was closed, the phone stopped responding, …).
    disconnect_reason: str | None = None
    #: The queue call the agent is on (what a supervisor can monitor: ``POST monitor``).
    call_id: int | None = None


class AgentList(BaseModel):
    agents: list[AgentSummary]


class QueueWaiting(BaseModel):
    id: int
    name: str
    waiting: int
    longest_wait_seconds: int
    agents_logged_in: int
    agents_available: int


class QueueWaitingList(BaseModel):
    queues: list[QueueWaiting]


class Overflow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["hangup", "voicemail", "queue", "flow", "number"] = "hangup"
    target: str | None = Field(default=None, max_length=100)


class QueueFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(default="longest_idle", max_length=64)
    ring_timeout: int = 20
    wrap_up_seconds: int = 30
    escalation_seconds: int = 30
    max_wait_seconds: int | None = None
    max_length: int | None = None
    overflow: Overflow = Overflow()
    join_when_empty: bool = False
    leave_when_empty: bool = True
    max_no_answers: int = 3
    service_level_seconds: int = 20
    hold_audio: dict[str, Any] = {}
    announce_seconds: int = 60
    announce_position: bool = True
    announce_wait: bool = True
    callback_enabled: bool = Field(default=False, description="Callers may press callback_key to be called back, keeping their place")
    callback_key: str = Field(default="9", min_length=1, max_length=1)
    callback_retry_seconds: int = Field(default=600, description="Seconds before an unanswered callback is tried again")
    callback_attempts: int = Field(default=3, description="Callback attempts in all")
    callback_schedule_id: int | None = Field(default=None, description="The IVR schedule callbacks are placed within (null: any time)")
    wallboard_waiting_amber: int = Field(default=WALLBOARD_DEFAULTS["waiting"][0], description="Wallboard: amber from this many calls waiting")
    wallboard_waiting_red: int = Field(default=WALLBOARD_DEFAULTS["waiting"][1], description="Wallboard: red from this many calls waiting")
    wallboard_wait_amber: int = Field(default=WALLBOARD_DEFAULTS["wait"][0], description="Wallboard: amber once the oldest caller has waited this many seconds")
    wallboard_wait_red: int = Field(default=WALLBOARD_DEFAULTS["wait"][1], description="Wallboard: red once the oldest caller has waited this many seconds")
    wallboard_service_level_amber: int = Field(default=WALLBOARD_DEFAULTS["service_level"][0], description="Wallboard: amber when today's service level (%) is below this")
    wallboard_service_level_red: int = Field(default=WALLBOARD_DEFAULTS["service_level"][1], description="Wallboard: red when today's service level (%) is below this")


class QueueIn(QueueFields):
    name: str = Field(min_length=1, max_length=100)


class QueuePatch(PatchModel):
    """Only the fields sent change; null empties the maximum wait or length (no limit)."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset({"max_wait_seconds", "max_length", "callback_schedule_id"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    strategy: str | None = Field(default=None, max_length=64)
    ring_timeout: int | None = None
    wrap_up_seconds: int | None = None
    escalation_seconds: int | None = None
    max_wait_seconds: int | None = None
    max_length: int | None = None
    overflow: Overflow | None = None
    join_when_empty: bool | None = None
    leave_when_empty: bool | None = None
    max_no_answers: int | None = None
    service_level_seconds: int | None = None
    hold_audio: dict[str, Any] | None = None
    announce_seconds: int | None = None
    announce_position: bool | None = None
    announce_wait: bool | None = None
    callback_enabled: bool | None = None
    callback_key: str | None = Field(default=None, min_length=1, max_length=1)
    callback_retry_seconds: int | None = None
    callback_attempts: int | None = None
    callback_schedule_id: int | None = None
    wallboard_waiting_amber: int | None = None
    wallboard_waiting_red: int | None = None
    wallboard_wait_amber: int | None = None
    wallboard_wait_red: int | None = None
    wallboard_service_level_amber: int | None = None
    wallboard_service_level_red: int | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    level: int = 1
    position: int | None = None


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[MemberIn] = Field(max_length=10000)


class MemberOut(BaseModel):
    user_id: int
    display_name: str
    level: int
    position: int


class QueueOut(QueueFields):
    id: int
    name: str
    members: list[MemberOut]


class QueueList(BaseModel):
    queues: list[QueueOut]


# --- helpers ------------------------------------------------------------------------------------

def _label(request, status: str) -> str:
    return request.localizer.translate(STATUS_LABELS.get(status, status))


def _offer_out(request, offer: Offer) -> OfferOut:
    entry = offer.entry
    call = request.db.get(Call, offer.call_id)
    number = entry.callback_number or call.from_number
    return OfferOut(
        callback=entry.callback_number is not None,
        id=offer.id, kind=offer.kind, call_id=call.id, caller_number=number, caller_display=_display(number),
        queue_id=entry.queue_id, queue_name=entry.queue.name, wait_seconds=max(0, int((utcnow() - entry.entered_at).total_seconds())),
        offered_at=offer.offered_at, expires_at=offer.expires_at, from_agent_id=offer.from_user_id,
    )


_display = display_number


def _current_call(request, user: User) -> CurrentCallOut | None:
    entry = request.db.scalar(
        select(QueueEntry).where(QueueEntry.agent_user_id == user.id, QueueEntry.status == EntryStatus.connected).order_by(QueueEntry.id.desc())
    )
    if entry is None:
        return None
    call = request.db.get(Call, entry.call_id)
    pending = request.db.scalar(select(Offer.user_id).where(Offer.entry_id == entry.id, Offer.status == OfferStatus.ringing))
    watched = monitoring.monitored_mode(request, user, call.id)
    return CurrentCallOut(
        monitored=watched, monitored_label=request.localizer.translate(MONITORED_LABELS[watched]) if watched else None,
        call_id=call.id, caller_number=entry.callback_number or call.from_number,
        caller_display=_display(entry.callback_number or call.from_number), callback=entry.callback_number is not None,
        queue_id=entry.queue_id, queue_name=entry.queue.name, connected_at=entry.connected_at, on_hold=entry.on_hold, hold_seconds=entry.hold_seconds,
        transfer_ringing_to=pending,
    )


def _ringing(request, user: User) -> Offer | None:
    return request.db.scalar(select(Offer).where(Offer.user_id == user.id, Offer.status == OfferStatus.ringing))


def _away_reason(request, agent: Agent) -> str | None:
    """The away reason as people read it (the system's own reasons are codes)."""
    if agent.presence is not Presence.away or not agent.away_reason:
        return agent.away_reason if agent.presence is Presence.away else None
    label = phone.AWAY_REASON_LABELS.get(agent.away_reason)
    return request.localizer.translate(label) if label else agent.away_reason


def _presence_note(request, agent: Agent) -> str | None:
    translate = request.localizer.translate
    if agent.presence is Presence.disconnected:
        return translate(phone.REASON_LABELS.get(agent.disconnect_reason or "phone_lost", phone.REASON_LABELS["phone_lost"]))
    if agent.presence is Presence.away and agent.away_reason == phone.AWAY_AFTER_DISCONNECT:
        minutes = int(phone.phone_settings(request.registry).restore.total_seconds() // 60)
        return translate(_("Your phone was disconnected for more than ${minutes} min, so you are back as Away. "
                           "Choose Available when you are ready.", mapping={"minutes": minutes}))
    return None


def _me(request, user: User | None = None) -> AgentMe:
    user = user or request.identity
    agent = agent_or_offline(request, user.id)
    status = live_status(agent)
    offer = _ringing(request, user)
    over = agent.state is AgentState.wrap_up and status != "wrap_up"  # ended by the clock, not yet written
    return AgentMe(
        user_id=user.id, display_name=user.display_name, presence=agent.presence.value, away_reason=_away_reason(request, agent),
        presence_note=_presence_note(request, agent),
        state="idle" if over else agent.state.value, status=status, status_label=_label(request, status),
        status_since=agent.available_at if over else agent.status_since,
        wrap_up_until=agent.available_at if status == "wrap_up" else None,
        offer=_offer_out(request, offer) if offer else None, call=_current_call(request, user),
    )


def _or_outbound(request, user: User, inbound, outbound):
    """A queue call's operation, or the same on the outgoing call the agent placed (issue 18)."""
    from ..softphone import outbound as out

    try:
        return inbound()
    except control.NoCall as err:
        if err.code != "no_call":
            raise
        call = out.live_call(request, user)
        if call is None:
            raise
        return outbound(out, call)


def _softphone_user(request) -> User:
    user = request.identity
    if user.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    return user


# --- agent-facing API ---------------------------------------------------------------------------

@api_view("api.acd.me", method="GET", summary="My presence, routing state, ringing offer and current call",
          permission="softphone", response=AgentMe, tags=TAGS)
def api_acd_me(request):
    return _me(request, _softphone_user(request))


@api_view("api.acd.presence", method="PUT", summary="Set my presence (available, away with a reason, after-call work, offline)",
          permission="softphone", body=PresenceIn, response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_set_presence(request, body: PresenceIn):
    user = _softphone_user(request)
    set_presence(request, user, Presence(body.presence), reason=(body.reason or "").strip() or None)
    return _me(request, user)


@api_view("api.acd.heartbeat", method="POST", summary="My phone is there (every few seconds) or its device is unregistered",
          permission="softphone", body=HeartbeatIn, response=HeartbeatOut, tags=TAGS)
def api_acd_heartbeat(request, body: HeartbeatIn):
    user = _softphone_user(request)
    changed = phone.heartbeat(request, user.id, registered=body.device == "registered", page=body.page)
    cfg = phone.phone_settings(request.registry)
    return HeartbeatOut(connected=body.device == "registered", presence_changed=changed, interval_seconds=cfg.interval_seconds,
                        timeout_seconds=int(cfg.timeout.total_seconds()))


@api_view("api.acd.heartbeat_gone", method="POST",
          summary="My phone page is going away (sent with navigator.sendBeacon; the CSRF token as the csrf_token form field)",
          permission="softphone", response=HeartbeatOut, tags=TAGS)
def api_acd_heartbeat_gone(request):
    user = _softphone_user(request)
    changed = phone.gone(request, user.id)
    cfg = phone.phone_settings(request.registry)
    return HeartbeatOut(connected=False, presence_changed="disconnected" if changed else None,
                        interval_seconds=cfg.interval_seconds, timeout_seconds=int(cfg.timeout.total_seconds()))


@api_view("api.acd.offer", method="GET", summary="The call ringing for me (caller, queue, wait), if any",
          permission="softphone", response=OfferEnvelope, tags=TAGS)
def api_acd_offer(request):
    offer = _ringing(request, _softphone_user(request))
    return OfferEnvelope(offer=_offer_out(request, offer) if offer else None)


@api_view("api.acd.offer_accept", method="POST", summary="Take the call ringing for me (then answer it on the phone)",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_accept(request):
    user = _softphone_user(request)
    offer = _ringing(request, user)
    if offer is None or accept(request, offer.id, joined=False, user_id=user.id) is None:
        raise UserError("no_offer", _("No call is ringing for you (it may have been answered by someone else)."), status=409)
    return _me(request, user)


@api_view("api.acd.offer_decline", method="POST", summary="Refuse the call ringing for me (counts as not answered)",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_decline(request):
    user = _softphone_user(request)
    offer = _ringing(request, user)
    if offer is None or not decline(request, offer.id, user.id):
        raise UserError("no_offer", _("No call is ringing for you (it may have been answered by someone else)."), status=409)
    return _me(request, user)


@api_view("api.acd.hold", method="POST", summary="Put my caller on hold (they hear the hold audio)",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409, 502))
def api_acd_hold(request):
    user = _softphone_user(request)
    _or_outbound(request, user, lambda: control.hold(request, user, True), lambda out, call: out.hold(request, user, call, True))
    return _me(request, user)


@api_view("api.acd.resume", method="POST", summary="Take my caller back from hold",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409, 502))
def api_acd_resume(request):
    user = _softphone_user(request)
    _or_outbound(request, user, lambda: control.hold(request, user, False), lambda out, call: out.hold(request, user, call, False))
    return _me(request, user)


@api_view("api.acd.hangup", method="POST", summary="End my call (or refuse the one ringing)",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_hangup(request):
    user = _softphone_user(request)
    control.hang_up(request, user)
    return _me(request, user)


@api_view("api.acd.transfer", method="POST", summary="Transfer my call: to an agent (warm), a queue or an external number (blind)",
          permission="softphone", body=TransferIn, response=TransferOut, tags=TAGS, errors=(409, 502))
def api_acd_transfer(request, body: TransferIn):
    user = _softphone_user(request)
    if body.kind == "agent":
        if body.agent_id is None:
            raise UserError("agent_required", _("Choose the agent to transfer to."), field="agent_id", status=422)
        control.transfer_to_agent(request, user, body.agent_id)
        return TransferOut(kind="agent", status="ringing", to=str(body.agent_id))
    if body.kind == "queue":
        if body.queue_id is None:
            raise UserError("queue_required", _("Choose the queue to transfer to."), field="queue_id", status=422)
        control.transfer_to_queue(request, user, body.queue_id)
        return TransferOut(kind="queue", status="transferred", to=str(body.queue_id))
    if not (body.number or "").strip():
        raise UserError("number_required", _("Enter the number to transfer to."), field="number", status=422)
    e164 = _or_outbound(request, user, lambda: control.transfer_to_number(request, user, body.number),
                        lambda out, call: out.transfer(request, user, call, body.number))
    return TransferOut(kind="number", status="transferred", to=e164)


@api_view("api.acd.transfer_cancel", method="POST", summary="Stop a warm transfer that is still ringing",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_transfer_cancel(request):
    user = _softphone_user(request)
    control.cancel_transfer(request, user)
    return _me(request, user)


@api_view("api.acd.wrap_up_end", method="POST", summary="End my wrap-up now (ready for the next call)",
          permission="softphone", response=AgentMe, tags=TAGS, errors=(409,))
def api_acd_end_wrap_up(request):
    user = _softphone_user(request)
    end_wrap_up(request, user)
    return _me(request, user)


@api_view("api.acd.agents", method="GET", summary="The company's agents with their live status",
          permission="softphone", response=AgentList, tags=TAGS)
def api_acd_agents(request):
    now = utcnow()
    rows = request.db.execute(
        select(User, Agent).outerjoin(Agent, Agent.user_id == User.id)
        .where(User.is_active.is_(True), User.role != Role.operator).order_by(User.display_name, User.id)
    ).all()
    on_call = dict(request.db.execute(
        select(QueueEntry.agent_user_id, QueueEntry.call_id).where(QueueEntry.status == EntryStatus.connected)
    ).all())
    out = []
    for user, agent in rows:
        if agent is None:
            out.append(AgentSummary(user_id=user.id, display_name=user.display_name, presence="offline", status="offline",
                                    status_label=_label(request, "offline"), status_since=user.created_at, away_reason=None))
            continue
        status = live_status(agent, now)
        out.append(AgentSummary(
            user_id=user.id, display_name=user.display_name, presence=agent.presence.value, status=status,
            status_label=_label(request, status), status_since=agent.status_since if status == agent.status else agent.available_at,
            away_reason=_away_reason(request, agent),
            disconnect_reason=_presence_note(request, agent) if agent.presence is Presence.disconnected else None,
            call_id=on_call.get(user.id),
        ))
    return AgentList(agents=out)


@api_view("api.acd.agent_presence", method="PUT", summary="Set an agent's presence (supervisors)",
          permission="supervise", body=PresenceIn, response=AgentMe, tags=TAGS, errors=(404, 409))
def api_acd_agent_presence(request, body: PresenceIn):
    user = get_or_404(request, User, request.matchdict["id"])
    set_presence(request, user, Presence(body.presence), reason=(body.reason or "").strip() or None, by=request.identity)
    return _me(request, user)


@api_view("api.acd.waiting", method="GET", summary="Calls waiting in each queue, longest wait and free agents",
          permission="softphone", response=QueueWaitingList, tags=TAGS)
def api_acd_waiting(request):
    now = utcnow()
    timeout = phone.phone_settings(request.registry).timeout
    out = []
    for queue in request.db.scalars(live_queues()).all():
        waiting, oldest = request.db.execute(
            select(func.count(), func.min(QueueEntry.entered_at)).where(
                QueueEntry.queue_id == queue.id, QueueEntry.status.in_((EntryStatus.waiting, EntryStatus.offered)))
        ).one()
        logged_in, available = request.db.execute(
            select(
                func.count(),
                func.count().filter(
                    (Agent.presence == Presence.available) & Agent.state.in_((AgentState.idle, AgentState.wrap_up)) & (Agent.available_at <= now)
                    & phone.phone_connected(now, timeout) & ~dialer_work_open(Agent.user_id)
                ),
            ).select_from(QueueMember).join(Agent, Agent.user_id == QueueMember.user_id)
            .where(QueueMember.queue_id == queue.id, Agent.presence.not_in((Presence.offline, Presence.disconnected)))
        ).one()
        out.append(QueueWaiting(id=queue.id, name=queue.name, waiting=waiting,
                                longest_wait_seconds=max(0, int((now - oldest).total_seconds())) if oldest else 0,
                                agents_logged_in=logged_in, agents_available=available))
    return QueueWaitingList(queues=out)


# --- queues (admins; supervisors read) ----------------------------------------------------------

def _queue_or_404(request) -> Queue:
    """The queue of the URL; archived (deleted) queues are not found."""
    queue = find_queue(request.db, request.matchdict["id"])
    if queue is None:
        raise HTTPNotFound()
    return queue


def queue_out(queue: Queue) -> QueueOut:
    overflow = queue.overflow or {"kind": "hangup"}
    return QueueOut(
        id=queue.id, name=queue.name, strategy=queue.strategy, ring_timeout=queue.ring_timeout, wrap_up_seconds=queue.wrap_up_seconds,
        escalation_seconds=queue.escalation_seconds, max_wait_seconds=queue.max_wait_seconds, max_length=queue.max_length,
        overflow=Overflow(kind=overflow.get("kind", "hangup"), target=overflow.get("target") or None),
        join_when_empty=queue.join_when_empty, leave_when_empty=queue.leave_when_empty, max_no_answers=queue.max_no_answers,
        service_level_seconds=queue.service_level_seconds, hold_audio=queue.hold_audio or {}, announce_seconds=queue.announce_seconds,
        announce_position=queue.announce_position, announce_wait=queue.announce_wait,
        callback_enabled=queue.callback_enabled, callback_key=queue.callback_key,
        callback_retry_seconds=queue.callback_retry_seconds, callback_attempts=queue.callback_attempts,
        callback_schedule_id=queue.callback_schedule_id,
        **{key: getattr(queue, key) for key in WALLBOARD_FIELDS},
        members=[MemberOut(user_id=m.user_id, display_name=m.user.display_name, level=m.level, position=m.position) for m in queue.members],
    )


def _settings(data: dict) -> QueueSettings:
    data = dict(data)
    overflow = data.pop("overflow", None) or {}
    settings = QueueSettings(**data)
    settings.overflow = {k: v for k, v in dict(overflow).items() if v is not None}
    return settings


@api_view("api.acd.queues", method="GET", summary="The company's queues", permission="supervise", response=QueueList, tags=TAGS)
def api_acd_queues(request):
    return QueueList(queues=[queue_out(q) for q in request.db.scalars(live_queues()).all()])


@api_view("api.acd.queues", method="POST", summary="Create a queue", permission="manage", body=QueueIn, response=QueueOut,
          status=201, tags=TAGS, errors=(409,))
def api_acd_queue_create(request, body: QueueIn):
    return queue_out(save_queue(request, _settings(body.model_dump())))


@api_view("api.acd.queue", method="GET", summary="One queue", permission="supervise", response=QueueOut, tags=TAGS, errors=(404,))
def api_acd_queue(request):
    return queue_out(_queue_or_404(request))


@api_view("api.acd.queue", method="PATCH", summary="Change a queue's options", permission="manage", body=QueuePatch,
          response=QueueOut, tags=TAGS, errors=(404, 409))
def api_acd_queue_update(request, body: QueuePatch):
    queue = _queue_or_404(request)
    current = queue_out(queue).model_dump(exclude={"id", "members"})
    current.update(body.model_dump(exclude_unset=True))
    return queue_out(save_queue(request, _settings(current), queue=queue))


@api_view("api.acd.queue", method="DELETE", summary="Delete a queue: it is archived, its history stays (refused while calls are in it or a flow or another queue sends calls to it)", permission="manage",
          status=204, tags=TAGS, errors=(404, 409))
def api_acd_queue_delete(request):
    delete_queue(request, _queue_or_404(request))


@api_view("api.acd.queue_members", method="PUT", summary="Replace a queue's members (levels and order)", permission="manage",
          body=MembersIn, response=QueueOut, tags=TAGS, errors=(404,))
def api_acd_queue_members(request, body: MembersIn):
    queue = _queue_or_404(request)
    set_members(request, queue, [MemberSetting(m.user_id, m.level, m.position) for m in body.members])
    return queue_out(queue)


# --- console ------------------------------------------------------------------------------------

FORM_INTS = ("ring_timeout", "wrap_up_seconds", "escalation_seconds", "max_no_answers", "service_level_seconds", "announce_seconds",
             "callback_retry_seconds", "callback_attempts", *WALLBOARD_FIELDS)
FORM_OPTIONAL_INTS = ("max_wait_seconds", "max_length", "callback_schedule_id")
FORM_BOOLS = ("join_when_empty", "leave_when_empty", "announce_position", "announce_wait", "callback_enabled")


def _form_settings(post) -> QueueSettings:
    data: dict[str, Any] = {"name": post.get("name", ""), "strategy": post.get("strategy", "longest_idle")}
    for key in FORM_INTS + FORM_OPTIONAL_INTS:
        raw = post.get(key, "").strip()
        if not raw and key in FORM_OPTIONAL_INTS:
            data[key] = None
            continue
        try:
            data[key] = int(raw)
        except ValueError:
            raise UserError("not_a_number", _("Enter a whole number."), field=key, status=422)
    for key in FORM_BOOLS:
        data[key] = post.get(key) == "1"
    data["callback_key"] = post.get("callback_key", "9").strip()
    text = post.get("hold_text", "").strip()
    data["hold_audio"] = {"text": text} if text else {}
    settings = QueueSettings(**data)
    settings.overflow = {"kind": post.get("overflow_kind", "hangup"), "target": post.get("overflow_target", "").strip()}
    return settings


def _page(request, *, queue=None, form=None, errors=None):
    users = request.db.scalars(select(User).where(User.is_active.is_(True), User.role != Role.operator).order_by(User.display_name)).all()
    return {
        "queues": request.db.scalars(live_queues()).all(),
        "queue": queue,
        "form": form or {},
        "errors": errors or {},
        "strategies": sorted(request.registry.ecti.routing_strategies.values(), key=lambda s: s.name),
        "registry_strategies": request.registry.ecti.routing_strategies,
        "overflow_kinds": OVERFLOW_KINDS,
        "users": users,
        "schedules": request.db.scalars(select(Schedule).order_by(Schedule.name)).all(),
    }


def _form_of(queue: Queue | None) -> dict:
    if queue is None:
        return {}
    out = queue_out(queue).model_dump()
    out["overflow_kind"] = out["overflow"]["kind"]
    out["overflow_target"] = out["overflow"]["target"] or ""
    out["hold_text"] = (queue.hold_audio or {}).get("text", "")
    return out


@view_config(route_name="admin.queues", renderer="ecti:acd/templates/queues.jinja2", permission="manage", request_method="GET")
def queues_page(request):
    return _page(request)


@view_config(route_name="admin.queues", renderer="ecti:acd/templates/queues.jinja2", permission="manage", request_method="POST")
def queues_create(request):
    try:
        with request.db.begin_nested():
            queue = save_queue(request, _form_settings(request.POST))
    except UserError as err:
        request.response.status_int = 422
        return _page(request, form=dict(request.POST), errors={err.field or "": err.message})
    request.session.flash(request.localizer.translate(_("The queue ${name} was created.", mapping={"name": queue.name})))
    return HTTPSeeOther(request.route_url("admin.queue", id=queue.id))


@view_config(route_name="admin.queue", renderer="ecti:acd/templates/queue.jinja2", permission="manage", request_method="GET")
def queue_page(request):
    queue = _queue_or_404(request)
    return _page(request, queue=queue, form=_form_of(queue))


@view_config(route_name="admin.queue", renderer="ecti:acd/templates/queue.jinja2", permission="manage", request_method="POST")
def queue_update(request):
    queue = _queue_or_404(request)
    action = request.POST.get("action", "save")
    try:
        with request.db.begin_nested():
            if action == "delete":
                name = queue.name
                delete_queue(request, queue)
                request.session.flash(request.localizer.translate(_("The queue ${name} was deleted.", mapping={"name": name})))
                return HTTPSeeOther(request.route_url("admin.queues"))
            if action == "members":
                members = []
                for user_id in request.POST.getall("member"):
                    try:
                        level = int(request.POST.get(f"level_{user_id}", "1") or 1)
                        members.append(MemberSetting(int(user_id), level))
                    except ValueError:
                        raise UserError("bad_level", _("A level is between 1 and 9."), field="members", status=422)
                set_members(request, queue, members)
            else:
                save_queue(request, _form_settings(request.POST), queue=queue)
    except UserError as err:
        request.response.status_int = 422 if err.status != 409 else 409
        request.db.refresh(queue)
        form = dict(request.POST) if action == "save" else _form_of(queue)
        return _page(request, queue=queue, form=form, errors={err.field or "": err.message})
    request.session.flash(request.localizer.translate(_("The queue ${name} was saved.", mapping={"name": queue.name})))
    return HTTPSeeOther(request.route_url("admin.queue", id=queue.id))


# --- live monitoring (supervisors) ----------------------------------------------------------------

def _monitor_out(request, session: MonitorSession) -> MonitorOut:
    return MonitorOut(id=session.id, call_id=session.call_id, agent_user_id=session.agent_user_id, mode=session.mode.value,
                      mode_label=request.localizer.translate(MONITOR_MODE_LABELS[session.mode.value]),
                      started_at=session.started_at, ended_at=session.ended_at)


@api_view("api.acd.monitor", method="GET", summary="My live monitoring sessions (supervisors)",
          permission="supervise", response=MonitorList, tags=TAGS)
def api_acd_monitor_list(request):
    mine = [s for s in monitoring.live_sessions(request) if s.supervisor_id == request.identity.id]
    return MonitorList(sessions=[_monitor_out(request, s) for s in mine])


@api_view("api.acd.monitor", method="POST", summary="Join a live call from my softphone: listen (muted), coach (only the agent hears) or barge in",
          permission="supervise", body=MonitorIn, response=MonitorOut, tags=TAGS, errors=(403, 404, 409, 422, 502))
def api_acd_monitor_start(request, body: MonitorIn):
    return _monitor_out(request, monitoring.start(request, _softphone_user(request), body.call_id, body.mode))


@api_view("api.acd.monitor_mode", method="POST", summary="Switch my monitoring between listen, coach and barge in (the leg stays)",
          permission="supervise", body=MonitorModeIn, response=MonitorOut, tags=TAGS, errors=(404, 409, 422, 502))
def api_acd_monitor_mode(request, body: MonitorModeIn):
    session_id = int(request.matchdict["id"])
    return _monitor_out(request, monitoring.change_mode(request, request.identity, session_id, body.mode))


@api_view("api.acd.monitor_end", method="POST", summary="Leave the call I am monitoring (the call goes on)",
          permission="supervise", response=MonitorOut, tags=TAGS, errors=(404, 409))
def api_acd_monitor_end(request):
    return _monitor_out(request, monitoring.stop(request, request.identity, int(request.matchdict["id"])))


@api_view("api.acd.monitor_settings", method="GET", summary="Whether agents see that a supervisor is listening",
          permission="supervise", response=MonitorSettingsOut, tags=TAGS)
def api_acd_monitor_settings(request):
    return MonitorSettingsOut(listen_visible=request.tenant.monitor_listen_visible)


@api_view("api.acd.monitor_settings", method="PUT", summary="Show or hide listen-only monitoring to agents (coaching and barge-in always show)",
          permission="manage", body=MonitorSettingsIn, response=MonitorSettingsOut, tags=TAGS)
def api_acd_monitor_settings_update(request, body: MonitorSettingsIn):
    return MonitorSettingsOut(listen_visible=_set_listen_visible(request, body.listen_visible))


def _set_listen_visible(request, visible: bool) -> bool:
    from ..audit.services import record_audit
    from ..tenancy.models import Tenant

    tenant = request.db.get(Tenant, request.tenant.id)
    if tenant.monitor_listen_visible != visible:
        tenant.monitor_listen_visible = visible
        record_audit(request, "monitor.settings", tenant, shown=request.localizer.translate(_("Yes") if visible else _("No")))
    return tenant.monitor_listen_visible


@view_config(route_name="admin.monitoring", permission="manage", request_method="POST")
def monitoring_settings_form(request):
    _set_listen_visible(request, request.POST.get("listen_visible") == "1")
    request.session.flash(request.localizer.translate(_("Saved.")))
    return HTTPSeeOther(request.route_url("admin.queues"))


def includeme(config):
    config.add_route("admin.queues", "/admin/queues")
    config.add_route("admin.queue", "/admin/queues/{id:\\d+}")
    config.add_route("admin.monitoring", "/admin/queues/monitoring")
    prefix = f"{API_PREFIX}/acd"
    config.add_route("api.acd.me", f"{prefix}/me")
    config.add_route("api.acd.presence", f"{prefix}/me/presence")
    config.add_route("api.acd.heartbeat", f"{prefix}/me/heartbeat")
    config.add_route("api.acd.heartbeat_gone", f"{prefix}/me/heartbeat/gone")
    config.add_route("api.acd.offer", f"{prefix}/me/offer")
    config.add_route("api.acd.offer_accept", f"{prefix}/me/offer/accept")
    config.add_route("api.acd.offer_decline", f"{prefix}/me/offer/decline")
    config.add_route("api.acd.hold", f"{prefix}/me/call/hold")
    config.add_route("api.acd.resume", f"{prefix}/me/call/resume")
    config.add_route("api.acd.hangup", f"{prefix}/me/call/hangup")
    config.add_route("api.acd.transfer", f"{prefix}/me/call/transfer")
    config.add_route("api.acd.transfer_cancel", f"{prefix}/me/call/transfer/cancel")
    config.add_route("api.acd.wrap_up_end", f"{prefix}/me/wrap-up/end")
    config.add_route("api.acd.agents", f"{prefix}/agents")
    config.add_route("api.acd.agent_presence", f"{prefix}/agents/{{id:\\d+}}/presence")
    config.add_route("api.acd.waiting", f"{prefix}/waiting")
    config.add_route("api.acd.monitor", f"{prefix}/monitor")
    config.add_route("api.acd.monitor_mode", f"{prefix}/monitor/{{id:\\d+}}/mode")
    config.add_route("api.acd.monitor_end", f"{prefix}/monitor/{{id:\\d+}}/end")
    config.add_route("api.acd.monitor_settings", f"{prefix}/monitor/settings")
    config.add_route("api.acd.queues", f"{prefix}/queues")
    config.add_route("api.acd.queue", f"{prefix}/queues/{{id:\\d+}}")
    config.add_route("api.acd.queue_members", f"{prefix}/queues/{{id:\\d+}}/members")
    config.add_console_nav("admin.queues", _("Queues"), group="settings", permission="manage", order=20)
