"""Whole calls through a running cluster (scripts/cluster.py), for the capacity benchmark and the
fault test (issue 21).

Callers dial the demo company's number in the simulator (its control API, ``/sim/v1``), hear the
demo flow, press 1 and wait in the queue サポート. Simulated agents do what the softphone page
does: they sign in, take a softphone token from ECTI, register their browser phone with the
simulator, send the phone heartbeat (presence from heartbeat, ``phone_seen_at``), go available,
and then answer a ringing offer after a random delay (some never answer: the ring times out on
the simulator's clock), talk, hang up and end their wrap-up. Some callers hang up while waiting.
A clock thread moves the simulator's virtual time on (hold-audio rounds, ring timeouts).

:func:`check` then proves the ACD's invariants from the database, the reports subsystem's own
queue report included; :class:`Load` samples "no caller offered to two agents at once" while
the calls run.
"""
from __future__ import annotations

import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import requests

ACCOUNT_SID = "AC" + "de" * 16  # ecti/demo.py, plugins/twilio/demo-seed.json
NUMBER = "+815012345678"


@dataclass
class Behaviour:
    """How people behave (real seconds)."""

    answer: tuple[float, float] = (0.3, 1.5)  # the agent's delay before answering
    talk: tuple[float, float] = (1.0, 4.0)
    wrap_up: tuple[float, float] = (0.3, 1.5)
    no_answer: float = 0.05  # chance an agent lets an offer ring out
    abandon: float = 0.1  # chance a caller hangs up while waiting
    patience: tuple[float, float] = (0.5, 4.0)  # how long such a caller waits
    ring_timeout: int = 6  # the queue's ring timeout (virtual seconds)
    clock_step: float = 1.0  # virtual seconds the clock thread moves every real 0.5 s


def _db(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def prepare(ini: str, database: str, agents: int, behaviour: Behaviour) -> tuple[int, list[tuple[str, str]]]:
    """Agents of the demo company in the queue サポート (created once); returns the queue id and
    the agents' sign-ins."""
    from sqlalchemy import select

    from ecti.acd.models import Queue, QueueMember
    from ecti.cli import CommandContext
    from ecti.db import ALL_TENANTS, SCOPE_KEY, set_tenant_scope
    from ecti.tenancy.models import Role, Tenant, find_user_by_email
    from ecti.tenancy.services import create_user

    ctx = CommandContext(ini)
    ctx.registry  # every plugin's models mapped (their relationships resolve)
    logins = []
    with ctx.session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "demo"))
        queue = session.scalar(select(Queue).where(Queue.tenant_id == tenant.id, Queue.name == "サポート"))
        set_tenant_scope(session, tenant.id)  # as ecti/demo.py writes the demo's queue members
        queue.ring_timeout = behaviour.ring_timeout
        queue.wrap_up_seconds = 120  # the agent ends it (POST wrap-up/end), as on the page
        for i in range(agents):
            email, password = f"load{i}@demo.example", f"load-agent-password-{i}"
            if find_user_by_email(session, email) is None:
                user = create_user(session, tenant=tenant, email=email, display_name=f"負荷 {i}", role=Role.agent, password=password)
                session.flush()
                session.add(QueueMember(tenant_id=tenant.id, queue_id=queue.id, user_id=user.id, position=10 + i))
            logins.append((email, password))
        queue_id = queue.id
        session.flush()
        session.info[SCOPE_KEY] = ALL_TENANTS
    ctx.engine.dispose()
    return queue_id, logins


