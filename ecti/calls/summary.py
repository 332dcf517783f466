"""The call's summary columns, kept from its events (called by :func:`ecti.calls.events.record_event`).

Every event passes through :func:`apply_event` in the transaction that writes the event, so the
summary can never disagree with the history. Figures are *set* from timestamps and from what
the event carries, never incremented: a repeated or late event writes the same value again, and
an outcome only moves to a fact of equal or higher rank (:data:`~ecti.calls.models.OUTCOME_RANK`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .models import OUTCOME_RANK, Call, CallAgent, CallEvent, CallOutcome, CallStatus, Direction, EventKind

#: A flow path longer than this keeps its first entries (a caller looping in a menu).
MAX_PATH = 100

_FINAL_OUTCOME = {
    CallStatus.busy: CallOutcome.busy,
    CallStatus.no_answer: CallOutcome.no_answer,
    CallStatus.failed: CallOutcome.failed,
    CallStatus.canceled: CallOutcome.canceled,
}


_DIAL_OUTCOME = {"busy": CallOutcome.busy, "no-answer": CallOutcome.no_answer, "failed": CallOutcome.failed,
                 "canceled": CallOutcome.canceled}


def _seconds(later: datetime | None, earlier: datetime | None) -> int | None:
    if later is None or earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def set_outcome(call: Call, outcome: CallOutcome) -> None:
    if call.outcome is None or OUTCOME_RANK[outcome] >= OUTCOME_RANK[call.outcome]:
        call.outcome = outcome


def participant(session, call: Call, user_id: int | None) -> CallAgent | None:
    """The agent's row for ``call`` (created on first use)."""
    if not isinstance(user_id, int):
        return None
    for pending in session.new:  # created earlier in this transaction, not flushed yet
        if isinstance(pending, CallAgent) and pending.call_id == call.id and pending.user_id == user_id:
            return pending
    row = session.scalar(select(CallAgent).where(CallAgent.call_id == call.id, CallAgent.user_id == user_id))
    if row is None:
        row = CallAgent(tenant_id=call.tenant_id, call_id=call.id, user_id=user_id, call_started_at=call.started_at,
                        offered=False, answered=False, transferred=False, placed=False)
        session.add(row)
    return row


def apply_event(session, call: Call, event: CallEvent) -> None:
    """Bring ``call``'s summary up to date with ``event`` (in the caller's transaction)."""
    kind, data, at = event.kind, event.data or {}, event.at
    if kind is EventKind.started:
        call.tenant_number = call.to_number if call.direction is Direction.inbound else call.from_number
        if call.direction is Direction.outbound and call.user_id is not None:
            call.agent_user_id = call.user_id
            participant(session, call, call.user_id).placed = True
    elif kind is EventKind.flow_step:
        step = {k: data.get(k) for k in ("flow", "node", "type", "branch") if data.get(k) is not None}
        path = list(call.flow_path or [])
        if (not path or path[-1] != step) and len(path) < MAX_PATH:  # a repeated webhook is one step
            call.flow_path = path + [step]
        if data.get("type") == "forward" and data.get("branch") == "ringing":
            set_outcome(call, CallOutcome.forwarded)
    elif kind is EventKind.refused:
        set_outcome(call, CallOutcome.refused)
    elif kind is EventKind.entered_queue:
        call.queue_id = data.get("queue")
        if call.queued_at is None or at < call.queued_at:
            call.queued_at = at
    elif kind is EventKind.offered:
        row = participant(session, call, data.get("agent"))
        if row is not None:
            row.offered = True
    elif kind is EventKind.connected:
        call.queue_id = data.get("queue", call.queue_id)
        call.agent_user_id = data.get("agent")
        if call.connected_at is None or at < call.connected_at:
            call.connected_at = at
            call.wait_seconds = _seconds(at, call.queued_at)
        row = participant(session, call, data.get("agent"))
        if row is not None:
            row.offered = row.answered = True
        set_outcome(call, CallOutcome.answered)
    elif kind is EventKind.transferred:
        from_row = participant(session, call, data.get("from_agent"))
        if from_row is not None:
            from_row.transferred = True
        if data.get("to_kind") == "agent" and isinstance(data.get("agent"), int):
            call.agent_user_id = data["agent"]
            row = participant(session, call, data["agent"])
            row.offered = row.answered = True
    elif kind is EventKind.queue_completed:
        if isinstance(data.get("agent"), int):
            call.agent_user_id = data["agent"]
        call.talk_seconds = _seconds(at, call.connected_at)
        if data.get("hold_seconds") is not None:
            call.hold_seconds = int(data["hold_seconds"])
    elif kind in (EventKind.abandoned, EventKind.timed_out, EventKind.exit_empty):
        if call.connected_at is None:
            call.wait_seconds = _seconds(at, call.queued_at)
        set_outcome(call, {EventKind.abandoned: CallOutcome.abandoned, EventKind.timed_out: CallOutcome.timed_out}.get(
            kind, CallOutcome.overflowed))
    elif kind is EventKind.overflowed:
        if call.queue_id is None:
            call.queue_id = data.get("queue")
        set_outcome(call, CallOutcome.overflowed)
    elif kind is EventKind.voicemail:
        call.has_voicemail = True
        set_outcome(call, CallOutcome.voicemail)
    elif kind is EventKind.recording:
        if data.get("purpose") == "voicemail":
            call.has_voicemail = True
        else:
            call.has_recording = True
    elif kind is EventKind.dial_ended:
        status = data.get("status")
        if status in ("completed", "answered"):
            set_outcome(call, CallOutcome.answered)
            if data.get("duration") is not None:
                call.talk_seconds = int(data["duration"])
        elif status in _DIAL_OUTCOME:
            set_outcome(call, _DIAL_OUTCOME[status])
    elif kind is EventKind.completed:
        _ended(call)


def _ended(call: Call) -> None:
    """The carrier's final status: fills the outcome when nothing else told it."""
    if call.outcome is not None:
        return  # answered, refused, abandoned, the dial's result …: the final status adds nothing
    status = call.status
    if call.direction is Direction.outbound:
        if status is CallStatus.completed and call.answered_at is not None:
            call.talk_seconds = call.duration_seconds if call.duration_seconds is not None else _seconds(call.ended_at, call.answered_at)
            set_outcome(call, CallOutcome.answered)
        elif status is CallStatus.completed:
            set_outcome(call, CallOutcome.no_answer)
    elif status is CallStatus.completed:
        set_outcome(call, CallOutcome.ivr)
    if status in _FINAL_OUTCOME:
        set_outcome(call, _FINAL_OUTCOME[status])


def wrap_up_ended(session, call_id: int | None, seconds: int) -> None:
    """The agent who ended ``call_id`` finished their wrap-up (after-call work) of ``seconds``."""
    if call_id is None:
        return
    call = session.get(Call, call_id)
    if call is not None:
        call.wrap_up_seconds = max(0, seconds)


def set_crm_record(call: Call, connector: str, record_id: str) -> None:
    """Remember the record a CRM connector made for the call (e.g. a Salesforce Task id)."""
    call.crm_record_ids = {**(call.crm_record_ids or {}), connector: record_id}
