"""Routing: waiting calls, offers (reservations) to agents, and how each call leaves the queue.

The two promises — a call is offered to at most one agent at a time (ring-all aside) and an
agent holds at most one call — hold across threads and app processes because every decision
locks what it changes, in one order (queue entry, then offers, then agents), inside the
request's transaction:

* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks the next waiting call and each free
  agent, so concurrent routers take different rows instead of waiting for each other, and a
  row seen free is still free when it is claimed (its lock is held until commit);
* SQLite: write transactions begin with ``BEGIN IMMEDIATE`` (``ecti.db``), so one writer at a
  time decides;
* and the database itself refuses a second live offer of one agent or a second accepted offer
  of one call (partial unique indexes on ``acd_offers``).

An offer expires at ``expires_at`` (evaluated when read: every routing pass expires what is
due first). Carrier operations that follow a decision (ring the agent, stop a ringing phone)
run after commit.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import and_, case, func, select

from .. import jobs
from ..calls.events import record_event
from ..calls.models import Call, EventKind
from ..models.meta import utcnow
from ..tenancy.models import Tenant, User
from ..voice.calls import softphone_identity
from ..voice.instructions import Continuation
from .agents import NO_ANSWER_PAUSE, agent_for, change, count_answered, count_talk, dialer_work_open, settle, settle_due_wrap_ups, stats_day
from .carrier_ops import after_commit, carrier_for, in_background, later
from .phone import phone_connected, phone_settings
from .models import (
    LIVE_OFFER, Agent, AgentState, EntryStatus, Offer, OfferStatus, Outcome, Presence, Queue, QueueEntry, QueueMember,
)

log = logging.getLogger(__name__)

DEFAULT_STRATEGY = "longest_idle"
#: How many free agents one routing decision reads (strategies that order in SQL).
CANDIDATE_LIMIT = 8
LIVE_ENTRY = (EntryStatus.waiting, EntryStatus.offered, EntryStatus.connected)


def conference_name(call_id: int) -> str:
    return f"call-{call_id}"


def strategy_for(request, queue: Queue):
    """The queue's strategy; one that is not installed (its plugin removed or disabled) routes as
    longest idle, so callers still reach agents, and says so in the log and on the queue pages."""
    strategies = request.registry.ecti.routing_strategies
    strategy = strategies.get(queue.strategy)
    if strategy is None:
        log.warning("queue %s: routing strategy %r is not installed; routing as %s", queue.id, queue.strategy, DEFAULT_STRATEGY)
        return strategies[DEFAULT_STRATEGY]
    return strategy


# --- reading ------------------------------------------------------------------------------------

def lock_entry(request, entry_id: int) -> QueueEntry | None:
    return request.db.scalar(
        select(QueueEntry).where(QueueEntry.id == entry_id).with_for_update().execution_options(populate_existing=True)
    )


def live_entry_of_call(request, call_id: int, *, lock: bool = True) -> QueueEntry | None:
    query = (
        select(QueueEntry).where(QueueEntry.call_id == call_id, QueueEntry.status.in_(LIVE_ENTRY))
        .order_by(QueueEntry.id.desc()).limit(1).execution_options(populate_existing=True)
    )
    return request.db.scalar(query.with_for_update() if lock else query)


def live_offers(request, entry_id: int, *, statuses=LIVE_OFFER) -> list[Offer]:
    return list(request.db.scalars(
        select(Offer).where(Offer.entry_id == entry_id, Offer.status.in_(statuses)).order_by(Offer.id)
        .with_for_update().execution_options(populate_existing=True)
    ))


def position_of(request, entry: QueueEntry) -> int:
    """1 for the next caller to be served."""
    ahead = request.db.scalar(
        select(func.count()).select_from(QueueEntry).where(
            QueueEntry.queue_id == entry.queue_id,
            QueueEntry.status.in_((EntryStatus.waiting, EntryStatus.offered)),
            (QueueEntry.entered_at < entry.entered_at)
            | and_(QueueEntry.entered_at == entry.entered_at, QueueEntry.id < entry.id),
        )
    )
    return ahead + 1


def waiting_count(request, queue_id: int) -> int:
    return request.db.scalar(
        select(func.count()).select_from(QueueEntry).where(
            QueueEntry.queue_id == queue_id, QueueEntry.status.in_((EntryStatus.waiting, EntryStatus.offered))
        )
    )


def logged_in_members(request, queue_id: int) -> int:
    return request.db.scalar(
        select(func.count()).select_from(QueueMember).join(Agent, Agent.user_id == QueueMember.user_id)
        .where(QueueMember.queue_id == queue_id, Agent.presence.not_in((Presence.offline, Presence.disconnected)))
    )


def wait_seconds(entry: QueueEntry, now: datetime) -> int:
    return max(0, int((now - entry.entered_at).total_seconds()))


# --- the routing decision ----------------------------------------------------------------------

def _next_waiting(request, queue: Queue, skip: set[int]) -> QueueEntry | None:
    query = (
        select(QueueEntry)
        .where(QueueEntry.queue_id == queue.id, QueueEntry.status == EntryStatus.waiting)
        .order_by(QueueEntry.entered_at, QueueEntry.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if skip:
        query = query.where(QueueEntry.id.not_in(skip))
    return request.db.scalar(query)


def _levels(request, queue: Queue, entry: QueueEntry, now: datetime):
    """The member levels this call may be offered to now, lowest first (escalation)."""
    steps = None
    if queue.escalation_seconds > 0:
        steps = 1 + wait_seconds(entry, now) // queue.escalation_seconds
    level = None
    while steps is None or steps > 0:
        query = select(func.min(QueueMember.level)).where(QueueMember.queue_id == queue.id)
        if level is not None:
            query = query.where(QueueMember.level > level)
        level = request.db.scalar(query)
        if level is None:
            return
        yield level
        if steps is not None:
            steps -= 1


def _columns(request, queue: Queue, now: datetime) -> SimpleNamespace:
    """What strategies may order by in SQL (``RoutingStrategy.sql_order``)."""
    today = stats_day(request, queue.tenant_id, now)
    return SimpleNamespace(
        agent_id=Agent.user_id,
        idle_since=Agent.available_at,
        member_order=QueueMember.position,
        calls_today=case((Agent.stats_date == today, Agent.calls_today), else_=0),
        talk_seconds_today=case((Agent.stats_date == today, Agent.talk_seconds_today), else_=0),
        random=func.random(),
    )


def candidates(request, queue: Queue, level: int, strategy, now: datetime) -> list:
    """Free members of ``level``, in the strategy's order."""
    from ..interfaces import RoutingCandidate

    cols = _columns(request, queue, now)
    query = (
        select(Agent.user_id, Agent.available_at, cols.calls_today, cols.talk_seconds_today, QueueMember.position, QueueMember.level)
        .join(QueueMember, and_(QueueMember.user_id == Agent.user_id, QueueMember.queue_id == queue.id, QueueMember.level == level))
        .where(
            Agent.presence == Presence.available,
            Agent.state.in_((AgentState.idle, AgentState.wrap_up)),
            Agent.available_at <= now,
            phone_connected(now, phone_settings(request.registry).timeout),
            ~dialer_work_open(Agent.user_id),
        )
    )
    sql_order = getattr(strategy, "sql_order", None)
    if sql_order is not None and not getattr(strategy, "rings_all", False):
        query = query.order_by(*sql_order(cols, queue=queue, cursor=queue.cursor)).limit(CANDIDATE_LIMIT)
    found = [
        RoutingCandidate(agent_id=row[0], level=row[5], member_order=row[4], idle_since=row[1], calls_today=row[2], talk_seconds_today=row[3])
        for row in request.db.execute(query)
    ]
    return list(strategy.order(found, queue=queue, cursor=queue.cursor))


