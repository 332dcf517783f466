"""The progressive dialer: reserving the next row for a free agent, dialing, results, retries.

How a row is worked (docs/dialer.md):

1. An agent who joined a running list asks for work (the softphone asks every few seconds
   while it shows no row). When the agent is free (available, not in wrap-up, no ACD call) and
   the list is inside its calling hours, :func:`next_for_agent` reserves the next due row: the
   row is locked with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (the request's
   ``BEGIN IMMEDIATE`` on SQLite), its attempt number is raised and a :class:`DialingAttempt`
   is written — unique per (row, attempt number), and at most one open attempt per row and per
   agent (partial unique indexes), so two processes can never dial a row twice.
2. The agent sees the row (name and the CSV's other columns) and dials it from the softphone:
   :func:`start_dialing` checks once more that the list is running and inside its hours, then the
   agent's own phone places the call through the softphone's outbound path (the dialing rules
   are checked there again).
3. The agent records the result (:func:`record_result`); no-answer, busy and failed come back
   after the policy's delay until the count is used up, a callback comes back at its time, "do
   not call again" goes to the do-not-call list.

While a row is open the agent's ACD status says so (:func:`_occupy`, through
:func:`ecti.acd.agents.change`, so the status history and reports add up): wrap-up (後処理) while
the row is shown, on a call (会話中) from dialing until the call ends (:func:`call_ended`), wrap-up
again until the result is recorded. ``available_at`` is cleared, and the ACD's routing skips any
agent with an open attempt (:func:`ecti.acd.agents.dialer_work_open`) whatever their presence
says; recording the result (or skipping, or leaving) makes them available again.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from ..acd.agents import agent_for, change, settle
from ..acd.models import Agent, AgentState, Presence
from ..audit.tracking import record_change
from ..calls.models import Call, Direction
from ..errors import UserError
from ..i18n import _
from ..ivr.models import Schedule
from ..ivr.schedules import decide
from ..ivr.validation import translate
from ..models.meta import utcnow
from ..telephony.numbering import NumberError, check_outbound
from ..tenancy.models import Tenant, User
from .models import (
    OPEN_ATTEMPT, RETRY_POLICY_OF, AttemptStatus, DialingAttempt, DialingList, DialingListAgent, DialingRow, DoNotCall,
    ListStatus, Outcome, RowStatus,
)

DEFAULT_RETRY = {
    "no_answer": {"count": 2, "delay_minutes": 30},
    "busy": {"count": 2, "delay_minutes": 10},
    "failed": {"count": 1, "delay_minutes": 60},
}
RETRY_KINDS = tuple(DEFAULT_RETRY)
#: A row shown but not dialed for this long goes back to the list (the agent left without leaving).
STALE_RESERVATION = timedelta(minutes=15)
#: A checked upload never confirmed is deleted after this long (the admin left the preview).
UNCONFIRMED_IMPORT_KEPT = timedelta(hours=24)


class DialerError(UserError):
    status = 409


# --- calling hours ---------------------------------------------------------------------------

def hours_of(request, lst: DialingList):
    """The schedule the list's calls follow (an IVR schedule or the list's own hours)."""
    if lst.schedule_id is not None:
        schedule = request.db.get(Schedule, lst.schedule_id)
        if schedule is not None:
            return schedule
    return SimpleNamespace(weekly=lst.weekly or {}, calendars=lst.calendars or [])


def has_hours(request, lst: DialingList) -> bool:
    return any(hours_of(request, lst).weekly.get(day) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def calling_hours(request, lst: DialingList, now: datetime):
    """The :class:`~ecti.ivr.schedules.Decision` for ``now`` (``branch == "open"``: may call)."""
    tenant = request.db.get(Tenant, lst.tenant_id)
    return decide(request.db, request.registry.ecti.holiday_calendars, hours_of(request, lst), tenant.time_zone or "Asia/Tokyo", now)


# --- the list --------------------------------------------------------------------------------

def lock_list(request, list_id: int) -> DialingList | None:
    return request.db.scalar(
        select(DialingList).where(DialingList.id == list_id).with_for_update().execution_options(populate_existing=True)
    )


def open_attempts(request, *, list_id: int | None = None, user_id: int | None = None, statuses=OPEN_ATTEMPT) -> list[DialingAttempt]:
    query = select(DialingAttempt).where(DialingAttempt.status.in_(statuses))
    if list_id is not None:
        query = query.where(DialingAttempt.list_id == list_id)
    if user_id is not None:
        query = query.where(DialingAttempt.user_id == user_id)
    return list(request.db.scalars(query.order_by(DialingAttempt.id).with_for_update().execution_options(populate_existing=True)))


def set_status(request, lst: DialingList, status: ListStatus, now: datetime | None = None) -> DialingList:
    """Start, pause, stop (or restart) a list. Pausing or stopping takes effect at once: rows
    shown but not dialed go back; calls in progress finish and their results are recorded."""
    now = now or utcnow()
    lst = lock_list(request, lst.id)
    if status is ListStatus.running:
        if lst.status is ListStatus.finished:
            raise DialerError("list_finished", _("Every row of this list is done. Add rows to start it again."))
        if not has_hours(request, lst):
            raise DialerError("no_calling_hours", _("Set the calling hours before starting the list."))
        if not _remaining(request, lst.id):
            raise DialerError("list_empty", _("The list has no numbers to call. Upload a CSV first."))
        if not lst.agents:
            raise DialerError("no_agents", _("Assign at least one agent before starting the list."))
    elif status in (ListStatus.paused, ListStatus.stopped):
        if lst.status not in (ListStatus.running, ListStatus.paused, ListStatus.stopped):
            raise DialerError("not_running", _("Only a running or paused list can be paused or stopped."))
        for attempt in open_attempts(request, list_id=lst.id, statuses=(AttemptStatus.reserved,)):
            release(request, attempt, now, AttemptStatus.released)
    else:
        raise DialerError("bad_status", _("A list can be started, paused or stopped."), status=422)
    lst.status = status
    lst.updated_at = now
    return lst


def _remaining(request, list_id: int) -> int:
    return request.db.scalar(
        select(func.count()).select_from(DialingRow).where(DialingRow.list_id == list_id, DialingRow.status != RowStatus.done)
    )


def _finish_if_done(request, lst: DialingList, now: datetime) -> None:
    request.db.flush()
    if lst.status is ListStatus.running and not _remaining(request, lst.id):
        lst.status = ListStatus.finished
        lst.updated_at = now


# --- agents ----------------------------------------------------------------------------------

def membership(request, list_id: int, user_id: int) -> DialingListAgent | None:
    return request.db.scalar(select(DialingListAgent).where(DialingListAgent.list_id == list_id, DialingListAgent.user_id == user_id))


def lists_of_agent(request, user_id: int) -> list[tuple[DialingList, DialingListAgent]]:
    """The lists ``user_id`` is assigned to, drafts left out: a list reaches agents once started."""
    rows = request.db.execute(
        select(DialingList, DialingListAgent).join(DialingListAgent, DialingListAgent.list_id == DialingList.id)
        .where(DialingListAgent.user_id == user_id, DialingList.status != ListStatus.draft)
        .order_by(DialingList.name, DialingList.id)
    ).all()
    return [(lst, member) for lst, member in rows]


def join(request, user: User, lst: DialingList, now: datetime | None = None) -> DialingListAgent:
    now = now or utcnow()
    member = membership(request, lst.id, user.id)
    if member is None:
        raise DialerError("not_assigned", _("You are not assigned to this list."), status=403)
    if lst.status not in (ListStatus.running, ListStatus.paused):
        raise DialerError("list_not_running", _("The list \"${name}\" is not running.", mapping={"name": lst.name}))
    for other_list, other in lists_of_agent(request, user.id):
        if other.id != member.id and other.joined_at is not None:
            leave(request, user, other_list, now)
    member.joined_at = member.joined_at or now
    return member


def leave(request, user: User, lst: DialingList, now: datetime | None = None) -> None:
    """Stop working the list; a row shown but not dialed goes back to the others."""
    now = now or utcnow()
    member = membership(request, lst.id, user.id)
    if member is not None:
        member.joined_at = None
    for attempt in open_attempts(request, list_id=lst.id, user_id=user.id, statuses=(AttemptStatus.reserved,)):
        release(request, attempt, now, AttemptStatus.released)


def _agent_free(agent: Agent, now: datetime) -> bool:
    if agent.presence is not Presence.available:
        return False
    if agent.state not in (AgentState.idle, AgentState.wrap_up):
        return False
    return agent.available_at is not None and agent.available_at <= now


def _occupy(request, user_id: int, now: datetime, state: AgentState, reason: str, call_id: int | None = None) -> None:
    """The agent works a row: their ACD status says so (wrap-up while the row is shown or its
    result is pending, on a call while it is dialed) and no ACD call is offered to them."""
    agent = agent_for(request, user_id, lock=True)
    settle(request, agent, now)
    change(request, agent, state=state, available_at=None, at=now, reason=reason, call_id=call_id)


def _free(request, user_id: int, now: datetime, reason: str) -> None:
    """The row is done (result, skip, given back): the agent is free again."""
    agent = agent_for(request, user_id, lock=True)
    if agent.state in (AgentState.wrap_up, AgentState.on_call):
        change(request, agent, state=AgentState.idle, at=now, reason=reason,
               available_at=now if agent.presence is Presence.available else None)
    elif agent.state is AgentState.idle and agent.presence is Presence.available and agent.available_at is None:
        agent.available_at = now


def call_ended(request, call: Call, at: datetime | None = None) -> None:
    """The agent's dialing-list call ended: from on a call to wrap-up until the result is
    recorded (called for every finished call, see ``ecti.builtin_plugins``)."""
    if call.direction is not Direction.outbound or call.user_id is None:
        return
    attempt = request.db.scalar(
        select(DialingAttempt).where(DialingAttempt.user_id == call.user_id, DialingAttempt.status == AttemptStatus.dialing)
    )
    if attempt is None or call.started_at < attempt.dialed_at - timedelta(seconds=5):
        return
    row = request.db.get(DialingRow, attempt.row_id)
    if row is None or row.number != call.to_number:
        return
    agent = agent_for(request, call.user_id, lock=True)
    if agent.state is AgentState.on_call:
        change(request, agent, state=AgentState.wrap_up, available_at=None, at=at or utcnow(), reason="dialer_call_ended",
               call_id=call.id)


# --- reserving the next row ------------------------------------------------------------------

def _next_due_row(request, list_id: int, now: datetime) -> DialingRow | None:
    return request.db.scalar(
        select(DialingRow)
        .where(DialingRow.list_id == list_id, DialingRow.status == RowStatus.pending, DialingRow.next_attempt_at <= now)
        .order_by(DialingRow.next_attempt_at, DialingRow.row_number, DialingRow.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _on_do_not_call(request, number: str) -> bool:
    return request.db.scalar(select(DoNotCall.id).where(DoNotCall.number == number)) is not None


def next_for_agent(request, user: User, now: datetime | None = None) -> SimpleNamespace:
    """The agent's open row, or a newly reserved one when the agent is free; else why not.

    Returns ``SimpleNamespace(list, attempt, reason, message)``; ``reason`` is None when a row
    is shown, else ``not_joined``, ``paused``, ``stopped``, ``finished``, ``not_available``,
    ``outside_hours`` or ``nothing_due`` (``message`` says it in words, ``next_due`` when known).
    """
    now = now or utcnow()
    agent = agent_for(request, user.id, lock=True)
    settle(request, agent, now)
    mine = open_attempts(request, user_id=user.id)
    if mine:
        attempt = mine[0]
        lst = request.db.get(DialingList, attempt.list_id)
        if attempt.status is AttemptStatus.dialing or (
            lst.status is ListStatus.running and agent.presence is Presence.available
            and calling_hours(request, lst, now).branch == "open"
        ):
            return SimpleNamespace(list=lst, attempt=attempt, reason=None, message=None, next_due=None)
        # Shown but not dialed when the list paused, the hours ended or the agent went away: it goes back.
        release(request, attempt, now, AttemptStatus.released)
        agent = agent_for(request, user.id, lock=True)
    joined = [(lst, m) for lst, m in lists_of_agent(request, user.id) if m.joined_at is not None]
    if not joined:
        return _waiting(None, "not_joined", _("Join a list to start calling."))
    # Not locked: claims of one list run side by side (the rows are what they lock). A pause
    # that commits meanwhile is caught by start_dialing, which locks the list before any call.
    lst = joined[0][0]
    if lst.status is not ListStatus.running:
        messages = {
            ListStatus.paused: _("The list is paused. Calls start again when it is resumed."),
            ListStatus.stopped: _("The list was stopped."),
            ListStatus.finished: _("Every row of the list is done."),
            ListStatus.draft: _("The list has not been started."),
        }
        return _waiting(lst, lst.status.value, messages[lst.status])
    if not _agent_free(agent, now):
        return _waiting(lst, "not_available", _("The next number comes when you are available (not away, not in wrap-up, not on a call)."))
    hours = calling_hours(request, lst, now)
    if hours.branch != "open":
        return _waiting(lst, "outside_hours", _("Outside the calling hours: ${why}", mapping={"why": translate(request.localizer, hours.explain(request.registry.ecti.holiday_calendars))}))
    while True:
        row = _next_due_row(request, lst.id, now)
        if row is None:
            break
        if _on_do_not_call(request, row.number):
            row.status, row.last_outcome = RowStatus.done, Outcome.do_not_call
            continue
        row.status = RowStatus.reserved
        row.last_attempt_no += 1
        attempt = DialingAttempt(tenant_id=lst.tenant_id, list_id=lst.id, row_id=row.id, attempt_no=row.last_attempt_no,
                                 user_id=user.id, status=AttemptStatus.reserved, reserved_at=now)
        request.db.add(attempt)
        request.db.flush()
        _occupy(request, user.id, now, AgentState.wrap_up, "dialer_row")
        return SimpleNamespace(list=lst, attempt=attempt, reason=None, message=None, next_due=None)
    _finish_if_done(request, lst, now)
    if lst.status is ListStatus.finished:
        return _waiting(lst, "finished", _("Every row of the list is done."))
    next_due = request.db.scalar(
        select(func.min(DialingRow.next_attempt_at)).where(DialingRow.list_id == lst.id, DialingRow.status == RowStatus.pending)
    )
    waiting = _waiting(lst, "nothing_due", _("No number is due now (retries and callbacks wait for their time)."))
    waiting.next_due = next_due
    return waiting


def _waiting(lst, reason: str, message) -> SimpleNamespace:
    return SimpleNamespace(list=lst, attempt=None, reason=reason, message=message, next_due=None)


# --- working a row ---------------------------------------------------------------------------

def my_attempt(request, user: User, attempt_id: int) -> DialingAttempt:
    attempt = request.db.scalar(
        select(DialingAttempt).where(DialingAttempt.id == attempt_id).with_for_update().execution_options(populate_existing=True)
    )
    if attempt is None or attempt.user_id != user.id:
        raise DialerError("no_such_row", _("This row is not yours to work (it may have been given back)."), status=404)
    return attempt


def release(request, attempt: DialingAttempt, now: datetime, status: AttemptStatus) -> None:
    """Give an undialed row back: ``skipped`` goes to the end of what is due, ``released``
    keeps its place."""
    row = request.db.get(DialingRow, attempt.row_id)
    attempt.status = status
    attempt.ended_at = now
    row.status = RowStatus.pending
    if status is AttemptStatus.skipped:
        row.next_attempt_at = now
    request.db.flush()
    _free(request, attempt.user_id, now, f"dialer_{status.value}")


def release_stale(request, now: datetime | None = None) -> int:
    """Give back rows shown to an agent who is no longer there (signed off, away, or the page
    closed): reserved, not dialed, for :data:`STALE_RESERVATION`. Returns how many."""
    now = now or utcnow()
    stale = request.db.scalars(
        select(DialingAttempt).where(DialingAttempt.status == AttemptStatus.reserved, DialingAttempt.reserved_at <= now - STALE_RESERVATION)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    ).all()
    for attempt in stale:
        release(request, attempt, now, AttemptStatus.released)
    return len(stale)


def purge_unconfirmed_imports(request, now: datetime | None = None) -> int:
    """Delete checked uploads that were never confirmed within :data:`UNCONFIRMED_IMPORT_KEPT`
    (none of their rows were imported; their preview page is then not found, the file is uploaded again). Returns how many."""
    from sqlalchemy import delete

    from .models import DialingImport

    now = now or utcnow()
    result = request.db.execute(
        delete(DialingImport).where(DialingImport.confirmed_at.is_(None), DialingImport.created_at <= now - UNCONFIRMED_IMPORT_KEPT)
    )
    return result.rowcount or 0


def skip(request, user: User, attempt_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    attempt = my_attempt(request, user, attempt_id)
    if attempt.status is not AttemptStatus.reserved:
        raise DialerError("already_dialed", _("The number was already dialed: record the result instead."))
    release(request, attempt, now, AttemptStatus.skipped)


def start_dialing(request, user: User, attempt_id: int, now: datetime | None = None) -> DialingAttempt:
    """The agent's phone is about to dial the row: the last check of the list and its hours."""
    now = now or utcnow()
    attempt = my_attempt(request, user, attempt_id)
    if attempt.status is AttemptStatus.dialing:
        return attempt
    if attempt.status is not AttemptStatus.reserved:
        raise DialerError("no_such_row", _("This row is not yours to work (it may have been given back)."), status=404)
    lst = lock_list(request, attempt.list_id)
    if lst.status is not ListStatus.running:
        release(request, attempt, now, AttemptStatus.released)
        raise DialerError("list_not_running", _("The list \"${name}\" is not running.", mapping={"name": lst.name}))
    hours = calling_hours(request, lst, now)
    if hours.branch != "open":
        release(request, attempt, now, AttemptStatus.released)
        raise DialerError("outside_hours", _("Outside the calling hours: ${why}", mapping={"why": translate(request.localizer, hours.explain(request.registry.ecti.holiday_calendars))}))
    row = request.db.get(DialingRow, attempt.row_id)
    attempt.status = AttemptStatus.dialing
    attempt.dialed_at = now
    row.attempts += 1
    request.db.flush()
    _occupy(request, user.id, now, AgentState.on_call, "dialer_dial")
    return attempt


