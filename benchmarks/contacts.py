"""The contact directory as it grows (issue 10), on PostgreSQL.

Prints the median time of one caller-name lookup (what every incoming call asks the directory,
through the ``directory`` CRM connector) with 100 and with 10,000 contacts, and their ratio; and
the CSV import rate for 1,000 and 10,000 rows (UTF-8, every row checked, all or nothing), with
the per-row cost ratio.

    .venv/bin/python benchmarks/contacts.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert  # noqa: E402

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

SIZES = (100, 10_000)
IMPORTS = (1_000, 10_000)
REPEAT = 500


def fill(engine, tenant_id: int, count: int) -> None:
    from ecti.contacts.models import Contact, ContactNumber

    with engine.begin() as conn:
        conn.execute(delete(ContactNumber))
        conn.execute(delete(Contact))
        if not count:
            return
        ids = conn.execute(insert(Contact).returning(Contact.id), [
            {"tenant_id": tenant_id, "name": f"顧客 {i}", "company": f"会社 {i % 97}", "note": ""} for i in range(count)
        ]).scalars().all()
        conn.execute(insert(ContactNumber), [
            {"tenant_id": tenant_id, "contact_id": cid, "e164": f"+8190{10_000_000 + i:08d}"} for i, cid in enumerate(ids)
        ])


def csv_rows(count: int) -> bytes:
    lines = ["氏名,会社名,電話番号,メモ"] + [f"顧客 {i},会社 {i % 97},090-{2000 + i // 10_000:04d}-{i % 10_000:04d}," for i in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def main():
    from pyramid.request import Request

    from ecti import migrate
    from ecti.config import configure
    from ecti.contacts.services import DirectoryConnector, import_csv
    from ecti.db import all_tenants, make_engine, make_session_factory, set_tenant_scope
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database, base_settings
    from ecti.tenancy.services import create_tenant

    parser = make_parser(__doc__)
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where a throw-away database is created")
    args = parser.parse_args()
    global SIZES, IMPORTS, REPEAT
    if args.smoke:
        SIZES, IMPORTS, REPEAT = (10, 200), (50, 200), 5
    url = _create_pg_database(args.url)
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        config = configure(base_settings(url), engine=engine)
        sessions = make_session_factory(engine)
        session = sessions()
        with all_tenants(session):
            tenant = create_tenant(session, slug="bench", name="ベンチマーク")
            session.commit()
        connector = DirectoryConnector()
        medians = {}
        print(f"caller-name lookup through the directory connector, PostgreSQL, {machine()}")
        for size in SIZES:
            fill(engine, tenant.id, size)
            db = sessions()
            set_tenant_scope(db, tenant.id)
            request = Request.blank("/")
            request.registry = config.registry
            request.db = db
            number = f"+8190{10_000_000 + size // 2:08d}"
            assert connector.lookup(request, tenant, number) is not None
            for _ in range(50):  # warm the caches and the plans
                connector.lookup(request, tenant, number)
                db.rollback()
            samples = []
            for _ in range(REPEAT):
                start = time.perf_counter()
                connector.lookup(request, tenant, number)
                samples.append(time.perf_counter() - start)
                db.rollback()
            medians[size] = statistics.median(samples)
            db.close()
            print(f"  {size:>6} contacts: median {medians[size] * 1000:.3f} ms, p90 {statistics.quantiles(samples, n=10)[-1] * 1000:.3f} ms")
        growth = medians[SIZES[-1]] / medians[SIZES[0]]
        print(f"growth ratio {SIZES[-1]} / {SIZES[0]} contacts: {growth:.2f}x")
        figure("contacts.lookup", medians[SIZES[-1]] * 1000, f"ms at {SIZES[-1]} contacts")
        figure("contacts.lookup.growth", growth, f"x ({SIZES[-1]} / {SIZES[0]} contacts)")

        per_row = {}
        print("CSV import (UTF-8 with BOM, all rows checked, one transaction)")
        for rows in IMPORTS:
            fill(engine, tenant.id, 0)
            data = csv_rows(rows)
            db = sessions()
            set_tenant_scope(db, tenant.id)
            start = time.perf_counter()
            result = import_csv(db, tenant.id, data)
            db.commit()
            elapsed = time.perf_counter() - start
            db.close()
            assert result.created == rows and not result.errors, result.errors[:3]
            per_row[rows] = elapsed / rows
            print(f"  {rows:>6} rows: {elapsed:.2f} s, {rows / elapsed:.0f} rows/s")
        print(f"per-row cost ratio {IMPORTS[-1]} / {IMPORTS[0]} rows: {per_row[IMPORTS[-1]] / per_row[IMPORTS[0]]:.2f}x")
        figure("contacts.import", 1 / per_row[IMPORTS[-1]], f"rows/s at {IMPORTS[-1]} rows")
        figure("contacts.import.per_row_ratio", per_row[IMPORTS[-1]] / per_row[IMPORTS[0]], f"x ({IMPORTS[-1]} / {IMPORTS[0]} rows)")
        engine.dispose()
    finally:
        _drop_pg_database(args.url, url)


if __name__ == "__main__":
    main()
