"""A randomized concurrency test of the ACD on PostgreSQL (several threads, one database).

Hundreds of callers and dozens of agents; every carrier callback and agent click is its own
transaction, run by whichever thread draws it, so the same phone can be answered, refused and
reported unanswered at the same moment by different threads (as repeated or crossing webhooks
from several app processes would). Afterwards the database must show: no call connected to two
agents at once, no agent with two calls (or offers) at once, exactly one outcome per call, and
each agent's status durations adding up to their logged-in time.
"""
import random
import threading
from collections import defaultdict

import pytest
from sqlalchemy import select

from ecti.acd.agents import set_presence
from ecti.acd.models import AgentStatusChange, EntryStatus, Offer, OfferStatus, Presence, Queue, QueueEntry, QueueMember
from ecti.acd.routing import accept, decline, route_tenant
from ecti.acd.testing import ACDDriver, RecordingCarrier, carrier_plugin
from ecti.calls.models import CallEvent, EventKind
from ecti.config import configure
from ecti.plugins import get_plugin_manager
from ecti.tenancy.models import User

CALLS = 240
AGENTS = 24
THREADS = 8
TERMINAL = {EventKind.queue_completed, EventKind.abandoned, EventKind.timed_out, EventKind.exit_empty, EventKind.overflowed}