def _linked_call(request, attempt: DialingAttempt, row: DialingRow) -> Call | None:
    """The outgoing call the agent's phone placed for this attempt."""
    return request.db.scalar(
        select(Call).where(
            Call.user_id == attempt.user_id, Call.direction == Direction.outbound, Call.to_number == row.number,
            Call.started_at >= attempt.dialed_at - timedelta(seconds=5),
        ).order_by(Call.started_at.desc(), Call.id.desc()).limit(1)
    )


def record_result(request, user: User, attempt_id: int, outcome: Outcome, *, callback_at: datetime | None = None,
                  note: str | None = None, now: datetime | None = None) -> DialingAttempt:
    now = now or utcnow()
    attempt = my_attempt(request, user, attempt_id)
    if attempt.status is AttemptStatus.reserved:
        raise DialerError("not_dialed", _("Call the number first, or skip it."))
    if attempt.status is not AttemptStatus.dialing:
        raise DialerError("result_recorded", _("The result of this call was already recorded."))
    if outcome is Outcome.callback:
        if callback_at is None:
            raise DialerError("callback_time_required", _("Enter when to call back."), field="callback_at", status=422)
        if callback_at <= now:
            raise DialerError("callback_in_past", _("The callback time is in the past."), field="callback_at", status=422)
    lst = lock_list(request, attempt.list_id)
    row = request.db.get(DialingRow, attempt.row_id)
    call = _linked_call(request, attempt, row)
    attempt.call_id = call.id if call is not None else None
    attempt.status = AttemptStatus.done
    attempt.outcome = outcome
    attempt.note = (note or "").strip() or None
    attempt.callback_at = callback_at if outcome is Outcome.callback else None
    attempt.ended_at = now
    row.last_outcome = outcome
    row.status = RowStatus.done
    if outcome in RETRY_POLICY_OF:
        policy = (lst.retry or {}).get(RETRY_POLICY_OF[outcome]) or {"count": 0, "delay_minutes": 0}
        if row.attempts <= int(policy.get("count", 0)):
            row.status = RowStatus.pending
            row.next_attempt_at = now + timedelta(minutes=int(policy.get("delay_minutes", 0)))
    elif outcome is Outcome.callback:
        row.status = RowStatus.pending
        row.next_attempt_at = callback_at
        row.callback_at = callback_at
    elif outcome is Outcome.do_not_call:
        add_do_not_call(request, lst.tenant_id, row.number, reason=lst.name, user_id=user.id)
    request.db.flush()
    _free(request, user.id, now, "dialer_result")
    _finish_if_done(request, lst, now)
    return attempt


