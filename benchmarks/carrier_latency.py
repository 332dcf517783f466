"""How much a slow carrier REST API costs the webhook that rings an agent (issue 21).

When a call is offered to an agent, the request that made the offer (the incoming-call webhook,
a queue's status callback) rings the agent's phone through the carrier's REST API once its
transaction has committed. This script times exactly that part of the request — the routing
decision, the commit and the after-commit work the response waits for — with the Twilio
plugin talking to the simulator over real HTTP, the simulator answering every REST request
after 0 ms and after ``--latency`` ms (``Simulator.rest_latency``), and with the carrier work
run in the request thread (``ecti.carrier.threads = 0``, as before issue 21) and on the
carrier pool (the default). On PostgreSQL, each offer to a different free agent.

    .venv/bin/python benchmarks/carrier_latency.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                                   [--latency 300] [--calls 100] [--smoke]

Target: with the carrier answering after 300 ms, the p50 grows by at most 10 ms.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402
from benchmarks.routing import decision_seconds, setup  # noqa: E402

AUTH_TOKEN = "carrier-latency-token"
NUMBER = "+815011112222"  # the benchmark calls' number (benchmarks.routing.setup)


RUNS = []


def run(url: str, sim, *, threads: int, latency: float, calls: int) -> list[float]:
    from ecti.config import configure
    from ecti.db import all_tenants, make_engine, make_session_factory
    from ecti.testing import base_settings
    from ecti.tenancy.services import create_tenant
    import uuid

    account = "AC" + uuid.uuid4().hex  # one account per company
    sim.add_account(account, AUTH_TOKEN)
    sim.add_number(account, NUMBER)
    engine = make_engine({"sqlalchemy.url": url})
    settings = {**base_settings(url), "ecti.twilio.api_base_url": sim.url, "ecti.carrier.threads": str(threads)}
    registry = configure(settings, engine=engine).registry
    session = make_session_factory(engine)()
    with all_tenants(session):
        tenant = create_tenant(session, slug=f"lat-{uuid.uuid4().hex[:6]}", name="ベンチマーク")
        tenant.carrier = "twilio"
        tenant.set_carrier_credentials(registry.secret_box, account, AUTH_TOKEN)
        session.commit()
        tenant_id = tenant.id
    session.close()
    RUNS.append(1)  # benchmarks.routing.setup names agents by their count: one size per run
    queue_id = setup(registry, engine, tenant_id, 2 * (calls + 5) + len(RUNS))
    with engine.begin() as conn:  # phones stay "connected" for the whole run (no heartbeats here)
        from sqlalchemy import text
        conn.execute(text("UPDATE acd_agents SET phone_seen_at = now() + interval '1 hour' WHERE tenant_id = :t"), {"t": tenant_id})
    sim.simulator.rest_latency = latency
    for _ in range(5):  # warm-up
        decision_seconds(registry, tenant_id, queue_id, commit=True)
    samples = [decision_seconds(registry, tenant_id, queue_id, commit=True) for _ in range(calls)]
    pool = registry.get("ecti.acd.carrier_pool")
    if pool is not None:
        pool.executor.shutdown(wait=True)  # every agent rung before the next run
    sim.simulator.rest_latency = 0.0
    with engine.connect() as conn:  # every offer rang its agent and remembered the leg
        from sqlalchemy import text
        missing = conn.execute(text("SELECT count(*) FROM acd_offers WHERE tenant_id = :t AND leg_id IS NULL"), {"t": tenant_id}).scalar()
    if missing:
        raise SystemExit(f"{missing} offers never rang their agent")
    engine.dispose()
    return samples


def main() -> None:
    from ecti import migrate
    from ecti.db import make_engine
    from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database
    from ecti_twilio.simulator import Simulator

    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where a throw-away database is created")
    parser.add_argument("--latency", type=float, default=300, help="ms the carrier takes to answer a REST request")
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    if args.smoke:
        args.calls, args.latency = 5, 50
    sim = Simulator()
    server = sim.serve()
    sim.simulator = sim  # run() reads the latency setting through this name
    sim.url = server.url
    url = _create_pg_database(args.url)
    results = {}
    try:
        engine = make_engine({"sqlalchemy.url": url})
        with engine.begin() as conn:
            migrate.upgrade(connection=conn)
        engine.dispose()
        for threads, label in ((0, "in the request thread (before)"), (4, "on the carrier pool (after)")):
            for latency in (0.0, args.latency / 1000):
                samples = run(url, sim, threads=threads, latency=latency, calls=args.calls)
                results[threads, latency] = statistics.median(samples) * 1000
                print(f"ring {label:32} carrier {latency * 1000:5.0f} ms: p50 {results[threads, latency]:7.1f} ms   "
                      f"p99 {sorted(samples)[int(len(samples) * 0.99) - 1] * 1000:7.1f} ms")
    finally:
        server.stop()
        _drop_pg_database(args.url, url)
    print(f"{args.calls} offers each, PostgreSQL, {machine()}")
    before = results[0, args.latency / 1000] - results[0, 0.0]
    after = results[4, args.latency / 1000] - results[4, 0.0]
    print(f"p50 growth with the carrier at {args.latency:.0f} ms: before {before:.1f} ms, after {after:.1f} ms (target <= 10 ms)")
    figure("carrier_latency.p50_growth.before", before, f"ms (carrier at {args.latency:.0f} ms, ring in the request)")
    figure("carrier_latency.p50_growth", after, f"ms (carrier at {args.latency:.0f} ms)", target="<= 10 ms", ok=after <= 10)


if __name__ == "__main__":
    main()
