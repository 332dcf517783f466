"""Monthly queue and agent reports over a year of 1,000,000 calls (issue 9), PostgreSQL and SQLite.

It creates a throw-away database (a new PostgreSQL database on the server given, or a SQLite file
in a temporary directory), migrates it, and bulk-loads one company with 10 queues and 100 agents
and 1,000,000 calls spread over a year (2025-06-01 to 2026-05-31, Asia/Tokyo) as the ACD writes
them: the call, its events (started, entered_queue, then connected + queue_completed, abandoned,
timed_out, or overflowed + voicemail), its queue entry, the agent offers (answered; no answer
before a time-out) and the agent's status changes (on a call, wrap-up, available). One call in 20
is an outbound call of an agent. The load is INSERT … SELECT over a generated series on both
databases (generate_series on PostgreSQL, a recursive CTE on SQLite).

Then it times, for one month (2026-03, by day), the per-queue report and the per-agent report
through the same functions the pages use (``ecti.reports.queries``), and the same aggregate written
as one raw SQL query (with the same session setting: no JIT on PostgreSQL, see
``ecti.reports.queries.without_jit``), and prints the medians and the ratio (targets: under 1 s on PostgreSQL,
under 3 s on SQLite, ratio under 1.5). The raw queries' results are checked equal to the app's.

    .venv/bin/python benchmarks/reports.py [--database postgresql+psycopg://postgres@127.0.0.1:5432/test | sqlite] [--calls N]
        [--keep]  (leave the database and print its URL)  [--existing URL]  (time again on a kept one)  [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from benchmarks._common import bulk_insert, figure, machine, parser as make_parser  # noqa: E402

QUEUES = 10
AGENTS = 100
YEAR_START = "2025-05-31 15:00:00"  # 2025-06-01 00:00 JST, in UTC
YEAR_SECONDS = 359 * 86400  # the calls are spread over 359 days: 31 s apart for 1,000,000
REPEAT = 5
TOKYO = ZoneInfo("Asia/Tokyo")


class Dialect:
    def __init__(self, name: str):
        self.name = name

    def series(self, n: int) -> str:
        if self.name == "postgresql":
            return f"generate_series(1, {n}) AS s(i)"
        return f"(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) SELECT i FROM r) AS s"

    def at(self, seconds: str) -> str:
        """The UTC time ``seconds`` (an SQL expression) after the year's start, as each backend stores it."""
        if self.name == "postgresql":
            return f"(TIMESTAMPTZ '{YEAR_START}+00' + ({seconds}) * INTERVAL '1 second')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', '{YEAR_START}', '+' || ({seconds}) || ' seconds') || '.000000')"

    def json(self, value: str) -> str:
        return f"CAST('{value}' AS JSON)" if self.name == "postgresql" else f"'{value}'"


# Per call i: kind = i % 20 — 0, 1 abandoned; 2 timed out; 3 overflowed (voicemail); 4 outbound; else answered.
T0 = "(s.i * {spacing} + s.i % 7)"
WAIT = "(CASE WHEN s.i % 20 IN (0, 1) THEN 5 + s.i % 60 WHEN s.i % 20 = 2 THEN 300 WHEN s.i % 20 = 3 THEN 0 ELSE s.i % 40 END)"
TALK = "(60 + s.i % 400)"
HOLD = "(CASE WHEN s.i % 5 = 0 THEN 20 ELSE 0 END)"
INBOUND = "s.i % 20 <> 4"
ANSWERED = "s.i % 20 >= 5"