def add_do_not_call(request, tenant_id: int, number: str, *, reason: str = "", user_id: int | None = None) -> DoNotCall:
    entry = request.db.scalar(select(DoNotCall).where(DoNotCall.number == number))
    if entry is None:
        entry = DoNotCall(tenant_id=tenant_id, number=number, reason=reason[:200], user_id=user_id)
        request.db.add(entry)
        request.db.flush()
    return entry


# --- progress --------------------------------------------------------------------------------

def progress(request, lst: DialingList) -> dict:
    by_status = dict(request.db.execute(
        select(DialingRow.status, func.count()).where(DialingRow.list_id == lst.id).group_by(DialingRow.status)
    ).all())
    outcomes = dict(request.db.execute(
        select(DialingRow.last_outcome, func.count()).where(DialingRow.list_id == lst.id, DialingRow.status == RowStatus.done)
        .group_by(DialingRow.last_outcome)
    ).all())
    per_agent: dict[int, dict] = {}
    for user_id, outcome, count in request.db.execute(
        select(DialingAttempt.user_id, DialingAttempt.outcome, func.count())
        .where(DialingAttempt.list_id == lst.id, DialingAttempt.status == AttemptStatus.done)
        .group_by(DialingAttempt.user_id, DialingAttempt.outcome)
    ).all():
        entry = per_agent.setdefault(user_id, {"calls": 0, "outcomes": {}})
        entry["calls"] += count
        entry["outcomes"][outcome.value] = count
    total = sum(by_status.values())
    done = by_status.get(RowStatus.done, 0)
    return {
        "total": total,
        "done": done,
        "remaining": total - done,
        "in_progress": by_status.get(RowStatus.reserved, 0),
        "outcomes": {o.value: n for o, n in outcomes.items() if o is not None},
        "per_agent": per_agent,
    }