def claim_agent(request, user_id: int, now: datetime) -> Agent | None:
    """Lock a free agent (skipping one another router holds); None when not free any more."""
    return request.db.scalar(
        select(Agent)
        .where(
            Agent.user_id == user_id,
            Agent.presence == Presence.available,
            Agent.state.in_((AgentState.idle, AgentState.wrap_up)),
            Agent.available_at <= now,
            # Never offer a call to an agent whose phone is not connected (ecti.acd.phone).
            phone_connected(now, phone_settings(request.registry).timeout),
            ~dialer_work_open(Agent.user_id),
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def route(request, queue: Queue, now: datetime | None = None, *, limit: int | None = None) -> int:
    """Offer waiting calls of ``queue`` to free agents; returns how many calls were offered.

    Calls are served in the order they entered (a call back from a missed offer keeps its
    place); lower member levels first, the next level once the call has waited the
    escalation time. When the first waiting call finds nobody, later ones (which waited less)
    cannot either, so the pass stops.
    """
    now = now or utcnow()
    strategy = strategy_for(request, queue)
    rings_all = getattr(strategy, "rings_all", False)
    offered, skip = 0, set()
    while limit is None or offered < limit:
        entry = _next_waiting(request, queue, skip)
        if entry is None:
            return offered
        skip.add(entry.id)
        if entry.callback_number is not None:
            from .callback import may_offer

            if not may_offer(request, queue, entry, now):
                continue  # a queued callback waiting for its retry time or the calling hours
        elif queue.max_wait_seconds and wait_seconds(entry, now) >= queue.max_wait_seconds:
            leave_queue(request, entry, Outcome.timed_out, now, reason="max_wait")
            continue
        claimed = []
        for level in _levels(request, queue, entry, now):
            for candidate in candidates(request, queue, level, strategy, now):
                agent = claim_agent(request, candidate.agent_id, now)
                if agent is None:
                    continue
                claimed.append((agent, candidate))
                if not rings_all:
                    break
            if claimed:
                break
        if not claimed:
            return offered
        entry.status = EntryStatus.offered
        for agent, candidate in claimed:
            make_offer(request, entry, queue, agent, now)
            if getattr(strategy, "uses_cursor", False):
                queue.cursor = candidate.member_order
        offered += 1
    return offered


def make_offer(request, entry: QueueEntry, queue: Queue, agent: Agent, now: datetime, *, kind: str = "queue",
               from_user_id: int | None = None) -> Offer:
    """Reserve ``agent`` (already locked and free) for ``entry`` and ring their phone after commit."""
    settle(request, agent, now)
    change(request, agent, state=AgentState.ringing, available_at=None, at=now, reason="offered", call_id=entry.call_id)
    offer = Offer(
        tenant_id=entry.tenant_id, entry_id=entry.id, call_id=entry.call_id, user_id=agent.user_id, status=OfferStatus.ringing,
        kind=kind, from_user_id=from_user_id, offered_at=now, expires_at=now + timedelta(seconds=queue.ring_timeout),
    )
    request.db.add(offer)
    request.db.flush()
    call = request.db.get(Call, entry.call_id)
    record_event(request, call, EventKind.offered, at=now, queue=queue.id, agent=agent.user_id, offer=offer.id, offer_kind=kind)
    _ring_after_commit(request, offer, call, queue)
    return offer


def _ring_after_commit(request, offer: Offer, call: Call, queue: Queue) -> None:
    """Ring the agent once the offer is committed, on the carrier pool (the webhook that made
    the offer answers without waiting for the carrier's REST API); a failed dial ends the offer."""
    registry = request.registry
    args = {"call": str(call.id), "offer": str(offer.id)}
    # A queued callback's caller has hung up: the agent's answer calls the customer (ecti.acd.callback).
    answer_handler = "acd.callback_agent" if offer.entry.callback_number is not None else "acd.agent_answer"
    offer_id, expires_at, tenant_id = offer.id, offer.expires_at, call.tenant_id
    identity = softphone_identity(request.db.get(User, offer.user_id))
    caller_id, ring_timeout, call_id = call.to_number, queue.ring_timeout, call.id
    background = in_background(request, tenant_id)

    def ring():
        try:
            with background as r:
                tenant = r.db.get(Tenant, tenant_id)
                leg = carrier_for(r, tenant).dial_agent(
                    # The leg's caller ID must be one of the company's numbers (Twilio refuses a
                    # caller's number with 21210); the page shows the caller from the offer.
                    request=r, tenant=tenant, identity=identity, caller_id=caller_id,
                    answer=Continuation(answer_handler, args), status=Continuation("acd.agent_leg", args),
                    timeout=ring_timeout,
                )
        except Exception:
            log.exception("could not ring %s for call %s", identity, call_id)
            jobs.run_with_retry(registry, tenant_id, lambda r: leg_ended(r, offer_id, "failed", None))
            return
        if leg:
            jobs.run_with_retry(registry, tenant_id, lambda r: remember_leg(r, offer_id, leg))

    after_commit(request, ring, f"ring {identity}", background=True)
    after_commit(request, lambda: jobs.enqueue(registry, "acd.expire", tenant_id, eta=expires_at), "schedule expiry")


def remember_leg(request, offer_id: int, leg_id: str) -> None:
    offer = request.db.get(Offer, offer_id)
    if offer is not None and offer.leg_id is None:
        offer.leg_id = leg_id
        if offer.status in (OfferStatus.canceled, OfferStatus.no_answer, OfferStatus.declined, OfferStatus.failed):
            # The offer ended (the caller left, another agent answered) while the carrier was
            # still creating the leg, so nobody could stop it then: stop it now.
            later(request, request.db.get(Tenant, offer.tenant_id), "end_leg", carrier_call_id=leg_id)


# --- offers resolved --------------------------------------------------------------------------

def _free_agent(request, offer: Offer, now: datetime, *, missed: bool, reason: str, queue: Queue) -> None:
    agent = agent_for(request, offer.user_id, lock=True)
    if agent.state not in (AgentState.ringing, AgentState.on_call):
        return
    if not missed:
        change(request, agent, state=AgentState.idle, at=now, reason=reason, call_id=offer.call_id,
               available_at=now if agent.presence is Presence.available else None)
        return
    agent.missed_in_row += 1
    if agent.missed_in_row >= max(1, queue.max_no_answers):
        change(request, agent, state=AgentState.idle, presence=Presence.away, away_reason="no_answer", available_at=None,
               at=now, reason="max_no_answers", call_id=offer.call_id)
    else:
        change(request, agent, state=AgentState.idle, at=now, reason=reason, call_id=offer.call_id,
               available_at=now + NO_ANSWER_PAUSE if agent.presence is Presence.available else None)


def resolve_offer(request, entry: QueueEntry, offer: Offer, status: OfferStatus, now: datetime, *, stop_phone: bool) -> None:
    """End a ringing offer as declined, no-answer, failed or canceled; the call goes back to
    its place in the queue when no other offer of it still rings."""
    queue = entry.queue
    offer.status = status
    offer.ended_at = now
    missed = status in (OfferStatus.declined, OfferStatus.no_answer, OfferStatus.failed)
    _free_agent(request, offer, now, missed=missed, reason=status.value, queue=queue)
    call = request.db.get(Call, entry.call_id)
    ring_seconds = int((now - offer.offered_at).total_seconds())
    if missed:
        record_event(request, call, EventKind.no_answer, at=now, queue=queue.id, agent=offer.user_id, reason=status.value,
                     ring_seconds=ring_seconds, offer_kind=offer.kind)
    else:
        record_event(request, call, EventKind.offer_canceled, at=now, queue=queue.id, agent=offer.user_id, offer_kind=offer.kind)
    if stop_phone and offer.leg_id:
        later(request, request.db.get(Tenant, entry.tenant_id), "end_leg", carrier_call_id=offer.leg_id)
    if offer.kind == "queue" and entry.status is EntryStatus.offered:
        request.db.flush()
        if not live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
            entry.status = EntryStatus.waiting
            if missed:
                entry.missed_offers += 1


def expire_offers(request, now: datetime | None = None) -> int:
    """Offers whose time is over are no-answers (a lost carrier callback cannot keep an agent
    reserved: FreeSWITCH's agents stuck in Reserved). Returns how many expired."""
    now = now or utcnow()
    entries = list(request.db.scalars(
        select(QueueEntry).join(Offer, Offer.entry_id == QueueEntry.id)
        .where(Offer.status == OfferStatus.ringing, Offer.expires_at <= now)
        .with_for_update(of=QueueEntry, skip_locked=True).execution_options(populate_existing=True)
    ).unique())
    expired, queues = 0, {}
    for entry in entries:
        for offer in live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
            if offer.expires_at <= now:
                resolve_offer(request, entry, offer, OfferStatus.no_answer, now, stop_phone=True)
                expired += 1
        queues[entry.queue_id] = entry.queue
    for queue in queues.values():
        route(request, queue, now)
    return expired


def leg_ended(request, offer_id: int, leg_status: str, leg_id: str | None, now: datetime | None = None) -> None:
    """The carrier says the agent's phone stopped: not answered, refused, failed, or hung up."""
    now = now or utcnow()
    offer = request.db.get(Offer, offer_id)
    if offer is None:
        return
    # The call first, then its entry: the order the caller's own status callback locks them in.
    call = lock_call(request, offer.call_id)
    entry = lock_entry(request, offer.entry_id)
    offer = request.db.scalar(select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True))
    if leg_id and offer.leg_id is None:
        offer.leg_id = leg_id
    if offer.status is OfferStatus.ringing:
        status = {"busy": OfferStatus.declined, "failed": OfferStatus.failed}.get(leg_status, OfferStatus.no_answer)
        resolve_offer(request, entry, offer, status, now, stop_phone=False)
        route(request, entry.queue, now)
    elif offer.status is OfferStatus.accepted:
        if offer.joined_at is None:
            # Accepted on the page, but the phone never joined: the call goes back to its place.
            _unaccept(request, entry, offer, now)
            route(request, entry.queue, now)
        elif entry.status is EntryStatus.connected and entry.agent_user_id == offer.user_id and entry.callback_number is not None:
            from .callback import agent_left

            agent_left(request, entry, offer, now)
        elif entry.status is EntryStatus.connected and entry.agent_user_id == offer.user_id:
            # Twilio does not order the callbacks of different legs: when the caller hangs up,
            # the conference ends and the agent's leg with it, and the agent's "completed" may
            # come first. Who hung up is decided by the caller's leg itself, not by arrival.
            caller_status = caller_leg_status(request, call)
            if caller_status is not None and caller_status.is_final:
                from ..calls.events import apply_status

                apply_status(request, call, caller_status, at=now)  # → caller_left: by the caller
            else:
                end_call(request, entry, "agent", now)


def lock_call(request, call_id: int) -> Call | None:
    return request.db.scalar(select(Call).where(Call.id == call_id).with_for_update().execution_options(populate_existing=True))


def caller_leg_status(request, call: Call):
    """The caller's leg as the carrier sees it now (a :class:`CallStatus`), or None when the
    carrier cannot tell. A call ECTI already knows to be over is not asked about."""
    from ..calls.models import CallStatus

    if call.status.is_final:
        return call.status
    tenant = request.db.get(Tenant, call.tenant_id)
    carrier = carrier_for(request, tenant)
    status_of = getattr(carrier, "call_status", None)
    if status_of is None:
        return None
    try:
        status = status_of(request=request, tenant=tenant, carrier_call_id=call.carrier_call_id)
        return CallStatus(status) if status else None
    except Exception:
        log.warning("could not ask the carrier about the caller's leg %s", call.carrier_call_id, exc_info=True)
        return None


def _unaccept(request, entry: QueueEntry, offer: Offer, now: datetime) -> None:
    offer.status = OfferStatus.no_answer
    offer.ended_at = now
    _free_agent(request, offer, now, missed=True, reason="phone_not_joined", queue=entry.queue)
    call = request.db.get(Call, entry.call_id)
    record_event(request, call, EventKind.no_answer, at=now, queue=entry.queue_id, agent=offer.user_id, reason="phone_not_joined", offer_kind=offer.kind)
    if offer.kind == "queue" and entry.status is EntryStatus.connected:
        entry.status = EntryStatus.waiting
        entry.connected_at = None
        entry.agent_user_id = None
        entry.missed_offers += 1


def accept(request, offer_id: int, *, joined: bool, user_id: int | None = None, now: datetime | None = None) -> Offer | None:
    """The agent takes the call (on the page, or by answering the phone: ``joined``).

    Returns the accepted offer, or None when the call is no longer theirs to take (another
    agent answered first, the offer expired, the caller hung up). The first of several
    ringing agents (ring-all) to get here wins; the others' phones stop.
    """
    now = now or utcnow()
    offer = request.db.get(Offer, offer_id)
    if offer is None or (user_id is not None and offer.user_id != user_id):
        return None
    entry = lock_entry(request, offer.entry_id)
    offer = request.db.scalar(select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True))
    if offer.status is OfferStatus.accepted:
        if joined and offer.joined_at is None:
            offer.joined_at = now
        return offer
    if offer.status is not OfferStatus.ringing:
        return None
    expected = EntryStatus.offered if offer.kind == "queue" else EntryStatus.connected
    if entry.status is not expected:
        return None
    call = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    queue = entry.queue
    if offer.kind == "queue":
        for other in live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
            if other.id != offer.id:
                resolve_offer(request, entry, other, OfferStatus.canceled, now, stop_phone=True)
        entry.status = EntryStatus.connected
        entry.connected_at = now
        record_event(request, call, EventKind.connected, at=now, queue=queue.id, agent=offer.user_id,
                     wait_seconds=wait_seconds(entry, now), ring_seconds=int((now - offer.offered_at).total_seconds()))
    else:
        previous = [o for o in live_offers(request, entry.id, statuses=(OfferStatus.accepted,))]
        for old in previous:
            old.status = OfferStatus.ended
            old.ended_at = now
            request.db.flush()
            _to_wrap_up(request, old, queue, now, talk_from=old.accepted_at)
            if old.leg_id:
                later(request, tenant, "end_leg", carrier_call_id=old.leg_id)
        record_event(request, call, EventKind.transferred, at=now, queue=queue.id, to_kind="agent",
                     agent=offer.user_id, from_agent=offer.from_user_id)
        if entry.on_hold:
            _set_hold(request, entry, False, now)
            later(request, tenant, "hold", conference=conference_name(call.id), carrier_call_id=call.carrier_call_id, hold=False, music=None)
    entry.agent_user_id = offer.user_id
    offer.status = OfferStatus.accepted
    offer.accepted_at = now
    if joined:
        offer.joined_at = now
    request.db.flush()
    agent = agent_for(request, offer.user_id, lock=True)
    change(request, agent, state=AgentState.on_call, available_at=None, at=now, reason="connected", call_id=call.id)
    agent.missed_in_row = 0
    count_answered(request, agent, now)
    return offer