class Agent(threading.Thread):
    def __init__(self, load: "Load", email: str, password: str, seed: int):
        super().__init__(daemon=True, name=f"agent-{email}")
        self.load, self.email, self.password = load, email, password
        self.rng = random.Random(seed)
        self.http = requests.Session()
        self.page = uuid.uuid4().hex[:12]
        self.identity = None
        self.csrf = None
        self.answered = 0
        self.errors: list[str] = []

    def api(self, method: str, path: str, **kw):
        """ECTI through HAProxy; an app process killed under the request is retried, as the page does."""
        for attempt in range(120):  # 30 s: an app process killed, the database restarting
            try:
                response = self.http.request(method, self.load.base + path, headers={"X-CSRF-Token": self.csrf or ""},
                                             timeout=10, **kw)
                if response.status_code < 500 or (path == "/login" and response.headers.get("Retry-After")):
                    return response
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.email}: {method} {path} kept failing")

    def sim(self, method: str, path: str, **kw):
        return self.load.sim(method, path, **kw)

    def sign_in(self) -> None:
        for attempt in range(30):
            page = self.api("GET", "/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            response = self.api("POST", "/login", data={"csrf_token": csrf, "email": self.email, "password": self.password,
                                                        "next": ""}, allow_redirects=False)
            if response.status_code == 303:
                break
            # 429 (the address's sign-in throttle: many agents behind one address) or 503 (the
            # argon2 gate is busy): wait as the page says, as a person would try again
            time.sleep(min(5.0, float(response.headers.get("Retry-After", 1))) + self.rng.random())
        else:
            raise RuntimeError(f"{self.email} could not sign in ({response.status_code})")
        self.csrf = self.api("GET", "/api/v1/me").json()["csrf_token"]
        token = self.api("POST", "/api/v1/softphone/token").json()
        self.identity = token["identity"]
        self.sim("POST", "/sim/v1/clients", json={"token": token["token"]})
        self.heartbeat()
        self.api("PUT", "/api/v1/acd/me/presence", json={"presence": "available"})

    def heartbeat(self) -> None:
        self.api("POST", "/api/v1/acd/me/heartbeat", json={"device": "registered", "page": self.page})

    def device(self) -> dict:
        return self.sim("GET", f"/sim/v1/clients/{ACCOUNT_SID}/{self.identity}").json()

    def run(self) -> None:
        try:
            self.work()
        except Exception as exc:  # reported by Load.finish
            self.errors.append(f"{self.email}: {exc!r}")

    def work(self) -> None:
        self.sign_in()
        beat = time.monotonic()
        while not (self.load.stopping.is_set() and self.load.callers_done()):
            if time.monotonic() - beat > 2:
                self.heartbeat()
                beat = time.monotonic()
                me = self.api("GET", "/api/v1/acd/me").json()
                if me.get("presence") == "away":  # missed offers in a row: back to available, as a person would
                    self.api("PUT", "/api/v1/acd/me/presence", json={"presence": "available"})
            ringing = self.device().get("ringing")
            if not ringing:
                time.sleep(0.15)
                continue
            sid = ringing["sid"]
            if self.rng.random() < self.load.behaviour.no_answer:
                while (self.device().get("ringing") or {}).get("sid") == sid:  # rings out on the clock
                    time.sleep(0.2)
                continue
            time.sleep(self.rng.uniform(*self.load.behaviour.answer))
            answer = self.sim("POST", f"/sim/v1/clients/{ACCOUNT_SID}/{self.identity}/answer")
            if answer.status_code != 200:  # the caller left, or the offer ended meanwhile
                continue
            self.answered += 1
            ends = time.monotonic() + self.rng.uniform(*self.load.behaviour.talk)
            while time.monotonic() < ends and self.device().get("active"):
                time.sleep(0.2)
            if self.device().get("active"):
                self.sim("POST", f"/sim/v1/clients/{ACCOUNT_SID}/{self.identity}/hangup")
            time.sleep(self.rng.uniform(*self.load.behaviour.wrap_up))
            self.heartbeat()
            self.api("POST", "/api/v1/acd/me/wrap-up/end", json={})


@dataclass
class Caller:
    sid: str = ""
    number: str = ""
    abandons: bool = False
    done: bool = False
    error: str = ""


