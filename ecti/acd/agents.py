"""Agents: presence (set by the agent), routing state (set by the system), and their history.

The status people see and reports count is one word (:func:`status_of`): the system's state
while it is busy (ringing, on a call, wrap-up), otherwise the agent's presence. Every change of
it is an :class:`~ecti.acd.models.AgentStatusChange` row that starts where the previous one
ended, so an agent's time in each status adds up to their logged-in time.

Wrap-up ends by the clock: ``available_at`` holds its end. The job scheduled for that moment
(``acd.route``, and the minute tick as a fallback) writes the end to the history with the time
the wrap-up ended — not the time the job ran (:func:`settle_due_wrap_ups`); whatever touches the
agent first (routing, a presence change) does the same, so the history is right either way.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..db import insert_first_wins
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import Role, Tenant, User
from .models import Agent, AgentState, AgentStatusChange, Presence

#: After a missed or declined offer the agent gets no call for this long (FreeSWITCH's
#: no-answer delay), so the call goes to somebody else first.
NO_ANSWER_PAUSE = timedelta(seconds=10)

_UNSET = object()


def status_of(presence: Presence, state: AgentState) -> str:
    if state is not AgentState.idle:
        return state.value
    return presence.value


def live_status(agent: Agent, now: datetime | None = None) -> str:
    """The status right now, with a wrap-up whose time is over already counted as over."""
    now = now or utcnow()
    if agent.state is AgentState.wrap_up and agent.available_at is not None and agent.available_at <= now:
        return agent.presence.value
    return agent.status


def agent_for(request, user_id: int, *, lock: bool = False) -> Agent:
    """The agent row of ``user_id`` (created offline on first use), locked when asked."""
    query = select(Agent).where(Agent.user_id == user_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    agent = request.db.scalar(query)
    if agent is None:
        # Two requests of a phone can meet here on its first use (a heartbeat and the page's
        # "gone" beacon): the first insert wins, the other reads that row.
        user = request.db.get(User, user_id)
        now = utcnow()
        insert_first_wins(request.db, Agent, dict(
            user_id=user_id, tenant_id=user.tenant_id, presence=Presence.offline, state=AgentState.idle, status="offline",
            status_since=now, updated_at=now, missed_in_row=0, calls_today=0, talk_seconds_today=0), unique=("user_id",))
        agent = request.db.scalar(query)
    return agent


def agent_or_offline(request, user_id: int) -> Agent:
    """The agent row of ``user_id`` to read, or an unsaved offline one: a read (a GET) never
    writes, so it never needs SQLite's write lock."""
    agent = request.db.scalar(select(Agent).where(Agent.user_id == user_id))
    if agent is None:
        user = request.db.get(User, user_id)
        now = user.created_at
        agent = Agent(user_id=user_id, tenant_id=user.tenant_id, presence=Presence.offline, state=AgentState.idle,
                      status="offline", status_since=now, updated_at=now, missed_in_row=0, calls_today=0, talk_seconds_today=0)
    return agent


def dialer_work_open(user_id_column):
    """SQL: the agent has an open dialing-list attempt (a row shown or dialed, result not yet
    recorded). Such an agent is never offered an ACD call, whatever their presence says."""
    from ..dialer.models import OPEN_ATTEMPT, DialingAttempt

    return (
        select(DialingAttempt.id)
        .where(DialingAttempt.user_id == user_id_column, DialingAttempt.status.in_(OPEN_ATTEMPT))
        .exists()
    )


def has_dialer_work(request, user_id: int) -> bool:
    return bool(request.db.scalar(select(dialer_work_open(user_id))))


def settle(request, agent: Agent, now: datetime) -> None:
    """Write down a wrap-up that ended by the clock (at the time it ended)."""
    if agent.state is AgentState.wrap_up and agent.available_at is not None and agent.available_at <= now:
        ended = agent.available_at
        change(request, agent, state=AgentState.idle, at=ended,
               available_at=ended if agent.presence is Presence.available else None, reason="wrap_up_over")


def settle_due_wrap_ups(request, now: datetime) -> list[int]:
    """Write down every wrap-up of the request's tenant whose time is over; returns the user ids."""
    due = request.db.scalars(
        select(Agent.user_id).where(Agent.state == AgentState.wrap_up, Agent.available_at.is_not(None), Agent.available_at <= now)
        .order_by(Agent.user_id)
    ).all()
    settled = []
    for user_id in due:
        agent = agent_for(request, user_id, lock=True)
        if agent.state is AgentState.wrap_up and agent.available_at is not None and agent.available_at <= now:
            settle(request, agent, now)
            settled.append(user_id)
    return settled


def change(request, agent: Agent, *, at: datetime, presence: Presence | None = None, state: AgentState | None = None,
           available_at=_UNSET, away_reason=_UNSET, reason: str | None = None, by: int | None = None,
           call_id: int | None = None) -> None:
    """Change presence and/or state; log the status change if the shown status changed.

    The agent's row is locked by the caller, so changes of one agent are serialised; a
    transaction that read the clock before it got the lock still writes its change after the
    previous one (``at`` is never earlier than ``status_since``), so the history stays in order.
    """
    at = max(at, agent.status_since) if agent.status_since is not None else at
    if presence is not None:
        agent.presence = presence
    if state is not None:
        agent.state = state
    if available_at is not _UNSET:
        agent.available_at = available_at
    if away_reason is not _UNSET:
        agent.away_reason = away_reason
    agent.updated_at = at
    new_status = status_of(agent.presence, agent.state)
    if new_status != agent.status:
        if agent.status == AgentState.wrap_up.value:
            _wrap_up_ended(request, agent, at)
        request.db.add(AgentStatusChange(
            tenant_id=agent.tenant_id, user_id=agent.user_id, at=at, from_status=agent.status, to_status=new_status,
            reason=reason, by_user_id=by, call_id=call_id,
        ))
        agent.status = new_status
        agent.status_since = at


