"""The conversation list (会話一覧) on 1,000,000 calls, on PostgreSQL (issue 8).

Creates a throw-away database, migrates it, loads 1,000,000 calls of one company (and 200,000 of
another, so the tenant filter has something to skip) with INSERT … SELECT generate_series, then
times pages of the list through :func:`ecti.calls.listing.list_calls` — the function the
console page and the API use, in a tenant-scoped session — median of several runs each:

* the first page (newest 50 calls), and a page deep in the list (by its keyset cursor);
* a filtered page: queue + outcome + a one-month period;
* a number search (part of a customer's number) and an agent's own calls.

For each it prints the median, the same query as hand-written SQL (the baseline, run on the
same connection) and the ratio, and the plan EXPLAIN (ANALYZE) chose. Target: under 200 ms.

    .venv/bin/python benchmarks/call_list.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/test] [--calls 1000000] [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

RUNS = 15
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
QUEUES, AGENTS = 8, 50
OUTCOMES = ("answered",) * 14 + ("abandoned", "abandoned", "abandoned", "voicemail", "overflowed", "timed_out")


def load(engine, tenant_id: int, calls: int, queue_ids: list[int], agent_ids: list[int], *, prefix: str) -> None:
    """``calls`` calls, one every 31 s back from NOW; 4 of 5 inbound into the queues, 1 of 5 outbound."""
    outcome_case = "CASE (g % 20) " + " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(OUTCOMES)) + " END"
    queue_array = "ARRAY[" + ",".join(map(str, queue_ids)) + "]"
    agent_array = "ARRAY[" + ",".join(map(str, agent_ids)) + "]"
    with engine.begin() as conn:
        conn.execute(text(f"""
            INSERT INTO calls (tenant_id, carrier_call_id, direction, from_number, to_number, status, started_at, answered_at,
                               ended_at, duration_seconds, user_id, tenant_number, queue_id, agent_user_id, queued_at, connected_at,
                               wait_seconds, talk_seconds, hold_seconds, wrap_up_seconds, outcome, flow_path, crm_record_ids,
                               has_recording, has_voicemail)
            SELECT :tenant, '{prefix}' || g,
                   CASE WHEN g % 5 = 0 THEN 'outbound' ELSE 'inbound' END,
                   CASE WHEN g % 5 = 0 THEN '+815012345678' ELSE '+8190' || lpad(((g::bigint * 7919) % 100000000)::text, 8, '0') END,
                   CASE WHEN g % 5 = 0 THEN '+813' || lpad(((g::bigint * 104729) % 100000000)::text, 8, '0') ELSE '+815012345678' END,
                   'completed', :now - g * interval '31 seconds', :now - g * interval '31 seconds' + interval '2 seconds',
                   :now - g * interval '31 seconds' + interval '200 seconds', 200,
                   CASE WHEN g % 5 = 0 THEN ({agent_array})[1 + g % {len(agent_ids)}] END,
                   '+815012345678',
                   CASE WHEN g % 5 <> 0 THEN ({queue_array})[1 + (g / 7) % {len(queue_ids)}] END,
                   CASE WHEN g % 5 = 0 OR {outcome_case} = 'answered' THEN ({agent_array})[1 + g % {len(agent_ids)}] END,
                   CASE WHEN g % 5 <> 0 THEN :now - g * interval '31 seconds' + interval '20 seconds' END,
                   CASE WHEN g % 5 <> 0 AND {outcome_case} = 'answered' THEN :now - g * interval '31 seconds' + interval '45 seconds' END,
                   CASE WHEN g % 5 <> 0 THEN 25 END, 150, 10, 30,
                   CASE WHEN g % 5 = 0 THEN 'answered' ELSE {outcome_case} END,
                   '[]', '{{}}', g % 3 = 0, {outcome_case} = 'voicemail'
            FROM generate_series(1, :calls) AS g
        """), {"tenant": tenant_id, "now": NOW, "calls": calls})
        conn.execute(text("""
            INSERT INTO call_agents (tenant_id, call_id, user_id, call_started_at, offered, answered, transferred, placed)
            SELECT tenant_id, id, agent_user_id, started_at, direction = 'inbound', true, false, direction = 'outbound'
            FROM calls WHERE tenant_id = :tenant AND agent_user_id IS NOT NULL
        """), {"tenant": tenant_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE calls"))
        conn.execute(text("VACUUM ANALYZE call_agents"))


def key_of(name: str) -> str:
    """The figure's key: the case's name up to its first parenthesis or quote, and the parenthesis's first word."""
    head, _, rest = name.partition(" (")
    key = head.split(" '")[0].replace(" + ", "+").replace("'", "").replace(" ", "_")
    return key + ("_" + rest.split()[0].replace("'", "") if "'" in head and rest else "")