def decline(request, offer_id: int, user_id: int, now: datetime | None = None) -> bool:
    """The agent refuses the ringing offer on the page (counts as a missed offer)."""
    now = now or utcnow()
    offer = request.db.get(Offer, offer_id)
    if offer is None or offer.user_id != user_id:
        return False
    entry = lock_entry(request, offer.entry_id)
    offer = request.db.scalar(select(Offer).where(Offer.id == offer_id).with_for_update().execution_options(populate_existing=True))
    if offer.status is not OfferStatus.ringing:
        return False
    resolve_offer(request, entry, offer, OfferStatus.declined, now, stop_phone=True)
    route(request, entry.queue, now)
    return True


def route_offer_back(request, agent: Agent, now: datetime) -> None:
    """The agent's phone is gone while a call rings for them: the offer failed, the call goes
    back to its place and on to another agent (ecti.acd.phone)."""
    offer = request.db.scalar(select(Offer).where(Offer.user_id == agent.user_id, Offer.status == OfferStatus.ringing))
    if offer is None:
        return
    entry = lock_entry(request, offer.entry_id)
    offer = request.db.scalar(select(Offer).where(Offer.id == offer.id).with_for_update().execution_options(populate_existing=True))
    if offer.status is not OfferStatus.ringing:
        return
    resolve_offer(request, entry, offer, OfferStatus.failed, now, stop_phone=True)
    route(request, entry.queue, now)


