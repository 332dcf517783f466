"""Throughput and latency of the incoming-call webhook, against a hello-world Pyramid view.

Both applications are served the same way (waitress, ``--threads`` threads in each of
``--workers`` processes sharing one listening socket) and loaded the same way (N concurrent
keep-alive clients posting for a fixed time) in the same run.
The ECTI request does what a real one does: verify X-Twilio-Signature with the tenant's
(decrypted) auth token, find the tenant and the number, create the call and its events, run
the number's flow (business hours with the Japanese holiday calendar → greeting → "press 1
for …" menu, each step recorded) and render TwiML.

A third application, the *minimal webhook*, is the least any implementation of this webhook
does and none of the rest: a bare Pyramid view that parses the form, checks the signature with a
token held in memory, builds the same kind of TwiML with the SDK, and records nothing. Its
ratio to hello world is the ceiling this machine and this load put on the target.

Requests are signed before the clock starts, so the load generator (which shares the two cores)
spends the same per request on every application.

    .venv/bin/python benchmarks/webhook_throughput.py [--seconds 10] [--concurrency 20] [--database URL]
                                                      [--workers 1] [--threads 8] [--smoke]

Target (issue 21, which replaced issue 3's ratio to hello world, a ceiling no implementation reaches
here): ECTI ≥ 0.3 × the minimal webhook's rate in the same run, on SQLite and PostgreSQL; p99 under
200 ms at 20 concurrent requests on PostgreSQL.
"""
from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "benchmark-auth-token"
NUMBER = "+815012340000"
ENCRYPTION_KEY = "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M="


def settings(url: str) -> dict:
    return {
        "sqlalchemy.url": url,
        "ecti.secret_key": "benchmark",
        "ecti.environment": "test",
        "ecti.encryption_keys": ENCRYPTION_KEY,
        "ecti.media_dir": os.path.join(tempfile.gettempdir(), "ecti-benchmark-media"),
        "ecti.jobs.path": os.path.join(tempfile.gettempdir(), "ecti-benchmark-jobs.sqlite"),
    }


GREETING = "お電話ありがとうございます。ベンチマーク株式会社です。"
MENU = "サポートは1を、伝言は2を押してください。"
ALL_DAY = [["00:00", "24:00"]]
FLOW = {
    "name": "代表フロー",
    "start": "hours",
    "nodes": [
        {"id": "hours", "type": "schedule", "settings": {"schedule": "$schedule"},
         "next": {"open": "welcome", "holiday": "welcome", "closed": "closed"}},
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": GREETING}}, "next": {"next": "menu"}},
        {"id": "menu", "type": "menu", "settings": {"prompt": {"text": MENU}, "digits": ["1", "2"]},
         "next": {"1": "closed", "2": "closed", "fallback": "closed"}},
        {"id": "closed", "type": "hangup", "settings": {}},
    ],
}


def prepare_database(url: str) -> None:
    """The benchmark company: the account, its number and the number's flow."""
    from ecti import migrate
    from ecti.config import configure
    from ecti.db import ALL_TENANTS, SCOPE_KEY, all_tenants, set_tenant_scope
    from ecti.ivr.schedules import WEEKDAYS
    from ecti.ivr.services import save_flow, save_schedule
    from ecti.telephony.models import PhoneNumber
    from ecti.tenancy.services import create_tenant

    migrate.upgrade(url)
    registry = configure(settings(url)).registry
    session = registry["ecti.session_factory"]()
    with all_tenants(session):
        tenant = create_tenant(session, slug=f"bench-{uuid.uuid4().hex[:6]}", name="ベンチマーク")
        tenant.set_carrier_credentials(registry.secret_box, ACCOUNT_SID, AUTH_TOKEN)
        number = PhoneNumber(tenant_id=tenant.id, e164=NUMBER, voice_capable=True)
        session.add(number)
        session.flush()
        set_tenant_scope(session, tenant.id)
        schedule = save_schedule(session, registry, name="終日", weekly={day: ALL_DAY for day in WEEKDAYS},
                                 calendars=["jp_national"])
        flow = {**FLOW, "nodes": [dict(n, settings={k: schedule.id if v == "$schedule" else v for k, v in n["settings"].items()}) for n in FLOW["nodes"]]}
        number.flow_id = save_flow(session, registry, flow).id
        session.info[SCOPE_KEY] = ALL_TENANTS
        session.commit()
    session.close()
    registry["ecti.engine"].dispose()


