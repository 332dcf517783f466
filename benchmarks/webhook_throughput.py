"""Throughput and latency of the incoming-call webhook, against a hello-world Pyramid view.

Both applications are served the same way (waitress, ``--threads`` threads in each of
``--workers`` processes sharing one listening socket) and loaded the same way (N concurrent
keep-alive clients posting for a fixed time) in the same run.
The ECTI request does what a real one does: verify X-Twilio-Signature with the tenant's
(decrypted) auth token, find the tenant and the number, create the call and its events, run
the inbound entry and render TwiML.

    .venv/bin/python benchmarks/webhook_throughput.py [--seconds 10] [--concurrency 20] [--database URL]
                                                      [--workers 1] [--threads 8]

Target (issue 3): ECTI ≥ 0.5 × the hello-world rate, p99 < 50 ms at 20 concurrent requests.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from urllib.parse import urlencode

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "benchmark-auth-token"
NUMBER = "+815012340000"
ENCRYPTION_KEY = "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M="


def settings(url: str) -> dict:
    return {
        "sqlalchemy.url": url,
        "ecti.secret_key": "benchmark",
        "ecti.encryption_keys": ENCRYPTION_KEY,
        "ecti.media_dir": os.path.join(tempfile.gettempdir(), "ecti-benchmark-media"),
        "ecti.jobs.path": os.path.join(tempfile.gettempdir(), "ecti-benchmark-jobs.sqlite"),
    }


def prepare_database(url: str) -> None:
    from ecti import migrate
    from ecti.crypto import SecretBox
    from ecti.db import all_tenants, make_engine, make_session_factory
    from ecti.telephony.models import PhoneNumber
    from ecti.tenancy.services import create_tenant

    migrate.upgrade(url)
    engine = make_engine({"sqlalchemy.url": url})
    session = make_session_factory(engine)()
    with all_tenants(session):
        tenant = create_tenant(session, slug=f"bench-{uuid.uuid4().hex[:6]}", name="ベンチマーク")
        tenant.set_carrier_credentials(SecretBox(ENCRYPTION_KEY), ACCOUNT_SID, AUTH_TOKEN)
        session.add(PhoneNumber(tenant_id=tenant.id, e164=NUMBER))
        session.commit()
    engine.dispose()


def serve(kind: str, url: str, sock, threads: int, ready) -> None:
    import logging

    from waitress.server import create_server

    logging.disable(logging.WARNING)
    if kind == "hello":
        from pyramid.config import Configurator
        from pyramid.response import Response

        config = Configurator()
        config.add_route("hello", "/hello")
        config.add_view(lambda request: Response("hello"), route_name="hello", request_method="POST")
        app = config.make_wsgi_app()
    else:
        from ecti.config import configure

        # No ecti.public_url: signatures are checked against the Host the client used.
        app = configure(settings(url)).make_wsgi_app()
    server = create_server(app, sockets=[sock], threads=threads)
    ready.put(True)
    server.run()


def load(port: int, path: str, seconds: float, concurrency: int, signed: bool) -> tuple[int, list[float]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}{path}"
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            params = {
                "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": "CA" + uuid.uuid4().hex,
                "CallStatus": "ringing", "Direction": "inbound", "From": "+819011112222", "To": NUMBER,
                "Called": NUMBER, "Caller": "+819011112222",
            }
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if signed:
                headers["X-Twilio-Signature"] = validator.compute_signature(url, params)
            started = time.perf_counter()
            conn.request("POST", path, body=urlencode(params), headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies


def measure(kind: str, url: str, path: str, seconds: float, concurrency: int, workers: int, threads: int) -> dict:
    import socket

    # One listening socket, inherited by every worker process (fork): the kernel hands each
    # connection to one of them.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    processes = [context.Process(target=serve, args=(kind, url, sock, threads, ready), daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)
    try:
        load(port, path, 1.0, concurrency, kind == "ecti")  # warm-up
        count, latencies = load(port, path, seconds, concurrency, kind == "ecti")
    finally:
        for process in processes:
            process.terminate()
            process.join()
        sock.close()
    latencies.sort()
    return {
        "rate": count / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "count": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--workers", type=int, default=1, help="server processes for each application (same for both)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process (same for both)")
    args = parser.parse_args()
    if args.database and args.database.startswith("postgresql"):
        # A throw-away database next to the one named, like the test suite's.
        from ecti.testing import _create_pg_database, _drop_pg_database

        url = _create_pg_database(args.database)
    else:
        url = args.database or f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'bench.sqlite')}"
    try:
        prepare_database(url)
        hello = measure("hello", url, "/hello", args.seconds, args.concurrency, args.workers, args.threads)
        ecti = measure("ecti", url, "/twilio/voice/incoming", args.seconds, args.concurrency, args.workers, args.threads)
    finally:
        if url.startswith("postgresql"):
            _drop_pg_database(args.database, url)
    print(f"database: {url.split('://')[0]}   concurrency: {args.concurrency}   seconds: {args.seconds}   "
          f"workers: {args.workers} x {args.threads} threads   load average: {os.getloadavg()[0]:.1f}")
    for name, r in (("hello-world view", hello), ("incoming-call webhook", ecti)):
        print(f"{name:24} {r['rate']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms   ({r['count']} requests)")
    print(f"ratio webhook/hello-world: {ecti['rate'] / hello['rate']:.2f}   (target >= 0.5)")
    print(f"webhook p99: {ecti['p99']:.1f} ms   (target < 50 ms)")


if __name__ == "__main__":
    main()