def decline_live_offer(request, agent: Agent, *, reason: str) -> None:
    offer = request.db.scalar(select(Offer).where(Offer.user_id == agent.user_id, Offer.status == OfferStatus.ringing))
    if offer is not None:
        decline(request, offer.id, agent.user_id)


# --- calls ending -----------------------------------------------------------------------------

def _to_wrap_up(request, offer: Offer, queue: Queue, now: datetime, *, talk_from: datetime | None) -> None:
    agent = agent_for(request, offer.user_id, lock=True)
    if agent.state is not AgentState.on_call:
        return
    if talk_from is not None:
        count_talk(request, agent, int((now - talk_from).total_seconds()), now)
    if queue.wrap_up_seconds > 0:
        until = now + timedelta(seconds=queue.wrap_up_seconds)
        change(request, agent, state=AgentState.wrap_up, available_at=until, at=now, reason="call_ended", call_id=offer.call_id)
        registry, tenant_id = request.registry, agent.tenant_id
        after_commit(request, lambda: jobs.enqueue(registry, "acd.route", tenant_id, eta=until), "schedule wrap-up end")
    else:
        change(request, agent, state=AgentState.idle, at=now, reason="call_ended", call_id=offer.call_id,
               available_at=now if agent.presence is Presence.available else None)


