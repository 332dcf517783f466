"""``/healthz`` while a burst of failed sign-ins hits one app process (issue 20).

Serves ECTI (SQLite in a temporary directory) with waitress (16 threads, as production.ini) and
measures ``/healthz`` every 50 ms, first idle, then while N failed sign-ins arrive C at a time:

* ``spread, unbounded``: every attempt from another address and for another login name (a
  trusted proxy forwards them), argon2 verifications not limited (``ecti.signin_concurrency``
  = C): nothing throttles, every attempt pays argon2 at once — what the code did before.
* ``spread, bounded``: the same attack with the default limit of concurrent verifications.
* ``one address``: the whole burst from one address (the per-address throttle answers 429
  after 10 attempts, without argon2).

    .venv/bin/python benchmarks/signin_burst.py [--attempts 200] [--concurrency 20] [--smoke]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import figure  # noqa: E402


def serve(app):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=16, clear_untrusted_proxy_headers=False)  # ECTI decides (ecti.trusted_proxies)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def attempt(base: str, i: int, spread: bool) -> int:
    import requests

    browser = requests.Session()
    page = browser.get(base + "/login", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"X-Forwarded-For": f"198.51.{i // 250}.{i % 250 + 1}"} if spread else {}
    email = f"guess{i}@example.jp" if spread else "admin@bench.example"
    return browser.post(base + "/login", data={"csrf_token": token, "email": email, "password": f"wrong {i}"},
                        headers=headers, allow_redirects=False, timeout=120).status_code


def probe(base: str, stop: threading.Event, out: list[float]) -> None:
    import requests

    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        session.get(base + "/healthz", timeout=60)
        out.append(time.perf_counter() - started)
        stop.wait(0.05)


def figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"healthz p50 {statistics.median(ordered) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms  ({len(ordered)} probes)"


def headline(key: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    figure(f"signin_burst.{key}.healthz_p50", statistics.median(ordered) * 1000, "ms")
    figure(f"signin_burst.{key}.healthz_p99", ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, "ms")


def run(base: str, attempts: int, concurrency: int, spread: bool) -> tuple[list[float], Counter, float]:
    latencies: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=probe, args=(base, stop, latencies))
    prober.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = Counter(pool.map(lambda i: attempt(base, i, spread), range(attempts)))
    elapsed = time.perf_counter() - started
    stop.set()
    prober.join()
    return latencies, statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="a few attempts, to check the script works")
    args = parser.parse_args()
    if args.smoke:
        args.attempts, args.concurrency = 20, 5

    from ecti import migrate
    from ecti.config import configure
    from ecti.db import all_tenants, make_engine, make_session_factory
    from ecti.tenancy.models import Role, SigninThrottle
    from ecti.tenancy.services import create_tenant, create_user
    from ecti.tenancy.throttle import default_concurrency
    from ecti.testing import base_settings

    workdir = tempfile.mkdtemp(prefix="ecti-signin-bench-")
    url = f"sqlite:///{os.path.join(workdir, 'ecti.sqlite')}"
    migrate.upgrade(url)
    engine = make_engine({"sqlalchemy.url": url})
    session = make_session_factory(engine)()
    with all_tenants(session):
        tenant = create_tenant(session, slug="bench", name="ベンチ株式会社")
        create_user(session, tenant=tenant, email="admin@bench.example", display_name="管理", role=Role.admin, password="bench passphrase 2026")
        session.commit()
    session.close()

    print(f"{args.attempts} failed sign-ins, {args.concurrency} at a time; {os.cpu_count()} CPUs; default limit "
          f"{default_concurrency()} concurrent argon2 verification(s)")
    scenarios = [("idle", None, None), ("spread, unbounded (before)", True, args.concurrency),
                 ("spread, bounded (after)", True, None), ("one address (after)", False, None)]
    keys = {"idle": "idle", "spread, unbounded (before)": "unbounded", "spread, bounded (after)": "bounded",
            "one address (after)": "one_address"}
    for name, spread, limit in scenarios:
        settings = {**base_settings(url), "ecti.trusted_proxies": "127.0.0.1"}
        if limit:
            settings["ecti.signin_concurrency"] = str(limit)
        app = configure(settings, engine=engine).make_wsgi_app()
        server, base = serve(app)
        with engine.begin() as conn:
            conn.execute(SigninThrottle.__table__.delete())
        try:
            if spread is None:
                latencies: list[float] = []
                stop = threading.Event()
                timer = threading.Timer(3 if args.smoke else 10, stop.set)
                timer.start()
                probe(base, stop, latencies)
                print(f"{name:<28} {figures(latencies)}")
                headline(keys[name], latencies)
                continue
            latencies, statuses, elapsed = run(base, args.attempts, args.concurrency, spread)
            answers = ", ".join(f"{status}×{n}" for status, n in sorted(statuses.items()))
            print(f"{name:<28} {figures(latencies)}  burst {elapsed:5.1f} s  answers {answers}")
            headline(keys[name], latencies)
        finally:
            # The request threads first (a ceiling, not a wait): closing the server under a
            # request still running closes the trigger it writes to when it finishes.
            server.task_dispatcher.shutdown(timeout=60)
            server.close()
    engine.dispose()


if __name__ == "__main__":
    main()
