"""Live monitoring: a supervisor listens to, coaches or barges into a live queue call (issue 24).

A queue call is a conference (``call-<id>``, see :mod:`ecti.acd.handlers`). A supervisor joins
it with a leg of their own to their softphone, added with the carrier's participants API:

=========  =========================================================================
mode       the supervisor's participant
=========  =========================================================================
listen     muted: hears the caller and the agent, heard by nobody
coach      coaching the agent's leg: heard by the agent only (Twilio ``coaching``)
barge      a full participant: everybody hears everybody
=========  =========================================================================

Switching mode updates the participant (no new leg, nothing dropped). The supervisor's leg never
ends the conference when it leaves (``endConferenceOnExit`` false; only the caller's leg has it),
and it is not an offer or a queue entry, so routing and reports never count it as an agent.
Every start, switch and end is written to the audit log (who, which call, which agent, from / to).
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from ..audit.services import add_audit_entry, record_audit
from ..calls.models import Call
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..tenancy.models import Role, Tenant, User
from ..voice.calls import softphone_identity
from ..voice.instructions import Continuation
from .carrier_ops import call_now, later
from .models import EntryStatus, MonitorMode, MonitorSession, Offer, OfferStatus, QueueEntry
from .routing import conference_name

log = logging.getLogger(__name__)

FINAL_LEG_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
SUPERVISOR_ROLES = (Role.supervisor, Role.admin)


class MonitorError(UserError):
    status = 409


def _mode(value: str) -> MonitorMode:
    try:
        return MonitorMode(value)
    except ValueError:
        raise UserError("monitor_mode", _("Choose listen, coach or barge in."), field="mode", status=422) from None


def _connected_entry(request, call_id: int) -> QueueEntry:
    entry = request.db.scalar(
        select(QueueEntry).where(QueueEntry.call_id == call_id, QueueEntry.status == EntryStatus.connected)
        .order_by(QueueEntry.id.desc()).limit(1)
    )
    if entry is None or entry.agent_user_id is None:
        raise MonitorError("call_not_live", _("This call is not connected to an agent (it may have ended)."))
    return entry


def _agent_leg(request, entry: QueueEntry) -> str:
    leg = request.db.scalar(
        select(Offer.leg_id).where(Offer.entry_id == entry.id, Offer.status == OfferStatus.accepted,
                                   Offer.user_id == entry.agent_user_id).order_by(Offer.id.desc()).limit(1)
    )
    if not leg:
        raise MonitorError("call_not_live", _("This call is not connected to an agent (it may have ended)."))
    return leg


def live_session(request, session_id: int, supervisor: User) -> MonitorSession:
    session = request.db.scalar(select(MonitorSession).where(MonitorSession.id == session_id))  # tenant-scoped
    if session is None or session.supervisor_id != supervisor.id or session.ended_at is not None:
        raise MonitorError("no_monitoring", _("You are not monitoring this call (the session has ended)."))
    return session


def _names(request, session: MonitorSession) -> dict:
    agent = request.db.get(User, session.agent_user_id) if session.agent_user_id else None
    return {"call": session.call_id, "agent": agent.display_name if agent else "-"}


def start(request, supervisor: User, call_id: int, mode: str) -> MonitorSession:
    """Ring the supervisor's softphone into the call's conference in ``mode``."""
    mode = _mode(mode)
    if supervisor.role not in SUPERVISOR_ROLES:
        raise UserError("forbidden", _("Only supervisors and administrators can monitor calls."), status=403)
    call = request.db.scalar(select(Call).where(Call.id == call_id))  # tenant-scoped: another company's is "not found"
    if call is None:
        raise UserError("not_found", _("The call was not found."), status=404)
    entry = _connected_entry(request, call.id)
    if entry.agent_user_id == supervisor.id:
        raise MonitorError("own_call", _("You cannot monitor your own call."))
    already = request.db.scalar(select(MonitorSession).where(MonitorSession.supervisor_id == supervisor.id,
                                                             MonitorSession.ended_at.is_(None)))
    if already is not None:
        raise MonitorError("already_monitoring", _("You are already monitoring a call. Leave it first."))
    agent_leg = _agent_leg(request, entry)
    tenant = request.db.get(Tenant, call.tenant_id)
    session = MonitorSession(tenant_id=call.tenant_id, call_id=call.id, supervisor_id=supervisor.id,
                             agent_user_id=entry.agent_user_id, mode=mode, started_at=utcnow())
    request.db.add(session)
    request.db.flush()
    leg = call_now(request, tenant, "monitor_join", conference=conference_name(call.id),
                   identity=softphone_identity(supervisor), caller_id=call.to_number, mode=mode.value, agent_leg=agent_leg,
                   status=Continuation("acd.monitor_leg", {"call": str(call.id), "session": str(session.id)}))
    session.leg_id = leg
    record_audit(request, "monitor.start", session, mode=mode.value, **_names(request, session))
    return session


def change_mode(request, supervisor: User, session_id: int, mode: str) -> MonitorSession:
    """Switch listen / coach / barge without dropping the supervisor's leg."""
    mode = _mode(mode)
    session = live_session(request, session_id, supervisor)
    if session.mode is mode:
        return session
    entry = _connected_entry(request, session.call_id)
    tenant = request.db.get(Tenant, session.tenant_id)
    call_now(request, tenant, "monitor_mode", conference=conference_name(session.call_id), carrier_call_id=session.leg_id,
             mode=mode.value, agent_leg=_agent_leg(request, entry))
    before, session.mode = session.mode, mode
    record_audit(request, "monitor.mode", session, from_mode=before.value, to_mode=mode.value, **_names(request, session))
    return session