def _set_hold(request, entry: QueueEntry, on: bool, now: datetime) -> None:
    if on and not entry.on_hold:
        entry.on_hold, entry.held_at = True, now
    elif not on and entry.on_hold:
        entry.hold_seconds += int((now - (entry.held_at or now)).total_seconds())
        entry.on_hold, entry.held_at = False, None


def end_call(request, entry: QueueEntry, by: str, now: datetime | None = None) -> None:
    """An answered call ended (``by`` the caller or the agent): the agent goes to wrap-up."""
    now = now or utcnow()
    call = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    queue = entry.queue
    _set_hold(request, entry, False, now)
    entry.status = EntryStatus.ended
    entry.outcome = Outcome.completed
    entry.ended_by = by
    entry.ended_at = now
    for offer in live_offers(request, entry.id):
        if offer.status is OfferStatus.ringing:  # a warm transfer still ringing
            resolve_offer(request, entry, offer, OfferStatus.canceled, now, stop_phone=True)
            continue
        offer.status = OfferStatus.ended
        offer.ended_at = now
        _to_wrap_up(request, offer, queue, now, talk_from=offer.accepted_at)
        # A leg that joined the conference ended with it (the caller's leaving ends it):
        # only a leg accepted on the page that never joined is still to be stopped.
        if by == "caller" and offer.leg_id and offer.joined_at is None:
            later(request, tenant, "end_leg", carrier_call_id=offer.leg_id)
    record_event(request, call, EventKind.queue_completed, at=now, queue=queue.id, by=by, agent=entry.agent_user_id,
                 talk_seconds=int((now - (entry.connected_at or now)).total_seconds()), hold_seconds=entry.hold_seconds,
                 wait_seconds=int(((entry.connected_at or now) - entry.entered_at).total_seconds()))
    if by == "agent" and not call.status.is_final:
        later(request, tenant, "hangup", carrier_call_id=call.carrier_call_id)
    request.db.flush()
    if queue.wrap_up_seconds <= 0:
        route(request, queue, now)