# --- lists and imports -----------------------------------------------------------------------

def caller_id_refusal(caller_id: str) -> NumberError | None:
    """Why ``caller_id`` may not be shown on outgoing calls at all (F-NUM-3/4), or None."""
    try:
        check_outbound(caller_id, "03-1234-5678")
    except NumberError as err:
        if err.code in ("unsupported_caller_id", "invalid_caller_id"):
            return err
    return None


def save_list(request, lst: DialingList | None, *, name: str, caller_id: str, schedule_id: int | None, weekly: dict,
              calendars: list[str], retry: dict, preview_seconds: int, agent_ids: list[int]) -> DialingList:
    """Create or change a list; every field is checked first and nothing changes on an error."""
    from ..ivr.schedules import weekly_problems
    from ..telephony.models import PhoneNumber

    name = (name or "").strip()
    if not name:
        raise UserError("name_required", _("Enter a name for the list."), field="name", status=422)
    if len(name) > 100:
        raise UserError("name_too_long", _("The name is longer than 100 characters."), field="name", status=422)
    same = request.db.scalar(select(DialingList).where(DialingList.name == name))
    if same is not None and (lst is None or same.id != lst.id):
        raise UserError("name_taken", _("A list named \"${name}\" already exists.", mapping={"name": name}), field="name", status=422)
    own = request.db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == caller_id)) if caller_id else None
    if own is None or not own.voice_capable:
        raise UserError("caller_id_not_owned", _("The chosen caller ID is not one of the company's numbers."), field="caller_id", status=422)
    refused = caller_id_refusal(caller_id)
    if refused is not None:
        raise UserError(refused.code, refused.message, field="caller_id", status=422)
    if schedule_id is not None and request.db.scalar(select(Schedule.id).where(Schedule.id == schedule_id)) is None:
        raise UserError("no_such_schedule", _("The chosen business hours do not exist."), field="schedule_id", status=422)
    problems = weekly_problems(weekly or {})
    if problems:
        day, message = problems[0]
        raise UserError("invalid_time_range", message, field=day, status=422)
    known = request.registry.ecti.holiday_calendars
    unknown = [c for c in calendars if c not in known]
    if unknown:
        raise UserError("unknown_calendar", _("Unknown holiday calendar: ${name}", mapping={"name": unknown[0]}), field="calendars", status=422)
    rules = {}
    for kind in RETRY_KINDS:
        rule = (retry or {}).get(kind, DEFAULT_RETRY[kind])
        count, delay = int(rule.get("count", 0)), int(rule.get("delay_minutes", 0))
        if not (0 <= count <= 10 and 0 <= delay <= 10080):
            raise UserError("invalid_retry", _("Retries: 0 to 10 times, after 0 to 10080 minutes."), field=f"retry_{kind}", status=422)
        rules[kind] = {"count": count, "delay_minutes": delay}
    if not 0 <= preview_seconds <= 120:
        raise UserError("invalid_preview", _("The preview lasts 0 to 120 seconds."), field="preview_seconds", status=422)
    users = request.db.scalars(select(User).where(User.id.in_(agent_ids or [-1]), User.is_active.is_(True))).all()
    if len(users) != len(set(agent_ids)):
        raise UserError("unknown_agent", _("An assigned agent is not an active user of the company."), field="agent_ids", status=422)
    now = utcnow()
    if lst is None:
        lst = DialingList(tenant_id=request.tenant.id, status=ListStatus.draft, created_at=now, columns=[])
        request.db.add(lst)
    lst.name, lst.caller_id, lst.schedule_id = name, caller_id, schedule_id
    lst.weekly, lst.calendars, lst.retry, lst.preview_seconds = weekly or {}, list(calendars), rules, preview_seconds
    lst.updated_at = now
    wanted = {u.id for u in users}
    for member in list(lst.agents):
        if member.user_id not in wanted:
            lst.agents.remove(member)
    have = {m.user_id for m in lst.agents}
    for user_id in sorted(wanted - have):
        lst.agents.append(DialingListAgent(tenant_id=lst.tenant_id, user_id=user_id))
    request.db.flush()
    return lst