def minimal_webhook():
    """The least an incoming-call webhook does (see the module's docstring): no database."""
    from pyramid.config import Configurator
    from pyramid.response import Response
    from twilio.request_validator import RequestValidator
    from twilio.twiml.voice_response import VoiceResponse

    validators = {(ACCOUNT_SID, NUMBER): RequestValidator(AUTH_TOKEN)}

    def incoming(request):
        params = request.POST.mixed()
        validator = validators.get((params.get("AccountSid"), params.get("To")))
        if validator is None or not validator.validate(request.url, params, request.headers.get("X-Twilio-Signature", "")):
            return Response("forbidden", status=403)
        response = VoiceResponse()
        response.say(GREETING, language="ja-JP")
        gather = response.gather(num_digits=1, timeout=5, action="/twilio/voice/step/ivr.resume?flow=1&node=menu&attempt=1")
        gather.say(MENU, language="ja-JP")
        response.redirect("/twilio/voice/step/ivr.resume?flow=1&node=menu&attempt=1")
        return Response(response.to_xml(), content_type="text/xml")

    config = Configurator()
    config.add_route("incoming", "/twilio/voice/incoming")
    config.add_view(incoming, route_name="incoming", request_method="POST")
    return config.make_wsgi_app()


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
    elif kind == "minimal":
        app = minimal_webhook()
    else:
        from ecti.config import configure

        # No ecti.public_url: signatures are checked against the Host the client used.
        app = configure(settings(url)).make_wsgi_app()
    server = create_server(app, sockets=[sock], threads=threads)
    ready.put(True)
    server.run()


def signed_requests(port: int, path: str, count: int) -> list[tuple[str, dict]]:
    """``count`` different calls (each its own CallSid), signed as Twilio signs them."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = f"http://127.0.0.1:{port}{path}"
    requests = []
    for _ in range(count):
        params = {
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": "CA" + uuid.uuid4().hex,
            "CallStatus": "ringing", "Direction": "inbound", "From": "+819011112222", "To": NUMBER,
            "Called": NUMBER, "Caller": "+819011112222",
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": validator.compute_signature(url, params)}
        requests.append((urlencode(params), headers))
    return requests


def load(port: int, path: str, seconds: float, concurrency: int, requests: list) -> tuple[int, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    pending = iter(requests)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            body, headers = next(pending)  # one iterator shared by the clients: each call once
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
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
    # More signed calls than the fastest application could take in the time given.
    requests = signed_requests(port, path, int(8000 * (seconds + 1)) + 1000)
    try:
        load(port, path, 1.0, concurrency, requests[:8000])  # warm-up
        count, latencies = load(port, path, seconds, concurrency, requests[8000:])
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
    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--workers", type=int, default=1, help="server processes for each application (same for both)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process (same for both)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.concurrency = 1, 4
    if args.database and args.database.startswith("postgresql"):
        # A throw-away database next to the one named, like the test suite's.
        from ecti.testing import _create_pg_database, _drop_pg_database

        url = _create_pg_database(args.database)
    else:
        url = args.database or f"sqlite:///{os.path.join(tempfile.mkdtemp(), 'bench.sqlite')}"
    try:
        prepare_database(url)
        hello = measure("hello", url, "/hello", args.seconds, args.concurrency, args.workers, args.threads)
        minimal = measure("minimal", url, "/twilio/voice/incoming", args.seconds, args.concurrency, args.workers, args.threads)
        ecti = measure("ecti", url, "/twilio/voice/incoming", args.seconds, args.concurrency, args.workers, args.threads)
    finally:
        if url.startswith("postgresql"):
            _drop_pg_database(args.database, url)
    print(f"database: {url.split('://')[0]}   concurrency: {args.concurrency}   seconds: {args.seconds}   "
          f"workers: {args.workers} x {args.threads} threads   {machine()}")
    for name, r in (("hello-world view", hello), ("minimal webhook (no db)", minimal), ("incoming-call webhook", ecti)):
        print(f"{name:24} {r['rate']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms   ({r['count']} requests)")
    print(f"ratio minimal webhook/hello-world: {minimal['rate'] / hello['rate']:.2f}   (the ceiling of the ratio here)")
    print(f"ratio webhook/hello-world: {ecti['rate'] / hello['rate']:.2f}")
    ratio = ecti["rate"] / minimal["rate"]
    db = url.split(":")[0].split("+")[0]
    print(f"ratio webhook/minimal webhook: {ratio:.2f}   (target >= 0.3)")
    print(f"webhook p99: {ecti['p99']:.1f} ms   (target < 200 ms on PostgreSQL at 20 concurrent)")
    figure(f"webhook.{db}.rate", ecti["rate"], "req/s")
    figure(f"webhook.{db}.p99", ecti["p99"], "ms", **({"target": "< 200 ms", "ok": ecti["p99"] < 200} if db == "postgresql" else {}))
    figure(f"webhook.{db}.ratio_to_minimal", ratio, "x the minimal webhook", target=">= 0.3", ok=ratio >= 0.3)
    figure(f"webhook.{db}.minimal_ratio_to_hello", minimal["rate"] / hello["rate"], "x hello world (the ceiling)")


if __name__ == "__main__":
    main()