def leave_queue(request, entry: QueueEntry, outcome: Outcome, now: datetime, *, reason: str, redirect: bool = True) -> None:
    """A waiting call leaves without an agent: timed out, left empty, or abandoned by the caller.

    Offers still ringing stop; timed-out and left-empty callers are sent to the overflow.
    """
    call = request.db.get(Call, entry.call_id)
    tenant = request.db.get(Tenant, entry.tenant_id)
    for offer in live_offers(request, entry.id, statuses=(OfferStatus.ringing,)):
        resolve_offer(request, entry, offer, OfferStatus.canceled, now, stop_phone=True)
    entry.status = EntryStatus.ended
    entry.outcome = outcome
    entry.ended_at = now
    entry.ended_by = "caller" if outcome is Outcome.abandoned else "system"
    waited = wait_seconds(entry, now)
    kind = {Outcome.abandoned: EventKind.abandoned, Outcome.timed_out: EventKind.timed_out}.get(outcome, EventKind.exit_empty)
    record_event(request, call, kind, at=now, queue=entry.queue_id, wait_seconds=waited, reason=reason,
                 position=position_of(request, entry) if outcome is Outcome.abandoned else None)
    if redirect and outcome is not Outcome.abandoned and not call.status.is_final:
        later(request, tenant, "redirect", carrier_call_id=call.carrier_call_id,
              continuation=Continuation("acd.overflow", {"entry": str(entry.id), "reason": reason}))