class Load:
    """Agents and Poisson callers against a running cluster."""

    def __init__(self, cluster, behaviour: Behaviour | None = None, *, agents: int = 6, seed: int = 21):
        self.cluster = cluster
        self.behaviour = behaviour or Behaviour()
        self.base = f"http://127.0.0.1:{cluster.ports['port']}"
        self.sim_base = f"http://127.0.0.1:{cluster.ports['simulator']}"
        self.rng = random.Random(seed)
        self.stopping = threading.Event()
        self.callers: list[Caller] = []
        self.caller_threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.double_offers: list[tuple] = []
        self.database = cluster.args.database
        self.queue_id, logins = prepare(str(cluster.ini), self.database, agents, self.behaviour)
        self.agents = [Agent(self, email, password, seed + i) for i, (email, password) in enumerate(logins)]
        self._local = threading.local()
        self.started_at = datetime.now(timezone.utc)

    def sim(self, method: str, path: str, **kw):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        for attempt in range(20):
            try:
                return session.request(method, self.sim_base + path, timeout=120, **kw)
            except requests.ConnectionError:
                # The simulator's listen backlog overflowed (connection reset): try again. (A POST
                # reset before it was read did nothing; one reset after is rare and shows in check.)
                if attempt == 19:
                    raise
                session = self._local.session = requests.Session()
                time.sleep(0.1 * (attempt + 1))

    def callers_done(self) -> bool:
        with self.lock:
            return all(c.done for c in self.callers)

    # --- threads ---------------------------------------------------------------------------------
    def start(self) -> None:
        for agent in self.agents:
            agent.start()
        deadline = time.monotonic() + 60
        while any(a.identity is None for a in self.agents if a.is_alive()):
            if time.monotonic() > deadline:
                raise RuntimeError("the agents did not sign in")
            time.sleep(0.1)
        for target in (self._clock, self._watch):
            threading.Thread(target=target, daemon=True).start()

    def _clock(self) -> None:
        while not (self.stopping.is_set() and self.callers_done()):
            try:
                self.sim("POST", "/sim/v1/advance", json={"seconds": self.behaviour.clock_step})
            except requests.RequestException:
                pass
            time.sleep(0.5)

    def _watch(self) -> None:
        """No caller is offered to two agents at once (sampled while the calls run)."""
        import psycopg

        while not (self.stopping.is_set() and self.callers_done()):
            try:
                with _db(self.database) as conn:
                    while not (self.stopping.is_set() and self.callers_done()):
                        rows = conn.execute("SELECT entry_id, count(*) FROM acd_offers WHERE status IN ('ringing', 'accepted') "
                                            "GROUP BY entry_id HAVING count(*) > 1").fetchall()
                        if rows:
                            self.double_offers.extend(rows)
                        time.sleep(0.3)
            except psycopg.OperationalError:  # the database is down (the outage phase): sample again once back
                time.sleep(0.5)

    def call(self, caller: Caller) -> None:
        try:
            caller.sid = self.sim("POST", "/sim/v1/calls", json={"from": caller.number, "to": NUMBER}).json()["sid"]
            self.sim("POST", f"/sim/v1/calls/{caller.sid}/press", json={"digits": "1"})
            begun = time.monotonic()
            patience = self.rng.uniform(*self.behaviour.patience)
            while True:
                state = self.sim("GET", f"/sim/v1/calls/{caller.sid}").json()
                if state["status"] in ("completed", "busy", "failed", "no-answer", "canceled"):
                    break
                if caller.abandons and time.monotonic() - begun > patience:
                    waiting = self._waiting(caller.sid)
                    if waiting is not None:  # None: the database is down, ask again
                        if waiting:
                            self.sim("POST", f"/sim/v1/calls/{caller.sid}/hangup")
                        caller.abandons = False  # answered meanwhile: talks to the end
                if time.monotonic() - begun > 300:
                    caller.error = "never ended"
                    self.sim("POST", f"/sim/v1/calls/{caller.sid}/hangup")
                    break
                time.sleep(0.3)
        except Exception as exc:
            caller.error = repr(exc)
        finally:
            caller.done = True

    def _waiting(self, sid: str) -> bool | None:
        """The caller is still in the queue (not answered yet); None when the database is down."""
        import psycopg

        try:
            with _db(self.database) as conn:
                row = conn.execute("SELECT e.status FROM acd_queue_entries e JOIN calls c ON c.id = e.call_id "
                                   "WHERE c.carrier_call_id = %s ORDER BY e.id DESC LIMIT 1", (sid,)).fetchone()
        except psycopg.OperationalError:
            return None
        return row is None or row[0] in ("waiting", "offered")

    def arrive(self, rate: float, seconds: float, limit: int | None = None, *, then=None) -> int:
        """Poisson arrivals at ``rate`` per second for ``seconds`` (or until ``limit`` callers);
        returns how many. ``then`` is {n: fn}: fn() runs once the n-th caller has arrived."""
        start, t, n = time.monotonic(), 0.0, 0
        then = dict(then or {})
        while True:
            if n in then:
                then.pop(n)()
            t += self.rng.expovariate(rate)
            if t >= seconds or (limit is not None and n >= limit):
                return n
            delay = start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            caller = Caller(number=f"+8190{self.rng.randrange(10**8):08d}", abandons=self.rng.random() < self.behaviour.abandon)
            with self.lock:
                self.callers.append(caller)
            thread = threading.Thread(target=self.call, args=(caller,), daemon=True)
            thread.start()
            self.caller_threads.append(thread)
            n += 1

    def wait_calls(self, ceiling: float = 300) -> None:
        deadline = time.monotonic() + ceiling
        for thread in self.caller_threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        if not self.callers_done():
            raise RuntimeError(f"{sum(not c.done for c in self.callers)} callers still on the line after {ceiling:.0f} s")

    def finish(self, ceiling: float = 120) -> list[str]:
        """Stop: wait for the callers, then the agents (their wrap-ups end); returns the errors."""
        self.stopping.set()
        self.wait_calls(ceiling)
        deadline = time.monotonic() + ceiling
        for agent in self.agents:
            agent.join(max(0.1, deadline - time.monotonic()))
        errors = [c.error for c in self.callers if c.error]
        errors += [e for a in self.agents for e in a.errors]
        errors += [f"{a.email} still working" for a in self.agents if a.is_alive()]
        return errors

    # --- measures --------------------------------------------------------------------------------
    def webhook_seconds(self, since: int = 0) -> tuple[list[float], int]:
        """Every webhook's answer time (seconds, sorted) as the simulator measured it, and the failures."""
        records = self.sim("GET", "/sim/v1/webhooks").json()["webhooks"][since:]
        seconds = sorted(r["seconds"] for r in records if r.get("seconds") is not None and r["error_code"] is None)
        return seconds, sum(1 for r in records if r["error_code"] is not None)

    def webhook_count(self) -> int:
        return len(self.sim("GET", "/sim/v1/webhooks").json()["webhooks"])

    def routing_delays(self, sids: list[str]) -> list[float]:
        """Queue entry → first offer (seconds, sorted), per entry that was offered."""
        with _db(self.database) as conn:
            rows = conn.execute(
                "SELECT extract(epoch FROM min(o.offered_at) - e.entered_at) FROM acd_queue_entries e "
                "JOIN calls c ON c.id = e.call_id JOIN acd_offers o ON o.entry_id = e.id "
                "WHERE c.carrier_call_id = ANY(%s) GROUP BY e.id, e.entered_at", (sids,)).fetchall()
        return sorted(float(r[0]) for r in rows)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