def _wrap_up_ended(request, agent: Agent, at: datetime) -> None:
    """Write the wrap-up's length on the call it followed (the call record's wrap-up seconds)."""
    from ..calls.summary import wrap_up_ended

    call_id = request.db.scalar(
        select(AgentStatusChange.call_id).where(AgentStatusChange.user_id == agent.user_id, AgentStatusChange.to_status == AgentState.wrap_up.value)
        .order_by(AgentStatusChange.at.desc(), AgentStatusChange.id.desc()).limit(1)
    )
    wrap_up_ended(request.db, call_id, int((at - agent.status_since).total_seconds()))


class PresenceRefused(UserError):
    status = 409


def set_presence(request, user: User, presence: Presence, *, reason: str | None = None, by: User | None = None) -> Agent:
    """The agent (or a supervisor) changes the agent's presence.

    Going offline or away while the phone rings declines the offer; going offline during a call
    is refused (finish the call first), and ends a wrap-up.
    """
    from .routing import decline_live_offer, route_for_agent

    if user.role is Role.operator or user.tenant_id is None:
        raise UserError("not_an_agent", _("Operators do not take calls."), status=403)
    if presence is Presence.disconnected:
        raise UserError("not_settable", _("Only the phone's connection sets this status."), field="presence", status=422)
    now = utcnow()
    agent = agent_for(request, user.id, lock=True)
    settle(request, agent, now)
    by_agent = by is None or by.id == user.id
    if by_agent:
        agent.phone_seen_at = now  # the agent acts on their phone: it is connected now
    elif agent.presence is Presence.disconnected and presence is not Presence.offline:
        # A supervisor cannot connect the agent's phone: the choice applies when it is back.
        agent.presence_before = presence.value
        if presence is Presence.away:
            agent.away_reason = reason or None
        request.db.flush()
        return agent
    if agent.presence is Presence.disconnected:
        agent.presence_before = agent.disconnected_at = agent.disconnect_reason = None
    if agent.state is AgentState.on_call and presence is Presence.offline:
        raise PresenceRefused("on_a_call", _("You are on a call. Hang up before you sign off."), field="presence")
    if agent.state is AgentState.ringing and presence is not Presence.available:
        decline_live_offer(request, agent, reason="presence_changed")
        agent = agent_for(request, user.id, lock=True)
    by_id = (by or user).id
    kwargs = {}
    dialer_work = has_dialer_work(request, user.id)
    if agent.state is AgentState.wrap_up and presence is Presence.offline and not dialer_work:
        kwargs["state"] = AgentState.idle
    was = agent.presence
    change(request, agent, presence=presence, at=now, reason=reason or f"set_{presence.value}", by=by_id,
           away_reason=(reason or None) if presence is Presence.away else None, **kwargs)
    if presence is Presence.available:
        agent.missed_in_row = 0
    if agent.state is AgentState.idle:
        # Longest idle counts from when the agent became available; a pending no-answer pause
        # of an agent who stays available is kept. In wrap-up, available_at is its end.
        if presence is not Presence.available:
            agent.available_at = None
        elif dialer_work:
            # Back from away with a dialing-list row still open: busy with the list until its
            # result is recorded (ecti.dialer), not routable.
            change(request, agent, state=AgentState.wrap_up, available_at=None, at=now, reason="dialer_row", by=by_id)
        elif was is not Presence.available or agent.available_at is None:
            agent.available_at = now
    request.db.flush()
    if presence is Presence.available:
        route_for_agent(request, agent.user_id)
    else:
        from .routing import leave_when_empty

        leave_when_empty(request, agent.user_id)
    return agent


def end_wrap_up(request, user: User) -> Agent:
    """The agent is done with after-call work before the queue's wrap-up time is over."""
    from .routing import route_for_agent

    now = utcnow()
    agent = agent_for(request, user.id, lock=True)
    settle(request, agent, now)
    if agent.state is not AgentState.wrap_up:
        raise UserError("not_in_wrap_up", _("You are not in wrap-up."), status=409)
    if has_dialer_work(request, user.id):
        raise UserError("dialer_row_open", _("Record the result of the dialing list's number (or skip it) first."), status=409)
    change(request, agent, state=AgentState.idle, at=now, reason="wrap_up_ended", by=user.id,
           available_at=now if agent.presence is Presence.available else None)
    request.db.flush()
    route_for_agent(request, agent.user_id)
    return agent


def stats_day(request, tenant_id: int, now: datetime):
    tenant = request.db.get(Tenant, tenant_id)
    return now.astimezone(ZoneInfo(tenant.time_zone or "Asia/Tokyo")).date()


def count_answered(request, agent: Agent, now: datetime) -> None:
    day = stats_day(request, agent.tenant_id, now)
    if agent.stats_date != day:
        agent.stats_date, agent.calls_today, agent.talk_seconds_today = day, 0, 0
    agent.calls_today += 1


def count_talk(request, agent: Agent, seconds: int, now: datetime) -> None:
    day = stats_day(request, agent.tenant_id, now)
    if agent.stats_date != day:
        agent.stats_date, agent.calls_today, agent.talk_seconds_today = day, 0, 0
    agent.talk_seconds_today += max(0, seconds)
