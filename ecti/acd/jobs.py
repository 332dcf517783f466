"""The ACD's background work (huey, see :mod:`ecti.jobs`).

* ``acd.route`` (tenant) — scheduled when a wrap-up ends: write the ended wrap-ups to the status
  history (at the time they ended, whenever the job runs) and route that tenant's queues.
* ``acd.expire`` (tenant) — scheduled when an offer would expire: no-answer if still ringing.
* ``acd.tick`` — every minute: for every tenant with live ACD work (agents in wrap-up included),
  end what is over, expire, route (escalation, max wait) and reconcile; and schedule the
  phone sweeps of the coming minute.
* ``acd.presence`` — every ``timeout / 3`` seconds (scheduled by the tick): agents whose phone
  went quiet are written down as disconnected (:mod:`ecti.acd.phone`).

None of them is needed for correctness — time-based state is evaluated whenever it is read, and
every waiting caller's wait loop routes too — they make things happen on time when nothing
else is going on.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from huey import crontab
from sqlalchemy import func, select

from .. import jobs
from ..calls.events import apply_status, record_event
from ..calls.models import Call, CallStatus, EventKind
from ..models.meta import utcnow
from ..tenancy.models import Tenant
from .agents import agent_for, change, dialer_work_open
from .carrier_ops import carrier_for
from .models import Agent, AgentState, EntryStatus, Offer, OfferStatus, Presence, QueueEntry
from .phone import CONNECTED_PRESENCES, phone_settings, sweep
from .routing import expire_offers, leg_ended, route_tenant

log = logging.getLogger(__name__)

#: A live call is checked with the carrier once it has been in the ACD this long.
RECONCILE_AFTER = timedelta(minutes=2)


def route_job(registry, tenant_id: int) -> None:
    jobs.run_with_retry(registry, tenant_id, route_tenant)


def expire_job(registry, tenant_id: int) -> None:
    jobs.run_with_retry(registry, tenant_id, expire_offers)


def busy_tenants(registry) -> list[int]:
    with jobs.in_transaction(registry, None) as request:
        live = select(QueueEntry.tenant_id).where(QueueEntry.status != EntryStatus.ended)
        busy = select(Agent.tenant_id).where(Agent.state != AgentState.idle)
        return sorted(set(request.db.scalars(live.union(busy))))


def presence_job(registry, now: datetime | None = None) -> list[int]:
    """Sweep every tenant with agents whose phone went quiet; returns the agents disconnected."""
    now = now or utcnow()
    timeout = phone_settings(registry).timeout
    with jobs.in_transaction(registry, None) as request:
        last = func.coalesce(Agent.phone_seen_at, Agent.status_since)
        tenants = sorted(set(request.db.scalars(
            select(Agent.tenant_id).where(Agent.presence.in_(CONNECTED_PRESENCES), last < now - timeout)
        )))
    done = []
    for tenant_id in tenants:
        try:
            done += jobs.run_with_retry(registry, tenant_id, lambda r: sweep(r, now))
        except Exception:  # one tenant's trouble must not stop the others' sweep
            log.exception("phone sweep failed for tenant %s", tenant_id)
    return done


def schedule_sweeps(registry, now: datetime) -> None:
    """The sweeps of the coming minute, every third of the phone timeout (at least 5 s apart)."""
    step = max(5, phone_settings(registry).interval_seconds)
    for offset in range(0, 60, step):
        jobs.enqueue(registry, "acd.presence", eta=now + timedelta(seconds=offset) if offset else None)


def tick_job(registry) -> None:
    schedule_sweeps(registry, utcnow())
    for tenant_id in busy_tenants(registry):
        try:
            jobs.run_with_retry(registry, tenant_id, route_tenant)
            reconcile(registry, tenant_id)
        except Exception:  # one tenant's trouble must not stop the others' routing
            log.exception("ACD tick failed for tenant %s", tenant_id)


def reconcile(registry, tenant_id: int, now: datetime | None = None) -> list[str]:
    """Repair calls and agents left in a state by a lost carrier callback; returns what it did.

    * a call still in the ACD that the carrier says has ended: the ending is applied now (the
      caller abandoned, or the call completed) with a ``reconciled`` event;
    * an agent's leg the carrier says has ended while the ACD still counts the agent on it;
    * an agent ringing or on a call with no live offer: back to idle (or wrap-up over).
    """
    now = now or utcnow()
    repairs: list[str] = []
    with jobs.in_transaction(registry, tenant_id) as request:
        tenant = request.db.get(Tenant, tenant_id)
        carrier = carrier_for(request, tenant)
        status_of = getattr(carrier, "call_status", None)
        entries = request.db.scalars(
            select(QueueEntry).where(QueueEntry.status != EntryStatus.ended, QueueEntry.entered_at <= now - RECONCILE_AFTER,
                                     # A queued callback's caller has hung up on purpose (ecti.acd.callback).
                                     QueueEntry.callback_number.is_(None))
        ).all()
        checks = [(e.call_id, e.call.carrier_call_id, None) for e in entries]
        offers = request.db.scalars(
            select(Offer).where(Offer.status == OfferStatus.accepted, Offer.leg_id.is_not(None), Offer.accepted_at <= now - RECONCILE_AFTER)
        ).all()
        checks += [(o.call_id, o.leg_id, o.id) for o in offers]
    for call_id, carrier_call_id, offer_id in checks:
        if status_of is None:
            break
        try:
            status = status_of(request=request, tenant=tenant, carrier_call_id=carrier_call_id)
        except Exception:
            log.exception("could not ask the carrier about %s", carrier_call_id)
            continue
        if status is None:
            continue
        try:
            final = CallStatus(status).is_final
        except ValueError:
            continue
        if not final:
            continue

        def repair(request, call_id=call_id, offer_id=offer_id, status=status):
            call = request.db.get(Call, call_id)
            if offer_id is None:
                record_event(request, call, EventKind.reconciled, repair="call_ended", status=status)
                if not apply_status(request, call, CallStatus(status)):
                    from .routing import caller_left

                    caller_left(request, call)
            else:
                record_event(request, call, EventKind.reconciled, repair="agent_leg_ended", status=status, offer=offer_id)
                leg_ended(request, offer_id, status, None)

        jobs.run_with_retry(registry, tenant_id, repair)
        repairs.append(f"{carrier_call_id}:{status}")
    repairs += jobs.run_with_retry(registry, tenant_id, lambda r: release_stuck_agents(r, now))
    return repairs


def release_stuck_agents(request, now: datetime) -> list[str]:
    """Agents ringing or on a call without any live offer (a state nothing will ever end)."""
    repairs = []
    stuck = request.db.scalars(
        select(Agent.user_id).where(
            Agent.state.in_((AgentState.ringing, AgentState.on_call)),
            Agent.updated_at <= now - RECONCILE_AFTER,
            ~select(Offer.id).where(Offer.user_id == Agent.user_id, Offer.status.in_((OfferStatus.ringing, OfferStatus.accepted))).exists(),
            # A dialing-list call (ecti.dialer) has no offer; the dialer ends that state.
            ~dialer_work_open(Agent.user_id),
        )
    ).all()
    for user_id in stuck:
        agent = agent_for(request, user_id, lock=True)
        if agent.state not in (AgentState.ringing, AgentState.on_call):
            continue
        change(request, agent, state=AgentState.idle, at=now, reason="reconciled",
               available_at=now if agent.presence is Presence.available else None)
        repairs.append(f"agent {user_id} released")
        log.warning("ACD reconciler released agent %s, who was %s with no call", user_id, agent.status)
    return repairs


def includeme(config):
    config.add_job("acd.route", route_job)
    config.add_job("acd.expire", expire_job)
    config.add_job("acd.presence", presence_job)
    config.add_job("acd.tick", tick_job, periodic=crontab(minute="*"))