@dataclass
class Verdict:
    broken: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken


def check(load: Load, mail_dir=None) -> Verdict:
    """The ACD's invariants once every call has ended (ECTI's own queries for the queue report)."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session
    from zoneinfo import ZoneInfo

    from ecti.reports.periods import Period
    from ecti.reports.queries import queue_report
    from ecti.tenancy.models import Tenant

    verdict = Verdict()
    sids = [c.sid for c in load.callers if c.sid]
    with _db(load.database) as conn:
        recorded = dict(conn.execute("SELECT carrier_call_id, count(*) FROM calls WHERE carrier_call_id = ANY(%s) GROUP BY 1",
                                     (sids,)).fetchall())
        missing = [s for s in sids if s not in recorded]
        twice = [s for s, n in recorded.items() if n > 1]
        if missing or twice:
            verdict.broken.append(f"{len(missing)} calls not recorded, {len(twice)} recorded twice")
        open_entries = conn.execute(
            "SELECT count(*) FROM acd_queue_entries e JOIN calls c ON c.id = e.call_id WHERE c.carrier_call_id = ANY(%s) "
            "AND (e.outcome IS NULL OR e.status <> 'ended')", (sids,)).fetchone()[0]
        unended = conn.execute("SELECT count(*) FROM calls WHERE carrier_call_id = ANY(%s) AND ended_at IS NULL", (sids,)).fetchone()[0]
        if open_entries or unended:
            verdict.broken.append(f"{open_entries} queue entries without a final outcome, {unended} calls not ended")
        live = conn.execute("SELECT count(*) FROM acd_offers WHERE status IN ('ringing', 'accepted')").fetchone()[0]
        stuck = conn.execute("SELECT count(*) FROM acd_agents WHERE state IN ('ringing', 'on_call')").fetchone()[0]
        if live or stuck:
            verdict.broken.append(f"{live} offers still ringing/accepted, {stuck} agents stuck ringing or on a call")
        overlapping = conn.execute(
            "SELECT count(*) FROM acd_offers a JOIN acd_offers b ON a.entry_id = b.entry_id AND a.id < b.id "
            "WHERE a.accepted_at IS NOT NULL AND b.accepted_at IS NOT NULL "
            "AND b.accepted_at < coalesce(a.ended_at, now()) AND a.kind = 'queue' AND b.kind = 'queue'").fetchone()[0]
        if overlapping or load.double_offers:
            verdict.broken.append(f"callers offered to two agents at once: {overlapping} overlapping answered offers, "
                                  f"{len(load.double_offers)} samples with two live offers")
        outcomes = dict(conn.execute(
            "SELECT coalesce(e.outcome, 'none'), count(*) FROM acd_queue_entries e JOIN calls c ON c.id = e.call_id "
            "WHERE c.carrier_call_id = ANY(%s) GROUP BY 1", (sids,)).fetchall())
        voicemails = conn.execute("SELECT count(*) FROM voicemail_messages").fetchone()[0] if conn.execute(
            "SELECT to_regclass('voicemail_messages')").fetchone()[0] else 0
    verdict.figures["outcomes"] = outcomes
    engine = create_engine(load.database)
    try:
        with Session(engine) as session:
            tenant = session.scalar(select(Tenant).where(Tenant.slug == "demo"))
            today = datetime.now(timezone.utc).date()
            period = Period(today - timedelta(days=1), today + timedelta(days=1), ZoneInfo("UTC"))
            figures = queue_report(session, tenant.id, period, load.queue_id).total(load.queue_id)
    finally:
        engine.dispose()
    entries = sum(outcomes.values())
    verdict.figures["report"] = {k: getattr(figures, k) for k in ("offered", "answered", "abandoned", "overflowed", "timed_out", "in_progress")}
    if not figures.reconciles or figures.in_progress or figures.offered < entries:
        verdict.broken.append(f"queue report does not add up: {verdict.figures['report']} for {entries} entries")
    if voicemails and mail_dir is not None:
        verdict.figures["voicemails"] = voicemails  # mail checked by the caller (mailbox files)
    return verdict