def test_randomized_calls_and_agents_keep_every_promise(database_url, app_settings, engine, clean_database, make_tenant, make_user, db):
    if not database_url.startswith("postgresql"):
        pytest.skip("the several-process guarantees are PostgreSQL's (SQLite has one writer)")
    carrier = RecordingCarrier()
    config = configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[carrier_plugin(carrier)]), engine=engine)
    tenant = make_tenant()
    tenant.carrier = "recording"
    db.commit()
    users = [make_user(tenant, role="agent", email=f"agent{i}@acme.example", name=f"agent{i}") for i in range(AGENTS)]
    # Two queues sharing agents: one longest-idle with two levels, one ring-all.
    main = Queue(tenant_id=tenant.id, name="main", wrap_up_seconds=0, escalation_seconds=0, ring_timeout=30, overflow={}, hold_audio={}, max_no_answers=100)
    ring_all = Queue(tenant_id=tenant.id, name="ring-all", strategy="ring_all", wrap_up_seconds=0, overflow={}, hold_audio={}, max_no_answers=100)
    db.add_all([main, ring_all])
    db.flush()
    for i, user in enumerate(users):
        db.add(QueueMember(tenant_id=tenant.id, queue_id=main.id, user_id=user.id, level=1 + i % 2, position=i))
        if i % 3 == 0:
            db.add(QueueMember(tenant_id=tenant.id, queue_id=ring_all.id, user_id=user.id, level=1, position=i))
    db.commit()
    driver = ACDDriver(config.registry, tenant.id, carrier)
    for user in users:
        driver.run(lambda r, uid=user.id: set_presence(r, r.db.get(User, uid), Presence.available))

    identities = {f"agent-{u.id}": u.id for u in users}
    calls, calls_lock = [], threading.Lock()
    errors = []
    rng = random.Random(20261125)
    seeds = [rng.randrange(1 << 30) for _ in range(THREADS)]

    def ringing_legs():
        with driver.carrier._lock:
            return list(driver.carrier.legs.items())

    def one_step(r: random.Random):
        roll = r.random()
        if roll < 0.25:
            with calls_lock:
                if len(calls) >= CALLS:
                    return
                number = f"+8190{len(calls):08d}"
                calls.append(None)
            call_id = driver.incoming(number)
            driver.enqueue(call_id, main.id if r.random() < 0.8 else ring_all.id)
            with calls_lock:
                calls[calls.index(None)] = call_id
            return
        legs = ringing_legs()
        if roll < 0.75 and legs:
            leg, info = r.choice(legs[-40:])
            call_id = int(info["answer"].args["call"])
            offer_id = int(info["answer"].args["offer"])
            user_id = identities[info["identity"]]
            action = r.random()
            if action < 0.45:
                driver.step(call_id, "acd.agent_answer", info["answer"].args, _input(leg))
            elif action < 0.55:
                driver.run(lambda rq: accept(rq, offer_id, joined=False, user_id=user_id))
            elif action < 0.65:
                driver.run(lambda rq: decline(rq, offer_id, user_id))
            elif action < 0.8:
                driver.step(call_id, "acd.agent_leg", info["status"].args, _input(leg, r.choice(["no-answer", "busy"])))
            else:  # the agent (or the far end) hangs up an answered call
                driver.step(call_id, "acd.agent_leg", info["status"].args, _input(leg, "completed"))
            return
        with calls_lock:
            known = [c for c in calls if c is not None]
        if roll < 0.93 and known:
            driver.caller_hangs_up(r.choice(known))  # abandons, or completes an answered call
            return
        driver.run(route_tenant)

    def worker(seed):
        r = random.Random(seed)
        try:
            for _ in range(CALLS * 12 // THREADS):
                one_step(r)
        except Exception as exc:  # collected and reported by the main thread
            errors.append(exc)
            raise

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # Every caller eventually hangs up; then every agent signs off.
    for call_id in [c for c in calls if c is not None]:
        driver.caller_hangs_up(call_id)
    for user in users:
        driver.run(lambda r, uid=user.id: set_presence(r, r.db.get(User, uid), Presence.offline))

    db.commit()
    db.expire_all()
    offers = db.scalars(select(Offer)).all()
    entries = db.scalars(select(QueueEntry)).all()
    # Enough traffic to mean something; how much is offered depends on thread timing.
    assert len(entries) >= CALLS * 0.9 and len(offers) >= 20
    assert all(o.status not in (OfferStatus.ringing, OfferStatus.accepted) and o.ended_at for o in offers)

    # No call connected to two agents at once; no agent with two offers (ringing or talking) at once.
    def disjoint(intervals):
        intervals = sorted(intervals)
        return all(a_end <= b_start for (_a_start, a_end), (b_start, _b_end) in zip(intervals, intervals[1:]))

    talking_by_call, busy_by_agent = defaultdict(list), defaultdict(list)
    for offer in offers:
        busy_by_agent[offer.user_id].append((offer.offered_at, offer.ended_at))
        if offer.accepted_at is not None:
            talking_by_call[offer.call_id].append((offer.accepted_at, offer.ended_at))
    assert all(disjoint(v) for v in talking_by_call.values())
    assert all(disjoint(v) for v in busy_by_agent.values())
    events = db.scalars(select(CallEvent).where(CallEvent.kind.in_([k.value for k in TERMINAL] + [EventKind.connected.value]))).all()
    connected = defaultdict(int)
    for event in events:
        if event.kind is EventKind.connected:
            connected[event.call_id] += 1
    assert sum(connected.values()) >= 10  # calls were actually answered, not only abandoned

    # Exactly one outcome per call.
    assert all(e.status is EntryStatus.ended and e.outcome is not None for e in entries)
    outcomes = defaultdict(list)
    for event in events:
        if event.kind in TERMINAL:
            outcomes[event.call_id].append(event.kind)
    assert {e.call_id for e in entries} == set(outcomes)
    assert all(len(kinds) == 1 for kinds in outcomes.values()), {c: k for c, k in outcomes.items() if len(k) != 1}

    # Status durations add up to logged-in time, per agent.
    for user in users:
        changes = db.scalars(select(AgentStatusChange).where(AgentStatusChange.user_id == user.id).order_by(AgentStatusChange.id)).all()
        assert changes[0].from_status == "offline" and changes[-1].to_status == "offline"
        total, logged_in, since = 0.0, 0.0, None
        for before, after in zip(changes, changes[1:]):
            assert after.from_status == before.to_status and after.at >= before.at
            total += (after.at - before.at).total_seconds()
        for change in changes:
            if change.from_status == "offline":
                since = change.at
            if change.to_status == "offline":
                logged_in += (change.at - since).total_seconds()
        on_line = sum((b.at - a.at).total_seconds() for a, b in zip(changes, changes[1:]) if a.to_status != "offline")
        assert on_line == pytest.approx(logged_in)
        assert total == pytest.approx((changes[-1].at - changes[0].at).total_seconds())


def _input(leg, status=None):
    from ecti.voice.instructions import CallInput

    return CallInput(call_status=status, carrier_call_id=leg)
