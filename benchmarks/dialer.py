"""The dialer's two costs that grow with a list (issue 11), on PostgreSQL.

* Checking an uploaded CSV (Shift_JIS, every row through the dialing rules): rows per second for
  1,000 and 20,000 rows (the upload limit), and the per-row cost ratio (target: at most 1.5×).
* Reserving the next row for a free agent (lock the agent, ``FOR UPDATE SKIP LOCKED`` the next
  due row, write the attempt), in a transaction that is rolled back so every repetition decides
  on the same data: the median for lists of 100 and 20,000 rows and their ratio (target: at
  most 3×), then committed reservations per second in one process.

    .venv/bin/python benchmarks/dialer.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

CALLER_ID = "+815011112222"
REPEAT = 200


def csv_data(rows: int) -> bytes:
    lines = ["電話番号,氏名,会社名,備考"]
    lines += [f"090-{1000 + i // 10000:04d}-{i % 10000:04d},顧客 {i},株式会社{i},メモ{i}" for i in range(1, rows + 1)]
    return "\r\n".join(lines).encode("cp932")


def check_seconds(rows: int) -> float:
    from ecti.dialer.csv_import import check_csv

    data = csv_data(rows)
    start = time.perf_counter()
    checked = check_csv(data, caller_id=CALLER_ID)
    elapsed = time.perf_counter() - start
    assert len(checked.good) == rows, checked.refused[:3]
    return elapsed


def setup_list(engine, tenant_id: int, user_id: int, rows: int) -> int:
    from ecti.dialer.models import DialingList, DialingListAgent, DialingRow
    from ecti.models.meta import utcnow

    now = utcnow()
    with engine.begin() as conn:
        list_id = conn.execute(insert(DialingList).values(
            tenant_id=tenant_id, name=f"bench-{rows}", caller_id=CALLER_ID, weekly={d: [["00:00", "24:00"]] for d in
            ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, calendars=[], retry={}, status="running", preview_seconds=0,
            columns=[], created_at=now, updated_at=now,
        ).returning(DialingList.id)).scalar_one()
        conn.execute(text("UPDATE dialer_list_agents SET joined_at = NULL WHERE user_id = :u"), {"u": user_id})
        conn.execute(insert(DialingListAgent).values(tenant_id=tenant_id, list_id=list_id, user_id=user_id, joined_at=now))
        conn.execute(insert(DialingRow), [
            {"tenant_id": tenant_id, "list_id": list_id, "row_number": i + 2, "number": f"+8190{10000000 + i:08d}", "name": f"顧客 {i}",
             "extra": [["会社名", f"株式会社{i}"]], "status": "pending", "attempts": 0, "last_attempt_no": 0, "next_attempt_at": now}
            for i in range(rows)
        ])
        conn.execute(text("ANALYZE"))
    return list_id


def claim_seconds(registry, tenant_id: int, user_id: int, *, commit: bool) -> float:
    import transaction
    from pyramid.scripting import prepare

    from ecti.db import set_tenant_scope
    from ecti.dialer.services import next_for_agent, release
    from ecti.dialer.models import AttemptStatus
    from ecti.tenancy.models import User

    env = prepare(registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    set_tenant_scope(request.db, tenant_id)
    user = request.db.get(User, user_id)
    start = time.perf_counter()
    state = next_for_agent(request, user)
    if commit:
        # Give the row back at once so the agent is free for the next reservation.
        release(request, state.attempt, state.attempt.reserved_at, AttemptStatus.skipped)
        request.tm.commit()
    elapsed = time.perf_counter() - start
    if not commit:
        request.tm.abort()
    env["closer"]()
    assert state.attempt is not None, f"nothing was reserved: {state.reason}"
    return elapsed


def main():
    from ecti import migrate
    from ecti.acd.models import Agent
    from ecti.config import configure
    from ecti.db import all_tenants, make_engine, make_session_factory
    from ecti.models.meta import utcnow
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database, base_settings
    from ecti.tenancy.models import Role, User
    from ecti.tenancy.services import create_tenant

    parser = make_parser(__doc__)
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where a throw-away database is created")
    args = parser.parse_args()
    global REPEAT
    uploads, lists, committed = ((1_000, 20_000), (100, 20_000), 300) if not args.smoke else ((50, 200), (10, 200), 5)
    if args.smoke:
        REPEAT = 5

    print(f"{machine()}")
    print("checking an uploaded CSV (Shift_JIS, 4 columns, every row through the dialing rules)")
    per_row = {}
    for rows in uploads:
        seconds = min(check_seconds(rows) for _ in range(3))
        per_row[rows] = seconds / rows
        print(f"  {rows:>6} rows: {seconds * 1000:.0f} ms ({rows / seconds:,.0f} rows/s)")
    ratio = per_row[uploads[1]] / per_row[uploads[0]]
    print(f"per-row cost ratio {uploads[1]:,} / {uploads[0]:,} rows: {ratio:.2f}x (target <= 1.5x): {'ok' if ratio <= 1.5 else 'OVER TARGET'}")
    figure("dialer.csv_check", 1 / per_row[uploads[1]], f"rows/s at {uploads[1]:,} rows")
    figure("dialer.csv_check.per_row_ratio", ratio, f"x ({uploads[1]:,} / {uploads[0]:,} rows)", target="<= 1.5", ok=ratio <= 1.5)

    url = _create_pg_database(args.url)
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        config = configure(base_settings(url), engine=engine)
        session = make_session_factory(engine)()
        with all_tenants(session):
            tenant = create_tenant(session, slug="bench", name="ベンチマーク")
            session.flush()
            now = utcnow()
            user = User(tenant_id=tenant.id, email="bench@example.jp", display_name="agent", role=Role.agent, is_active=True,
                        failed_logins=0, session_epoch=0, created_at=now)
            session.add(user)
            session.flush()
            session.add(Agent(tenant_id=tenant.id, user_id=user.id, presence="available", state="idle", status="available",
                              status_since=now, available_at=now, missed_in_row=0, calls_today=0, talk_seconds_today=0, updated_at=now))
            session.commit()
            tenant_id, user_id = tenant.id, user.id
        session.close()
        print("reserving the next row for a free agent (rolled back), PostgreSQL")
        medians = {}
        for rows in lists:
            setup_list(engine, tenant_id, user_id, rows)
            for _ in range(10):
                claim_seconds(config.registry, tenant_id, user_id, commit=False)
            samples = [claim_seconds(config.registry, tenant_id, user_id, commit=False) for _ in range(REPEAT)]
            medians[rows] = statistics.median(samples)
            print(f"  {rows:>6} rows: median {medians[rows] * 1000:.2f} ms, p90 {statistics.quantiles(samples, n=10)[-1] * 1000:.2f} ms")
        ratio = medians[lists[1]] / medians[lists[0]]
        print(f"growth ratio {lists[1]:,} / {lists[0]:,} rows: {ratio:.2f}x (target <= 3x): {'ok' if ratio <= 3 else 'OVER TARGET'}")
        figure("dialer.reserve", medians[lists[1]] * 1000, f"ms at {lists[1]:,} rows")
        figure("dialer.reserve.growth", ratio, f"x ({lists[1]:,} / {lists[0]:,} rows)", target="<= 3", ok=ratio <= 3)
        count, start = committed, time.perf_counter()
        for _ in range(count):
            claim_seconds(config.registry, tenant_id, user_id, commit=True)
        elapsed = time.perf_counter() - start
        print(f"reserved (and gave back) {count} rows committed in {elapsed:.2f} s: {count / elapsed:.0f} reservations/s in one process")
        figure("dialer.reservations", count / elapsed, "per s, one process")
        engine.dispose()
    finally:
        _drop_pg_database(args.url, url)


if __name__ == "__main__":
    main()