def median_ms(fn) -> float:
    fn()  # warm the caches and the plan
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    from sqlalchemy import insert

    from ecti import migrate
    from ecti.acd.models import Queue
    from sqlalchemy import tuple_

    from ecti.calls.listing import CallFilter, Cursor, filtered, keyset, list_calls
    from ecti.calls.models import Call, CallOutcome
    from ecti.db import all_tenants, make_engine, make_session_factory, set_tenant_scope
    from ecti.models.meta import utcnow
    from ecti.tenancy.models import Role, User
    from ecti.tenancy.services import create_tenant
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database

    global RUNS
    parser = make_parser(__doc__)
    parser.add_argument("--database", default=DEFAULT_PG_URL, help="a PostgreSQL server where a throw-away database is created")
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.smoke:
        args.calls, RUNS = min(args.calls, 500), 2
    url = _create_pg_database(args.database)
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        session = make_session_factory(engine)()
        tenants = {}
        with all_tenants(session):
            for slug in ("bench", "other"):
                tenant = create_tenant(session, slug=slug, name=slug)
                session.flush()
                now = utcnow()
                queues = [Queue(tenant_id=tenant.id, name=f"queue {i}", overflow={}, hold_audio={}) for i in range(QUEUES)]
                session.add_all(queues)
                agents = session.execute(insert(User).returning(User.id), [
                    {"tenant_id": tenant.id, "email": f"{slug}-{i}@example.jp", "display_name": f"agent {i}", "role": Role.agent,
                     "is_active": True, "failed_logins": 0, "session_epoch": 0, "created_at": now} for i in range(AGENTS)
                ]).scalars().all()
                session.flush()
                tenants[slug] = (tenant.id, [q.id for q in queues], list(agents))
            session.commit()
        session.close()
        start = time.perf_counter()
        tenant_id, queue_ids, agent_ids = tenants["bench"]
        load(engine, tenant_id, args.calls, queue_ids, agent_ids, prefix="CA")
        load(engine, tenants["other"][0], args.calls // 5, tenants["other"][1], tenants["other"][2], prefix="CB")
        print(f"loaded {args.calls:,} calls (+{args.calls // 5:,} of another company) in {time.perf_counter() - start:.1f} s, "
              f"PostgreSQL, {machine()}")

        session = make_session_factory(engine)()
        set_tenant_scope(session, tenant_id)
        deep_call = session.scalars(filtered(CallFilter(), TOKYO).order_by(Call.started_at.desc(), Call.id.desc())
                                    .offset(args.calls // 2).limit(1)).one()
        deep = Cursor(deep_call.started_at, deep_call.id).encode()
        cases = [
            ("first page", CallFilter(), None),
            ("a page in the middle (keyset cursor)", CallFilter(), deep),
            ("queue + outcome + one month", CallFilter(queue_id=queue_ids[3], outcome=CallOutcome.abandoned,
                                                       start=date(2026, 6, 1), end=date(2026, 6, 30)), None),
            ("number search '090-3141' (start of a number)", CallFilter(number="090-3141"), None),
            ("number search '27182' (digits anywhere)", CallFilter(number="27182"), None),
            ("an agent's own calls", CallFilter(own_user_id=agent_ids[7]), None),
        ]
        worst = 0.0
        with engine.connect() as raw:
            for name, f, after in cases:
                page = list_calls(session, f, TOKYO, after=after)
                ms = median_ms(lambda: list_calls(session, f, TOKYO, after=after))
                session.rollback()
                # The baseline: the same statement as SQL text, tenant condition written out, no ORM.
                started, id_ = keyset(f)
                stmt = filtered(f, TOKYO).where(started.table.c.tenant_id == tenant_id)
                if after:
                    c = Cursor.decode(after)
                    stmt = stmt.where(tuple_(started, id_) < tuple_(c.started_at, c.id))
                stmt = stmt.order_by(started.desc(), id_.desc()).limit(51)
                compiled = stmt.compile(dialect=engine.dialect)
                sql, params = str(compiled), compiled.params
                params = {k: (v.astimezone(timezone.utc) if isinstance(v, datetime) else v.value if hasattr(v, "value") else v)
                          for k, v in params.items()}
                base = median_ms(lambda: raw.exec_driver_sql(sql, params).fetchall())
                plan = [row[0] for row in raw.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, params)]
                nodes = [line.strip().lstrip("-> ").split("  (")[0] for line in plan if "->" in line or line is plan[0]]
                total = next((line for line in plan if line.startswith("Execution Time")), "")
                worst = max(worst, ms)
                print(f"\n{name}: {len(page.calls)} calls on the page")
                print(f"  list_calls median {ms:.2f} ms | raw SQL median {base:.2f} ms | ratio {ms / base:.2f}x | "
                      f"{'ok' if ms < 200 else 'OVER the 200 ms target'}")
                print(f"  plan: {' > '.join(nodes[:6])} ({total})")
                figure(f"call_list.{key_of(name)}", ms, "ms", target="< 200 ms", ok=ms < 200)
        print(f"\nslowest median {worst:.2f} ms (target < 200 ms): {'ok' if worst < 200 else 'OVER TARGET'}")
        session.close()
        engine.dispose()
    finally:
        _drop_pg_database(args.database, url)


if __name__ == "__main__":
    main()
