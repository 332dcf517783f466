"""The cost of one routing decision as the number of agents grows (issue 6), on PostgreSQL.

For 10, 1,000 and 10,000 agents (half of them free, all members of one queue, longest idle)
and 1,000 waiting calls, it times one routing decision — take the next waiting call, find the
free agent the strategy prefers, claim both, write the offer, the agent's status change and
the call event — inside a transaction that is then rolled back, so every repetition decides on
the same data. It prints the median per size, the growth ratio (target: 10,000 agents at most
3× the cost of 10) and how many calls per second one process routes when the decisions are
committed (with the test carrier's after-commit bookkeeping).

    .venv/bin/python benchmarks/routing.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

SIZES = (10, 1_000, 10_000)
WAITING = 1_000
REPEAT = 200


def setup(registry, engine, tenant_id: int, agents: int):
    from ecti.acd.models import Agent, AgentState, Presence, Queue, QueueEntry, QueueMember
    from ecti.calls.models import Call, CallStatus, Direction
    from ecti.models.meta import utcnow
    from ecti.tenancy.models import Role, User

    now = utcnow()
    with engine.begin() as conn:
        queue_id = conn.execute(insert(Queue).values(
            tenant_id=tenant_id, name=f"bench-{agents}", strategy="longest_idle", ring_timeout=20, wrap_up_seconds=0,
            escalation_seconds=0, overflow={}, join_when_empty=True, leave_when_empty=False, max_no_answers=3,
            service_level_seconds=20, hold_audio={}, announce_seconds=0, announce_position=False, announce_wait=False, created_at=now,
        ).returning(Queue.id)).scalar_one()
        user_ids = conn.execute(insert(User).returning(User.id), [
            {"tenant_id": tenant_id, "email": f"bench-{agents}-{i}@example.jp", "display_name": f"agent {i}", "role": Role.agent,
             "is_active": True, "failed_logins": 0, "session_epoch": 0, "created_at": now} for i in range(agents)
        ]).scalars().all()
        conn.execute(insert(Agent), [
            {"user_id": uid, "tenant_id": tenant_id, "presence": Presence.available,
             "state": AgentState.idle if i % 2 == 0 else AgentState.on_call,
             "available_at": now - timedelta(seconds=(i * 7919) % 3600) if i % 2 == 0 else None,
             "status": "available" if i % 2 == 0 else "on_call", "status_since": now, "missed_in_row": 0, "calls_today": 0,
             "talk_seconds_today": 0, "updated_at": now, "phone_seen_at": now} for i, uid in enumerate(user_ids)
        ])
        conn.execute(insert(QueueMember), [
            {"tenant_id": tenant_id, "queue_id": queue_id, "user_id": uid, "level": 1, "position": i} for i, uid in enumerate(user_ids)
        ])
        call_ids = conn.execute(insert(Call).returning(Call.id), [
            {"tenant_id": tenant_id, "carrier_call_id": f"CA-bench-{agents}-{i}", "direction": Direction.inbound,
             "from_number": "+819012345678", "to_number": "+815011112222", "status": CallStatus.in_progress, "started_at": now}
            for i in range(WAITING)
        ]).scalars().all()
        conn.execute(insert(QueueEntry), [
            {"tenant_id": tenant_id, "queue_id": queue_id, "call_id": cid, "status": "waiting", "entered_at": now - timedelta(seconds=i),
             "on_hold": False, "hold_seconds": 0, "missed_offers": 0} for i, cid in enumerate(call_ids)
        ])
        conn.execute(text("ANALYZE"))
    return queue_id


def decision_seconds(registry, tenant_id: int, queue_id: int, *, commit: bool) -> float:
    import transaction
    from pyramid.scripting import prepare

    from ecti.acd.models import Queue
    from ecti.acd.routing import route
    from ecti.db import set_tenant_scope

    env = prepare(registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    set_tenant_scope(request.db, tenant_id)
    queue = request.db.scalar(select(Queue).where(Queue.id == queue_id))
    start = time.perf_counter()
    routed = route(request, queue, limit=1)
    if commit:
        request.tm.commit()
    elapsed = time.perf_counter() - start
    if not commit:
        request.tm.abort()
    env["closer"]()
    assert routed == 1, "nothing was routed: the benchmark data is wrong"
    return elapsed


def main():
    from ecti.acd.testing import RecordingCarrier, carrier_plugin
    from ecti.config import configure
    from ecti.db import make_engine
    from ecti.plugins import get_plugin_manager
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database, base_settings
    from ecti.tenancy.services import create_tenant
    from ecti import migrate
    from ecti.db import make_session_factory, all_tenants

    parser = make_parser(__doc__)
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where a throw-away database is created")
    args = parser.parse_args()
    global SIZES, WAITING, REPEAT
    committed = 300
    if args.smoke:
        SIZES, WAITING, REPEAT, committed = (4, 40), 20, 5, 5
    url = _create_pg_database(args.url)
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        carrier = RecordingCarrier()
        config = configure(base_settings(url), plugin_manager=get_plugin_manager(plugins=[carrier_plugin(carrier)]), engine=engine)
        session = make_session_factory(engine)()
        with all_tenants(session):
            tenant = create_tenant(session, slug="bench", name="ベンチマーク")
            tenant.carrier = "recording"
            session.commit()
            tenant_id = tenant.id
        session.close()
        medians = {}
        print(f"one routing decision, {WAITING} waiting calls, half of the agents free, longest idle, PostgreSQL, {machine()}")
        for size in SIZES:
            queue_id = setup(config.registry, engine, tenant_id, size)
            for _ in range(10):  # warm the caches and the plans
                decision_seconds(config.registry, tenant_id, queue_id, commit=False)
            samples = [decision_seconds(config.registry, tenant_id, queue_id, commit=False) for _ in range(REPEAT)]
            medians[size] = statistics.median(samples)
            print(f"  {size:>6} agents: median {medians[size] * 1000:.2f} ms, p90 {statistics.quantiles(samples, n=10)[-1] * 1000:.2f} ms")
        ratio = medians[SIZES[-1]] / medians[SIZES[0]]
        print(f"growth ratio {SIZES[-1]} / {SIZES[0]} agents: {ratio:.2f}x (target <= 3x): {'ok' if ratio <= 3 else 'OVER TARGET'}")
        figure("routing.decision", medians[SIZES[-1]] * 1000, f"ms at {SIZES[-1]:,} agents")
        figure("routing.decision.growth", ratio, f"x ({SIZES[-1]:,} / {SIZES[0]:,} agents)", target="<= 3", ok=ratio <= 3)
        queue_id = setup(config.registry, engine, tenant_id, SIZES[-1] + 1)
        count, start = committed, time.perf_counter()
        for _ in range(count):
            decision_seconds(config.registry, tenant_id, queue_id, commit=True)
        elapsed = time.perf_counter() - start
        print(f"routed and committed {count} calls with {SIZES[-1] + 1} agents in {elapsed:.2f} s: "
              f"{count / elapsed:.0f} calls/s in one process (the carrier's after-commit work included)")
        figure("routing.committed", count / elapsed, "calls/s, one process")
        engine.dispose()
    finally:
        _drop_pg_database(args.url, url)


if __name__ == "__main__":
    main()