def load(conn, d: Dialect, tenant_id: int, queue_ids: list[int], user_ids: list[int], calls: int) -> None:
    """The rows the ACD and the call summary write for each call, through :func:`bulk_insert`: the
    columns below are the benchmark's; every other column gets the model's default, and a new NOT
    NULL column without one stops the load at once."""
    from ecti.acd.models import AgentStatusChange, Offer, QueueEntry
    from ecti.calls.models import Call, CallEvent

    q0, u0 = queue_ids[0], user_ids[0]  # ids are consecutive
    t0 = T0.format(spacing=max(1, YEAR_SECONDS // calls))
    queue = f"({q0} + s.i % {QUEUES})"
    agent = f"({u0} + s.i % {AGENTS})"
    at = d.at
    series = d.series(calls)
    false = "false" if d.name == "postgresql" else "0"
    outcome = ("CASE s.i % 20 WHEN 0 THEN 'abandoned' WHEN 1 THEN 'abandoned' WHEN 2 THEN 'timed_out' WHEN 3 THEN 'voicemail' "
               "WHEN 4 THEN (CASE WHEN s.i % 3 > 0 THEN 'answered' ELSE 'no_answer' END) ELSE 'answered' END")
    steps = [
        ("calls", Call, {
            "id": "s.i", "tenant_id": str(tenant_id), "carrier_call_id": "'CA' || s.i",
            "direction": f"CASE WHEN {INBOUND} THEN 'inbound' ELSE 'outbound' END",
            "from_number": f"CASE WHEN {INBOUND} THEN '+8190' || (10000000 + s.i % 5000) ELSE '+815011112222' END",
            "to_number": f"CASE WHEN {INBOUND} THEN '+815011112222' ELSE '+8190' || (10000000 + s.i % 5000) END",
            "status": "'completed'", "started_at": at(f"{t0} - 10"),
            "answered_at": f"CASE WHEN {INBOUND} OR s.i % 3 > 0 THEN {at(f'{t0} - 5')} END",
            "ended_at": at(f"{t0} + {WAIT} + {TALK}"), "duration_seconds": f"{WAIT} + {TALK} + 10",
            "user_id": f"CASE WHEN {INBOUND} THEN NULL ELSE {agent} END",
            # the summary, as ecti.calls.summary keeps it
            "tenant_number": "'+815011112222'", "queue_id": f"CASE WHEN {INBOUND} THEN {queue} END",
            "agent_user_id": f"CASE WHEN {ANSWERED} OR NOT ({INBOUND}) THEN {agent} END",
            "queued_at": f"CASE WHEN {INBOUND} THEN {at(t0)} END",
            "connected_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT}')} END",
            "wait_seconds": f"CASE WHEN {INBOUND} THEN {WAIT} END",
            "talk_seconds": f"CASE WHEN {ANSWERED} OR (NOT ({INBOUND}) AND s.i % 3 > 0) THEN {TALK} END",
            "hold_seconds": f"CASE WHEN {ANSWERED} THEN {HOLD} END", "outcome": outcome,
            "has_voicemail": f"CASE WHEN s.i % 20 = 3 THEN {'true' if d.name == 'postgresql' else '1'} ELSE {false} END",
        }, None),
        ("queue entries", QueueEntry, {
            "id": "s.i", "tenant_id": str(tenant_id), "queue_id": queue, "call_id": "s.i", "status": "'ended'", "entered_at": at(t0),
            "connected_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT}')} END",
            "ended_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT} + {TALK}')} ELSE {at(f'{t0} + {WAIT}')} END",
            "outcome": "CASE s.i % 20 WHEN 0 THEN 'abandoned' WHEN 1 THEN 'abandoned' WHEN 2 THEN 'timed_out' "
                       "WHEN 3 THEN 'overflowed' ELSE 'completed' END",
            "ended_by": f"CASE WHEN s.i % 20 IN (0, 1) THEN 'caller' WHEN {ANSWERED} THEN 'caller' ELSE 'system' END",
            "agent_user_id": f"CASE WHEN {ANSWERED} THEN {agent} END", "on_hold": false,
            "hold_seconds": f"CASE WHEN {ANSWERED} THEN {HOLD} ELSE 0 END", "missed_offers": "CASE WHEN s.i % 20 = 2 THEN 1 ELSE 0 END",
        }, INBOUND),
        ("offers", Offer, {
            "id": "s.i", "tenant_id": str(tenant_id), "entry_id": "s.i", "call_id": "s.i", "user_id": agent,
            "status": f"CASE WHEN {ANSWERED} THEN 'ended' ELSE 'no_answer' END", "kind": "'queue'",
            "offered_at": at(f"{t0} + 1"), "expires_at": at(f"{t0} + 21"),
            "accepted_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT}')} END",
            "joined_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT}')} END",
            "ended_at": f"CASE WHEN {ANSWERED} THEN {at(f'{t0} + {WAIT} + {TALK}')} ELSE {at(f'{t0} + 21')} END",
        }, f"{ANSWERED} OR s.i % 20 = 2"),
        ("events: started", CallEvent, {"tenant_id": str(tenant_id), "call_id": "s.i", "kind": "'started'", "at": at(f"{t0} - 10")}, None),
        ("events: entered_queue", CallEvent, {"tenant_id": str(tenant_id), "call_id": "s.i", "kind": "'entered_queue'", "at": at(t0)},
         INBOUND),
        ("events: outcome", CallEvent, {
            "tenant_id": str(tenant_id), "call_id": "s.i", "at": at(f"{t0} + {WAIT}"),
            "kind": "CASE s.i % 20 WHEN 0 THEN 'abandoned' WHEN 1 THEN 'abandoned' WHEN 2 THEN 'timed_out' WHEN 3 THEN 'overflowed' "
                    "ELSE 'connected' END",
        }, INBOUND),
        ("events: end", CallEvent, {
            "tenant_id": str(tenant_id), "call_id": "s.i", "at": at(f"{t0} + {WAIT} + 30"),
            "kind": "CASE WHEN s.i % 20 = 3 THEN 'voicemail' ELSE 'queue_completed' END",
        }, f"{ANSWERED} OR s.i % 20 = 3"),
    ]
    for status, offset in (("on_call", WAIT), ("wrap_up", f"{WAIT} + {TALK}"), ("available", f"{WAIT} + {TALK} + 30")):
        previous = {"on_call": "available", "wrap_up": "on_call", "available": "wrap_up"}[status]
        steps.append((f"status changes: {status}", AgentStatusChange, {
            "tenant_id": str(tenant_id), "user_id": agent, "at": at(f"{t0} + {offset}"),
            "from_status": f"'{previous}'", "to_status": f"'{status}'",
        }, ANSWERED))
    for label, model, values, where in steps:
        started = time.perf_counter()
        bulk_insert(conn, model, values, series, where)
        print(f"  loaded {label:<26} {time.perf_counter() - started:6.1f} s", flush=True)
    if d.name == "postgresql":
        for table in ("calls", "acd_queue_entries", "acd_offers"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def raw_queue_sql(d: Dialect) -> str:
    """The per-queue aggregate by day, written by hand as one query."""
    if d.name == "postgresql":
        wait = "EXTRACT(EPOCH FROM (COALESCE(e.connected_at, e.ended_at) - e.entered_at))"
        wait_so_far = "EXTRACT(EPOCH FROM (COALESCE(e.connected_at, e.ended_at, :now) - e.entered_at))"
        day = "(e.entered_at AT TIME ZONE 'Asia/Tokyo')::date"
    else:
        wait = "ROUND((julianday(COALESCE(e.connected_at, e.ended_at)) - julianday(e.entered_at)) * 86400.0, 3)"
        wait_so_far = "ROUND((julianday(COALESCE(e.connected_at, e.ended_at, :now)) - julianday(e.entered_at)) * 86400.0, 3)"
        day = "date(e.entered_at, '+9 hours')"
    answered = "e.connected_at IS NOT NULL"
    abandoned = f"(NOT ({answered}) AND e.outcome IN ('abandoned', 'lost'))"
    return f"""
        SELECT e.queue_id, {day} AS day, count(*) AS offered,
          sum(CASE WHEN {answered} THEN 1 ELSE 0 END) AS answered,
          sum(CASE WHEN {abandoned} THEN 1 ELSE 0 END) AS abandoned,
          sum(CASE WHEN {abandoned} AND {wait} <= 5 THEN 1 ELSE 0 END) AS short_abandoned,
          sum(CASE WHEN NOT ({answered}) AND e.outcome IN ('overflowed', 'exit_empty', 'transferred') THEN 1 ELSE 0 END) AS overflowed,
          sum(CASE WHEN NOT ({answered}) AND e.outcome = 'timed_out' THEN 1 ELSE 0 END) AS timed_out,
          sum(CASE WHEN NOT ({answered}) AND e.outcome IS NULL THEN 1 ELSE 0 END) AS in_progress,
          sum(CASE WHEN {answered} AND {wait} <= q.service_level_seconds THEN 1 ELSE 0 END) AS answered_within,
          sum(CASE WHEN {abandoned} AND {wait} <= q.service_level_seconds THEN 1 ELSE 0 END) AS abandoned_within,
          sum(CASE WHEN NOT ({answered}) AND {wait_so_far} > q.service_level_seconds THEN 1 ELSE 0 END) AS unanswered_past,
          sum(CASE WHEN {answered} THEN {wait} ELSE 0 END) AS answer_wait,
          count({wait}) AS waited, sum({wait}) AS wait_total, max({wait}) AS longest_wait,
          sum(CASE WHEN {abandoned} THEN {wait} ELSE 0 END) AS abandon_wait,
          sum(CASE WHEN NOT ({answered}) AND EXISTS (SELECT 1 FROM call_events v WHERE v.call_id = e.call_id AND v.kind = 'voicemail'
              AND v.at >= e.entered_at) THEN 1 ELSE 0 END) AS voicemails
        FROM acd_queue_entries e JOIN acd_queues q ON q.id = e.queue_id
        WHERE e.tenant_id = :tenant AND e.entered_at >= :start AND e.entered_at < :end
        GROUP BY e.queue_id, {day}"""


def raw_agent_sql(d: Dialect) -> str:
    """The per-agent aggregate (offers, hold, outbound, time in each status) as one query.

    Time in a status: moments it was left minus moments it was entered, plus the period's end
    for the status held then (as ``ecti.reports.queries.agent_status_query``)."""
    if d.name == "postgresql":
        def secs(a, b):
            return f"EXTRACT(EPOCH FROM ({a} - {b}))"
    else:
        def secs(a, b):
            return f"ROUND((julianday({a}) - julianday({b})) * 86400.0, 3)"
    return f"""
        WITH offers AS (
          SELECT user_id, sum(CASE WHEN accepted_at IS NOT NULL THEN 1 ELSE 0 END) AS handled,
                 sum(CASE WHEN accepted_at IS NOT NULL AND ended_at IS NOT NULL THEN {secs('ended_at', 'accepted_at')} ELSE 0 END) AS connected,
                 sum(CASE WHEN status = 'no_answer' THEN 1 ELSE 0 END) AS no_answer, sum(CASE WHEN status = 'declined' THEN 1 ELSE 0 END) AS declined
          FROM acd_offers WHERE tenant_id = :tenant AND offered_at >= :start AND offered_at < :end GROUP BY user_id),
        hold AS (
          SELECT agent_user_id AS user_id, sum(hold_seconds) AS hold FROM acd_queue_entries
          WHERE tenant_id = :tenant AND agent_user_id IS NOT NULL AND connected_at >= :start AND connected_at < :end GROUP BY agent_user_id),
        outbound AS (
          SELECT user_id, count(*) AS calls, sum(CASE WHEN answered_at IS NOT NULL THEN {secs('ended_at', 'answered_at')} ELSE 0 END) AS talk
          FROM calls WHERE tenant_id = :tenant AND direction = 'outbound' AND user_id IS NOT NULL AND started_at >= :start AND started_at < :end
          GROUP BY user_id),
        statuses AS (
          SELECT user_id, status,  sum(seconds) AS seconds FROM (
            SELECT user_id, from_status AS status, {secs('at', ':start')} AS seconds FROM acd_agent_status_changes
            WHERE tenant_id = :tenant AND at >= :start AND at < :end
            UNION ALL
            SELECT user_id, to_status, -{secs('at', ':start')} FROM acd_agent_status_changes
            WHERE tenant_id = :tenant AND at >= :start AND at < :end) AS moments
          GROUP BY user_id, status),
        closing AS (
          SELECT u.id AS user_id,
                 (SELECT c.to_status FROM acd_agent_status_changes c WHERE c.user_id = u.id AND c.at < :end ORDER BY c.at DESC, c.id DESC LIMIT 1) AS status
          FROM users u WHERE u.tenant_id = :tenant),
        times AS (
          SELECT u.id AS user_id,
                 sum(CASE WHEN s.status = 'available' THEN s.seconds ELSE 0 END) + max(CASE WHEN c.status = 'available' THEN {secs(':end', ':start')} ELSE 0 END) AS available,
                 sum(CASE WHEN s.status = 'on_call' THEN s.seconds ELSE 0 END) + max(CASE WHEN c.status = 'on_call' THEN {secs(':end', ':start')} ELSE 0 END) AS on_call,
                 sum(CASE WHEN s.status = 'wrap_up' THEN s.seconds ELSE 0 END) + max(CASE WHEN c.status = 'wrap_up' THEN {secs(':end', ':start')} ELSE 0 END) AS wrap_up
          FROM users u LEFT JOIN statuses s ON s.user_id = u.id LEFT JOIN closing c ON c.user_id = u.id
          WHERE u.tenant_id = :tenant GROUP BY u.id)
        SELECT u.id, offers.handled, offers.connected, offers.no_answer, offers.declined, hold.hold, outbound.calls, outbound.talk,
               times.available, times.on_call, times.wrap_up
        FROM users u LEFT JOIN offers ON offers.user_id = u.id LEFT JOIN hold ON hold.user_id = u.id
          LEFT JOIN outbound ON outbound.user_id = u.id LEFT JOIN times ON times.user_id = u.id
        WHERE u.tenant_id = :tenant"""


def median_seconds(fn) -> tuple[float, object]:
    fn()  # warm the caches and the plan
    samples, result = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def create_and_load(engine, session, d: Dialect, calls: int, now) -> int:
    from sqlalchemy import insert

    from ecti import migrate
    from ecti.acd.models import Queue
    from ecti.db import all_tenants
    from ecti.tenancy.models import Role, User
    from ecti.tenancy.services import create_tenant

    with engine.begin() as conn:
        migrate.upgrade(connection=conn)
    with all_tenants(session):
        tenant = create_tenant(session, slug="bench", name="ベンチマーク")
        session.commit()
        tenant_id = tenant.id
    print(f"{d.name}: loading {calls:,} calls over a year …", flush=True)
    started = time.perf_counter()
    with engine.begin() as conn:
        queue_ids = [conn.execute(insert(Queue).values(
            tenant_id=tenant_id, name=f"キュー{i:02d}", strategy="longest_idle", ring_timeout=20, wrap_up_seconds=30,
            escalation_seconds=30, overflow={}, join_when_empty=False, leave_when_empty=True, max_no_answers=3,
            service_level_seconds=20, hold_audio={}, announce_seconds=60, announce_position=True, announce_wait=True, created_at=now,
        ).returning(Queue.id)).scalar_one() for i in range(QUEUES)]
        user_ids = [conn.execute(insert(User).values(
            tenant_id=tenant_id, email=f"agent{i}@bench.example", display_name=f"オペレーター{i:03d}", role=Role.agent,
            is_active=True, failed_logins=0, session_epoch=0, created_at=now,
        ).returning(User.id)).scalar_one() for i in range(AGENTS)]
        assert queue_ids == list(range(queue_ids[0], queue_ids[0] + QUEUES)) and user_ids == list(range(user_ids[0], user_ids[0] + AGENTS))
        load(conn, d, tenant_id, queue_ids, user_ids, calls)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return tenant_id


def main():
    from ecti.db import make_engine, make_session_factory, set_tenant_scope
    from ecti.models.meta import utcnow
    from ecti.reports.periods import Period
    from ecti.reports.queries import agent_report, queue_report
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database

    global REPEAT
    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--database", default=DEFAULT_PG_URL, help="a PostgreSQL server URL (a throw-away database is made there) or 'sqlite'")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (and print its URL) to look at the plans")
    parser.add_argument("--existing", help="time on a database kept by an earlier --keep run (no load)")
    args = parser.parse_args()
    if args.smoke:
        args.calls, REPEAT = min(args.calls, 600), 1
    tmp = None
    if args.existing:
        args.keep = True
        url = args.existing
    elif args.database == "sqlite" or args.database.startswith("sqlite"):
        tmp = tempfile.TemporaryDirectory(prefix="ecti-bench-") if not args.keep else None
        url = f"sqlite:///{tmp.name if tmp else tempfile.mkdtemp(prefix='ecti-bench-')}/reports.sqlite"
    else:
        url = _create_pg_database(args.database)
    d = Dialect("postgresql" if url.startswith("postgresql") else "sqlite")
    engine = make_engine({"sqlalchemy.url": url})
    try:
        session = make_session_factory(engine)()
        now = utcnow()
        if args.existing:
            tenant_id = session.execute(text("SELECT id FROM tenants WHERE slug = 'bench'")).scalar_one()
            args.calls = session.execute(text("SELECT count(*) FROM calls WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
        else:
            tenant_id = create_and_load(engine, session, d, args.calls, now)
        period = Period(date(2026, 3, 1), date(2026, 3, 31), TOKYO, "day")
        params = {"tenant": tenant_id, "start": period.start, "end": period.end, "now": now}
        if d.name == "sqlite":  # stored as text on SQLite
            params = {**params, **{k: params[k].strftime("%Y-%m-%d %H:%M:%S.%f") for k in ("start", "end", "now")}}
        set_tenant_scope(session, tenant_id)

        def app_queues():
            session.rollback()
            return queue_report(session, tenant_id, period)

        def raw_settings():
            """The raw queries run with the settings the app's functions use (no JIT on PostgreSQL)."""
            session.rollback()
            if d.name == "postgresql":
                session.execute(text("SET LOCAL jit = off"))

        def raw_queues():
            raw_settings()
            return session.execute(text(raw_queue_sql(d)), params).all()

        def app_agents():
            session.rollback()
            return agent_report(session, tenant_id, period, now=now)

        def raw_agents():
            raw_settings()
            return session.execute(text(raw_agent_sql(d)), params).all()

        results = {}
        for name, app_fn, raw_fn in (("per-queue", app_queues, raw_queues), ("per-agent", app_agents, raw_agents)):
            app_s, app_result = median_seconds(app_fn)
            raw_s, raw_result = median_seconds(raw_fn)
            results[name] = (app_s, raw_s, app_result, raw_result)
        # The raw queries compute the same figures.
        q_app, q_raw = results["per-queue"][2], results["per-queue"][3]
        assert q_app.total().offered == sum(r.offered for r in q_raw), "per-queue totals differ"
        assert q_app.total().answered_within == sum(r.answered_within for r in q_raw)
        a_app, a_raw = results["per-agent"][2], results["per-agent"][3]
        assert sum(a.handled_inbound for a in a_app.agents) == sum(r.handled or 0 for r in a_raw), "per-agent totals differ"
        raw_on_call = sum(float(r.on_call or 0) for r in a_raw)
        assert abs(sum(a.status("on_call") for a in a_app.agents) - raw_on_call) < 1, "per-agent status times differ"
        target = 1.0 if d.name == "postgresql" else 3.0
        offered = q_app.total().offered
        print(f"\n{d.name}, {args.calls:,} calls, {machine()}; report for 2026-03 by day ({offered:,} queue entries, {len(a_app.agents)} agents)")
        print(f"{'report':<10} {'app (median)':>13} {'raw SQL':>9} {'ratio':>6}   target")
        for name, (app_s, raw_s, _a, _r) in results.items():
            ratio = app_s / raw_s if raw_s else float("inf")
            verdict = "ok" if app_s < target and ratio < 1.5 else "MISSED"
            print(f"{name:<10} {app_s:>12.3f}s {raw_s:>8.3f}s {ratio:>6.2f}   < {target:.0f} s, ratio < 1.5: {verdict}")
            key = f"reports.{d.name}.{name}"
            figure(key, app_s, "s", target=f"< {target:.0f} s", ok=app_s < target)
            figure(key + ".ratio", ratio, "x raw SQL", target="< 1.5", ok=ratio < 1.5)
        session.close()
    finally:
        engine.dispose()
        if args.keep:
            print(f"kept: {url}")
        elif tmp is not None:
            tmp.cleanup()
        else:
            _drop_pg_database(args.database, url)


if __name__ == "__main__":
    main()