def caller_left(request, call: Call, now: datetime | None = None) -> None:
    """The caller's call ended: abandoned while waiting, or completed by the caller."""
    now = now or utcnow()
    entry = live_entry_of_call(request, call.id)
    if entry is None:
        return
    if entry.callback_number is not None:
        return  # a queued callback: the caller hung up after asking for it (ecti.acd.callback)
    if entry.status is EntryStatus.connected:
        end_call(request, entry, "caller", now)
    else:
        leave_queue(request, entry, Outcome.abandoned, now, reason="caller_hung_up")


# --- when a match may have become possible ----------------------------------------------------

def queues_of_agent(request, user_id: int) -> list[Queue]:
    return list(request.db.scalars(
        select(Queue).join(QueueMember, QueueMember.queue_id == Queue.id).where(QueueMember.user_id == user_id).order_by(Queue.id)
    ))


def route_for_agent(request, user_id: int, now: datetime | None = None) -> int:
    """The agent became free: route the queues they belong to (oldest waiting call first)."""
    now = now or utcnow()
    queues = queues_of_agent(request, user_id)
    oldest = {}
    for queue in queues:
        first = request.db.scalar(
            select(func.min(QueueEntry.entered_at)).where(QueueEntry.queue_id == queue.id, QueueEntry.status == EntryStatus.waiting)
        )
        if first is not None:
            oldest[queue.id] = first
    routed = 0
    for queue in sorted((q for q in queues if q.id in oldest), key=lambda q: oldest[q.id]):
        routed += route(request, queue, now)
    return routed