def preview_import(request, lst: DialingList, data: bytes, filename: str, user_id: int | None):
    """Check an uploaded CSV and keep the result for the admin's confirmation."""
    from .csv_import import check_csv
    from .models import DialingImport

    if lst.status is ListStatus.running:
        raise DialerError("list_running", _("Pause the list before adding numbers."))
    existing = set(request.db.scalars(select(DialingRow.number).where(DialingRow.list_id == lst.id)))
    dnc = set(request.db.scalars(select(DoNotCall.number)))
    checked = check_csv(data, caller_id=lst.caller_id, existing=existing, do_not_call=dnc)
    imp = DialingImport(tenant_id=lst.tenant_id, list_id=lst.id, user_id=user_id, filename=(filename or "")[:200],
                        encoding=checked.encoding, columns=checked.columns, good=checked.good, refused=checked.refused)
    request.db.add(imp)
    request.db.flush()
    return imp


def confirm_import(request, imp, now: datetime | None = None) -> int:
    """Import the good rows of a checked upload, all of them or none; returns how many."""
    now = now or utcnow()
    lst = lock_list(request, imp.list_id)
    if imp.confirmed_at is not None:
        raise DialerError("already_imported", _("This file was already imported."))
    if lst.status is ListStatus.running:
        raise DialerError("list_running", _("Pause the list before adding numbers."))
    if not imp.good:
        raise DialerError("nothing_to_import", _("No row of the file can be imported."), status=422)
    existing = set(request.db.scalars(select(DialingRow.number).where(DialingRow.list_id == lst.id)))
    dnc = set(request.db.scalars(select(DoNotCall.number)))
    if any(r["number"] in existing or r["number"] in dnc for r in imp.good):
        raise DialerError("changed_since_preview",
                          _("Numbers were added to the list or the do-not-call list since the check. Upload the file again."))
    request.db.add_all([
        DialingRow(tenant_id=lst.tenant_id, list_id=lst.id, row_number=r["row"], number=r["number"], name=r["name"][:200],
                   extra=r["extra"], status=RowStatus.pending, attempts=0, last_attempt_no=0, next_attempt_at=now)
        for r in imp.good
    ])
    imp.confirmed_at = now
    if not lst.columns:
        lst.columns = imp.columns
    if lst.status is ListStatus.finished:
        lst.status = ListStatus.paused
    lst.updated_at = now
    request.db.flush()
    record_change(request, "dialing_rows", op="import", target=lst, title=lst.name,
                  after={"file": imp.filename, "imported": len(imp.good)})
    return len(imp.good)
