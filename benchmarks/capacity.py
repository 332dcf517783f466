"""Busy-hour capacity of the cluster with whole calls (issue 21), on 1 and on 2 app processes in the same run.

``make cluster``'s set-up (scripts/cluster.py: app processes behind HAProxy, job workers on
Redis, PostgreSQL, the simulator) on a throw-away database. Callers arrive at the demo company's
number in the simulator as a Poisson process at rising rates, hear the demo flow, press 1 and
wait in the queue; simulated agents (tests/cluster/wholecalls.py: signed in, softphone token,
browser phone registered with the simulator, phone heartbeat every 2 s) answer after 0.3–1.5 s
(5 % let an offer ring out), talk 1–4 s, hang up and end their wrap-up after 0.3–1.5 s; 10 % of
the callers hang up after 0.5–4 s if still waiting. The simulator's clock moves 1 s every real
0.5 s (hold-audio rounds, ring timeouts).

A rate is *sustained* when every webhook the carrier sent (as the simulator measured its answer
time) has p99 under 1 s, none failed, every call ended, and the ACD's invariants hold
(tests/cluster/wholecalls.py ``check``: every call recorded once with a final outcome, no caller
offered to two agents at once, no agent left ringing or on a call, the reports' queue report
adds up: offered = answered + abandoned + overflowed + timed out + waiting). Prints, per number
of app processes, the highest sustained rate as calls per hour, the webhook latency percentiles
and the routing delay (queue entry → first offer) percentiles at that rate.

Bounds of the figure: the simulator runs every call on one engine thread (one webhook at a
time, as ordered by its virtual clock), and the load generator (callers, agents, simulator)
shares the 2 cores with the cluster; so the figure is a floor for ECTI, not its ceiling.

    .venv/bin/python benchmarks/capacity.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                            [--seconds 20] [--agents 24] [--smoke]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "cluster"))

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

RATES = (0.5, 1, 2, 3, 4, 6)  # caller arrivals per second (the highest sustained is reported)


def _cluster_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ecti_cluster_script", Path(__file__).resolve().parent.parent / "scripts" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one_rate(load, rate: float, seconds: float) -> dict:
    """Poisson callers at ``rate``/s for ``seconds``; waits until each has hung up or been hung up on."""
    from wholecalls import check, percentile

    first_webhook, first_caller = load.webhook_count(), len(load.callers)
    started = time.monotonic()
    arrivals = load.arrive(rate, seconds)
    load.wait_calls(ceiling=max(120, seconds * 4))
    drained = time.monotonic() - started
    callers = load.callers[first_caller:]
    webhooks, failed = load.webhook_seconds(first_webhook)
    delays = load.routing_delays([c.sid for c in callers if c.sid])
    verdict = check(load)
    errors = [c.error for c in callers if c.error] + [e for a in load.agents for e in a.errors]
    p = lambda q: percentile(webhooks, q) * 1000  # noqa: E731
    result = {"rate": rate, "arrivals": arrivals, "webhooks": len(webhooks), "failed": failed, "p50": p(0.5), "p95": p(0.95),
              "p99": p(0.99), "routing50": percentile(delays, 0.5), "routing95": percentile(delays, 0.95),
              "routing99": percentile(delays, 0.99), "drained": drained, "broken": verdict.broken + errors,
              "outcomes": verdict.figures.get("outcomes", {})}
    result["sustained"] = not result["broken"] and failed == 0 and result["p99"] < 1000
    return result


def run(apps: int, admin_url: str, rates, seconds: float, agents: int) -> tuple[dict | None, list[dict]]:
    from ecti.testing import _create_pg_database, _drop_pg_database
    from wholecalls import Load

    script = _cluster_script()
    url = _create_pg_database(admin_url)
    cluster = script.Cluster(argparse.Namespace(apps=apps, workers=2, port=script.free_port(), database=url),
                             var=Path(tempfile.mkdtemp(prefix="ecti-capacity-")))
    results, best = [], None
    try:
        cluster.up()
        load = Load(cluster, agents=agents)
        load.start()
        for rate in rates:
            result = one_rate(load, rate, seconds)
            results.append(result)
            print(f"  {apps} app process(es), {rate:>4} calls/s offered: {result['arrivals']} calls, {result['webhooks']} webhooks "
                  f"({result['failed']} failed): p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, p99 {result['p99']:.0f} ms; "
                  f"routing delay p50 {result['routing50'] * 1000:.0f} ms, p95 {result['routing95'] * 1000:.0f} ms, p99 {result['routing99'] * 1000:.0f} ms; outcomes {result['outcomes']}"
                  f"{'' if result['sustained'] else '  (NOT sustained: ' + '; '.join(result['broken'][:3]) + ')'}", flush=True)
            if not result["sustained"]:
                break
            best = result
        errors = load.finish()
        if errors:
            print(f"  load errors: {errors[:5]}", flush=True)
    finally:
        cluster.down()
        _drop_pg_database(admin_url, url)
    return best, results


class PrivatePostgres:
    """A PostgreSQL server of this run only (initdb into a temp dir, its own port), which the
    outage phase stops and starts: the shared server the tests use is never touched."""

    def __init__(self):
        import glob
        import shutil
        import subprocess

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="ecti-capacity-pg-"))
        self.port = _cluster_script().free_port()
        self.as_user = []
        import os

        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self.run = lambda *argv: subprocess.run(self.as_user + [str(self.bin / argv[0]), *argv[1:]], check=True,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ecti_outage"

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "server.log"), "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        import shutil

        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def outage(rate: float, before: float, down: float, after: float, agents: int) -> None:
    """Whole calls on 2 app processes while the (private) PostgreSQL server stops for ``down``
    seconds: what callers arriving meanwhile hear, and the invariants of the calls around it."""
    from wholecalls import Load, check

    pg = PrivatePostgres()
    pg.start()
    script = _cluster_script()
    cluster = script.Cluster(argparse.Namespace(apps=2, workers=2, port=script.free_port(), database=pg.url),
                             var=Path(tempfile.mkdtemp(prefix="ecti-capacity-outage-")))
    try:
        cluster.up()
        load = Load(cluster, agents=agents)
        load.start()
        load.arrive(rate, before)
        first_down = len(load.callers)
        pg.stop()
        stopped = time.monotonic()
        load.arrive(rate * 2, down)
        time.sleep(max(0.0, stopped + down - time.monotonic()))  # the whole outage, not just until the last arrival
        last_down = len(load.callers)
        pg.start()
        print(f"  PostgreSQL stopped for {time.monotonic() - stopped:.1f} s; {last_down - first_down} callers arrived meanwhile",
              flush=True)
        load.arrive(rate, after)
        try:
            errors = load.finish(ceiling=240)  # the reconciler repairs lost callbacks 2–3 min later
        except RuntimeError as stuck:  # callers left on the line: reported, then hung up so the run ends
            errors = [str(stuck)]
            for caller in load.callers:
                if caller.sid and not caller.done:
                    load.sim("POST", f"/sim/v1/calls/{caller.sid}/hangup")
            load.wait_calls(ceiling=60)
        # The callers whose incoming-call webhook failed met the outage (whenever they arrived):
        # what they heard, and the invariants checked on all the others.
        webhooks = load.sim("GET", "/sim/v1/webhooks").json()["webhooks"]
        failed = {r["call_sid"] for r in webhooks if r["kind"] == "voice" and "/voice/incoming" in r["url"] and r["error_code"]}
        met = [c for c in load.callers if c.sid in failed]
        heard = {}
        for caller in met:
            said = " ".join(item["text"] for item in load.sim("GET", f"/sim/v1/calls/{caller.sid}").json()["heard"]
                            if item.get("verb") == "Say")
            heard[said] = heard.get(said, 0) + 1
        print(f"  {len(met)} caller(s) met the outage (their incoming-call webhook failed; "
              f"{last_down - first_down} arrived while the server was stopped)", flush=True)
        for said, n in sorted(heard.items(), key=lambda kv: -kv[1]):
            print(f"  {n} of them heard: {said[:160]}", flush=True)
        lost = [r for r in webhooks if r["kind"] == "status-callback" and r["error_code"]]
        print(f"  {len(lost)} status callbacks failed meanwhile (the carrier does not send them again)", flush=True)
        load.callers = [c for c in load.callers if c.sid not in failed]
        verdict = check(load)
        print(f"  around the outage: {len(load.callers)} calls, outcomes {verdict.figures.get('outcomes')}, "
              f"{'invariants hold' if verdict.ok else 'BROKEN: ' + '; '.join(verdict.broken)}"
              f"{'; load errors: ' + '; '.join(errors[:3]) if errors else ''}", flush=True)
        figure("capacity.pg_outage.invariants", 1.0 if verdict.ok and not errors else 0.0, "1 = every invariant held around the outage")
    finally:
        cluster.down()
        pg.remove()


def main() -> None:
    from ecti.testing import DEFAULT_PG_URL

    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_PG_URL, help="a PostgreSQL server where throw-away databases are created")
    parser.add_argument("--seconds", type=float, default=20, help="how long callers arrive at each rate")
    parser.add_argument("--agents", type=int, default=24)
    parser.add_argument("--pg-outage", action=argparse.BooleanOptionalAction, default=True,
                        help="also stop a private PostgreSQL server mid-run (not the shared one)")
    parser.add_argument("--only-pg-outage", action="store_true")
    args = parser.parse_args()
    if args.only_pg_outage:
        print(f"PostgreSQL outage: {machine()}")
        outage(1.0, 3 if args.smoke else 10, 5, 3 if args.smoke else 10, 4 if args.smoke else 12)
        return
    rates = RATES
    if args.smoke:
        rates, args.seconds, args.agents = (0.5,), 3.0, 2
    print(f"busy hour with whole calls (IVR, queue, agents answering, talking, wrapping up; abandons; missed offers): "
          f"Poisson arrivals through HAProxy, PostgreSQL, Redis, {args.agents} agents, {machine()}")
    for apps in (1, 2):
        best, _results = run(apps, args.url, rates, args.seconds, args.agents)
        per_hour = best["rate"] * 3600 if best else 0
        top = bool(best) and best["rate"] == rates[-1]
        print(f"{apps} app process(es): sustained {'at least ' if top else ''}{per_hour:,.0f} calls/hour (webhook p99 under 1 s, "
              f"no invariant broken){' — the highest rate tried, so a floor' if top else ''}, {machine()}",
              flush=True)
        figure(f"capacity.apps{apps}.calls_per_hour", float(per_hour), "whole calls/hour (p99 < 1 s, invariants hold)")
        figure(f"capacity.apps{apps}.p50", best["p50"] if best else float("nan"), "ms webhook p50 at that rate")
        figure(f"capacity.apps{apps}.p99", best["p99"] if best else float("nan"), "ms webhook p99 at that rate")
        figure(f"capacity.apps{apps}.routing_p50", best["routing50"] * 1000 if best else float("nan"), "ms queue entry → offer, p50")
        figure(f"capacity.apps{apps}.routing_p95", best["routing95"] * 1000 if best else float("nan"), "ms queue entry → offer, p95")
    if args.pg_outage and not args.smoke:
        print(f"PostgreSQL outage (a private server this run started, stopped 5 s mid-run), {machine()}")
        outage(1.0, 10, 5, 10, 12)


if __name__ == "__main__":
    main()