def leave_when_empty(request, user_id: int, now: datetime | None = None) -> None:
    """The agent signed off: queues left with nobody logged in send their callers on."""
    now = now or utcnow()
    for queue in queues_of_agent(request, user_id):
        if not queue.leave_when_empty or logged_in_members(request, queue.id) > 0:
            continue
        for entry in request.db.scalars(
            select(QueueEntry).where(QueueEntry.queue_id == queue.id, QueueEntry.status.in_((EntryStatus.waiting, EntryStatus.offered)),
                                     QueueEntry.callback_number.is_(None))  # callbacks wait for agents to return
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)
        ).all():
            leave_queue(request, entry, Outcome.exit_empty, now, reason="no_agents")


def route_tenant(request, now: datetime | None = None) -> int:
    """End the wrap-ups that are over (in the history, at the time they ended), expire what is
    due and route every queue of the request's tenant with waiting calls."""
    now = now or utcnow()
    settle_due_wrap_ups(request, now)
    expire_offers(request, now)
    routed = 0
    queues = request.db.scalars(
        select(Queue).where(Queue.id.in_(select(QueueEntry.queue_id).where(QueueEntry.status == EntryStatus.waiting))).order_by(Queue.id)
    ).all()
    for queue in queues:
        routed += route(request, queue, now)
    return routed
