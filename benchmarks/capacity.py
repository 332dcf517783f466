"""Busy-hour capacity of the cluster (issue 21), on 1 and on 2 app processes in the same run.

``make cluster``'s set-up (scripts/cluster.py: app processes behind HAProxy, job workers on
Redis, PostgreSQL, the simulator) on a throw-away database; callers arrive at the demo
company's number as a Poisson process at rising rates, each arrival being the carrier's signed
incoming-call webhook through HAProxy, answered by the number's IVR. A rate is *sustained* when
every arrival is answered with TwiML, the webhook p99 stays under 1 s and the answers keep up
with the arrivals. Prints, per number of app processes, the highest sustained rate as calls per
hour, the webhook latency percentiles at that rate, and checks that every call was recorded
exactly once.

What it does not do yet (issue 21 asks for it): simulated agents answering, talking and
wrapping up, callers abandoning, routing delay, the ACD's report invariants; so the figure is
the arrival capacity of the front door (the first webhook of each call), not of a whole call.

    .venv/bin/python benchmarks/capacity.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                            [--seconds 10] [--smoke]
"""
from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

RATES = (10, 40, 160, 320, 640)  # arrivals per second (the highest sustained is reported)


def _cluster_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ecti_cluster_script", Path(__file__).resolve().parent.parent / "scripts" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one_rate(port: int, rate: float, seconds: float) -> dict:
    """Poisson arrivals at ``rate``/s for ``seconds``; each is one signed webhook."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cluster"))
    from test_cluster_faults import _signed

    latencies, failures, sids = [], [0], []
    lock = threading.Lock()
    local = threading.local()

    def call(sid: str, body: str, headers: dict) -> None:
        started = time.perf_counter()
        try:
            conn = getattr(local, "conn", None) or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local.conn = conn
            conn.request("POST", "/twilio/voice/incoming", body=body, headers=headers)
            response = conn.getresponse()
            ok = response.status == 200 and b"<Response>" in response.read()
        except OSError:
            local.conn, ok = None, False
        with lock:
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failures[0] += 1

    rng = random.Random(21)
    arrivals, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= seconds:
            break
        sid = f"CA{uuid.uuid4().hex}"
        arrivals.append((t, sid, *_signed(port, sid)))
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for at, sid, body, headers in arrivals:
            delay = start + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sids.append(sid)
            pool.submit(call, sid, body, headers)
    elapsed = time.perf_counter() - start
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000 if latencies else float("inf")  # noqa: E731
    answered = len(latencies)
    sustained = failures[0] == 0 and p(0.99) < 1000 and elapsed < seconds * 1.2 + 1
    return {"rate": rate, "arrivals": len(arrivals), "answered": answered, "failed": failures[0], "p50": p(0.5),
            "p95": p(0.95), "p99": p(0.99), "sustained": sustained, "sids": sids}


def run(apps: int, admin_url: str, rates, seconds: float) -> tuple[dict | None, list[dict]]:
    from ecti.testing import _create_pg_database, _drop_pg_database

    script = _cluster_script()
    url = _create_pg_database(admin_url)
    cluster = script.Cluster(argparse.Namespace(apps=apps, workers=1, port=script.free_port(), database=url),
                             var=Path(tempfile.mkdtemp(prefix="ecti-capacity-")))
    results, best = [], None
    try:
        cluster.up()
        one_rate(cluster.ports["port"], 5, 1.0)  # warm-up
        for rate in rates:
            result = one_rate(cluster.ports["port"], rate, seconds)
            results.append(result)
            print(f"  {apps} app process(es), {rate:>4} calls/s offered: {result['answered']}/{result['arrivals']} answered, "
                  f"{result['failed']} failed, p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms"
                  f"{'' if result['sustained'] else '  (not sustained)'}", flush=True)
            if not result["sustained"]:
                break
            best = result
        import psycopg

        sids = [sid for r in results for sid in r["sids"]]
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            twice = conn.execute("SELECT count(*) FROM (SELECT carrier_call_id FROM calls WHERE carrier_call_id = ANY(%s) "
                                 "GROUP BY 1 HAVING count(*) > 1) d", (sids,)).fetchone()[0]
            answered = sum(r["answered"] for r in results)
            recorded = conn.execute("SELECT count(*) FROM calls WHERE carrier_call_id = ANY(%s)", (sids,)).fetchone()[0]
        if twice or recorded < answered:
            raise SystemExit(f"invariant broken: {twice} calls recorded twice, {recorded} recorded for {answered} answered")
    finally:
        cluster.down()
        _drop_pg_database(admin_url, url)
    return best, results


def main() -> None:
    from ecti.testing import DEFAULT_PG_URL

    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where throw-away databases are created")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rates = RATES
    if args.smoke:
        rates, args.seconds = (2,), 1.0
    print(f"busy hour at the front door: Poisson arrivals through HAProxy, PostgreSQL, Redis, {machine()}")
    for apps in (1, 2):
        best, _results = run(apps, args.url, rates, args.seconds)
        per_hour = best["rate"] * 3600 if best else 0
        print(f"{apps} app process(es): sustained {per_hour:,.0f} calls/hour (p99 under 1 s, every call answered and recorded once)")
        figure(f"capacity.apps{apps}.calls_per_hour", float(per_hour), "calls/hour (arrivals, IVR answer)")
        figure(f"capacity.apps{apps}.p99", best["p99"] if best else float("nan"), "ms at that rate")


if __name__ == "__main__":
    main()