def stop(request, supervisor: User, session_id: int) -> MonitorSession:
    """The supervisor leaves: only their leg ends, the call goes on."""
    session = live_session(request, session_id, supervisor)
    session.ended_at = utcnow()
    tenant = request.db.get(Tenant, session.tenant_id)
    if session.leg_id:
        later(request, tenant, "end_leg", carrier_call_id=session.leg_id)
    record_audit(request, "monitor.end", session, mode=session.mode.value, **_names(request, session))
    return session


def monitor_leg_handler(request, call, args, call_input):
    """``acd.monitor_leg`` {"call", "session"}: the supervisor's leg ended (hung up, not
    answered, the call ended): the session ends; nothing else of the call changes."""
    if call_input.call_status not in FINAL_LEG_STATUSES:
        return []
    session = request.db.get(MonitorSession, int(args.get("session", 0) or 0))
    if session is None or session.call_id != call.id or session.ended_at is not None:
        return []
    session.ended_at = utcnow()
    supervisor = request.db.get(User, session.supervisor_id)
    add_audit_entry(request.db, "monitor.end", actor=supervisor, tenant_id=session.tenant_id, target=session,
                    details={"mode": session.mode.value, "leg": call_input.call_status, **_names(request, session)})
    return []


def end_sessions_of_call(request, call_id: int) -> None:
    """The call ended: close its sessions (the carrier ends the legs with the conference)."""
    now = utcnow()
    for session in request.db.scalars(select(MonitorSession).where(MonitorSession.call_id == call_id,
                                                                   MonitorSession.ended_at.is_(None))):
        session.ended_at = now


def live_sessions(request) -> list[MonitorSession]:
    return list(request.db.scalars(select(MonitorSession).where(MonitorSession.ended_at.is_(None)).order_by(MonitorSession.id)))


def monitored_mode(request, user: User, call_id: int | None) -> str | None:
    """What the agent ``user`` is told about supervisors on their call: ``coach`` / ``barge``,
    ``listen`` unless the company hides listen-only monitoring, else None."""
    if call_id is None:
        return None
    modes = set(request.db.scalars(select(MonitorSession.mode).where(
        MonitorSession.call_id == call_id, MonitorSession.agent_user_id == user.id, MonitorSession.ended_at.is_(None))))
    for mode in (MonitorMode.barge, MonitorMode.coach):
        if mode in modes:
            return mode.value
    if MonitorMode.listen in modes:
        tenant = request.db.get(Tenant, user.tenant_id)
        if tenant is not None and tenant.monitor_listen_visible:
            return MonitorMode.listen.value
    return None


def includeme(config):
    config.add_call_handler("acd.monitor_leg", monitor_leg_handler, after_end=True)
