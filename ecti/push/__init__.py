"""Live updates pushed to browsers, across app processes (issue 18).

What is pushed is a *hint*, never data: ``agent`` (this agent's presence, state, offer or call
changed — the phone fetches ``/api/v1/acd/me``), ``agents`` (some agent's status changed —
agent lists, the wallboard) and ``queues`` (waiting calls changed — queue counts, the
wallboard). The page then reads what it already knows how to read, through the ordinary API
and its authorisation; a missed hint costs nothing but the next poll, which remains as the
fallback.

The hints are found where the changes are written: a SQLAlchemy ``after_flush`` listener on the
app's sessions notes every agent, offer and queue entry whose shown state changed, and the
``after_commit`` listener publishes them — so rolled-back work is never pushed. They travel:

* **PostgreSQL** (production): ``pg_notify('ecti_push', …)`` on the database every app process
  already shares; the push server (``ecti push serve``, :mod:`ecti.push.server`) LISTENs. No
  new infrastructure, delivery to every listener, and it needs nothing when nobody listens.
* **SQLite** (the one-machine demo): a signed UDP datagram to the push server on the same
  machine (``udp://127.0.0.1:6546``); a lost datagram is made up for by the next poll.

The browser connects to the push server (Server-Sent Events) with a short-lived token signed by
the app (``POST /api/v1/push/token``): the token names the tenant and the user, and the server
sends a connection only its own tenant's hints, and ``agent`` hints only to that agent.

Settings: ``ecti.push.url`` (where browsers connect; unset: no push, pages poll),
``ecti.push.backend`` (``postgresql``, ``udp://host:port``, ``memory`` for tests, ``off``;
default: ``postgresql`` on PostgreSQL, else ``udp://127.0.0.1:6546``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time

from sqlalchemy import event, inspect, text

log = logging.getLogger(__name__)

CHANNEL = "ecti_push"
PENDING_KEY = "ecti.push.pending"
PUBLISHER_KEY = "ecti.push.publisher"
DEFAULT_UDP = "udp://127.0.0.1:6546"
#: How long a token lets a browser open a push connection.
TOKEN_TTL = 120
#: PostgreSQL's NOTIFY payload limit is 8000 bytes: larger batches are split.
MAX_PAYLOAD = 7000


# --- tokens -------------------------------------------------------------------------------------

def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


def make_token(secret: str, *, tenant_id: int, user_id: int, ttl: int = TOKEN_TTL, now: float | None = None) -> str:
    body = _b64(json.dumps({"t": tenant_id, "u": user_id, "exp": int((now or time.time()) + ttl)}, separators=(",", ":")).encode())
    return body + "." + _b64(hmac.new(_key(secret, b"ecti.push.token"), body.encode(), hashlib.sha256).digest())


def read_token(secret: str, token: str, now: float | None = None) -> dict | None:
    """The token's claims (``t`` tenant, ``u`` user), or None if forged, malformed or expired."""
    try:
        body, signature = token.split(".", 1)
        expected = hmac.new(_key(secret, b"ecti.push.token"), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(body))
        if claims["exp"] < (now or time.time()):
            return None
        return {"t": int(claims["t"]), "u": int(claims["u"])}
    except (ValueError, KeyError, TypeError):
        return None


def sign_datagram(secret: str, payload: bytes) -> bytes:
    return hmac.new(_key(secret, b"ecti.push.udp"), payload, hashlib.sha256).digest() + payload


def open_datagram(secret: str, data: bytes) -> bytes | None:
    signature, payload = data[:32], data[32:]
    expected = hmac.new(_key(secret, b"ecti.push.udp"), payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(signature, expected) else None


# --- what changed -------------------------------------------------------------------------------

def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def hints_of(session) -> set[tuple[int, int | None, str]]:
    """The hints a flush of ``session`` calls for: (tenant, user or None, kind)."""
    from ..acd.models import Agent, Offer, QueueEntry

    hints = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Agent):
            if obj in session.new or _changed(obj, "status", "presence", "state", "away_reason", "available_at"):
                hints.add((obj.tenant_id, obj.user_id, "agent"))
                hints.add((obj.tenant_id, None, "agents"))
        elif isinstance(obj, Offer):
            if obj in session.new or _changed(obj, "status"):
                hints.add((obj.tenant_id, obj.user_id, "agent"))
                if obj.from_user_id:
                    hints.add((obj.tenant_id, obj.from_user_id, "agent"))
        elif isinstance(obj, QueueEntry):
            if obj in session.new or _changed(obj, "status"):
                hints.add((obj.tenant_id, None, "queues"))
            if obj.agent_user_id and (obj in session.new or _changed(obj, "on_hold", "status", "agent_user_id")):
                hints.add((obj.tenant_id, obj.agent_user_id, "agent"))
    return hints


def encode(hints, now_ms: int | None = None) -> list[bytes]:
    """The hints as JSON payloads ``{"ts": ms, "e": [[tenant, user, kind], …]}`` under the limit."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    rows = sorted(([t, u, k] for t, u, k in hints), key=lambda r: (r[0], r[1] or 0, r[2]))
    payloads, batch = [], []
    for row in rows:
        batch.append(row)
        if len(batch) >= 150:
            payloads.append(batch)
            batch = []
    if batch:
        payloads.append(batch)
    return [json.dumps({"ts": now_ms, "e": b}, separators=(",", ":")).encode() for b in payloads]


def decode(payload: bytes | str) -> tuple[int, list[tuple[int, int | None, str]]]:
    data = json.loads(payload)
    return int(data.get("ts") or 0), [(int(t), (int(u) if u is not None else None), str(k)) for t, u, k in data["e"]]


# --- publishers ---------------------------------------------------------------------------------

class PgPublisher:
    """``pg_notify`` on its own autocommit connection, after the work committed."""

    def __init__(self, engine):
        self.engine = engine

    def publish(self, payloads: list[bytes]) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for payload in payloads:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload.decode()})


class UdpPublisher:
    """A signed datagram to the push server on this machine (SQLite's one-machine demo)."""

    def __init__(self, url: str, secret: str):
        host, _, port = url.split("://", 1)[1].rpartition(":")
        self.address = (host.strip("[]") or "127.0.0.1", int(port))
        self.secret = secret
        family = socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def publish(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            try:
                self.sock.sendto(sign_datagram(self.secret, payload), self.address)
            except OSError:  # nobody listens, or the buffer is full: the pages poll anyway
                pass


class MemoryPublisher:
    """Keeps what was published (tests)."""

    def __init__(self):
        self.published: list[tuple[int, list]] = []
        self.lock = threading.Lock()

    def publish(self, payloads: list[bytes]) -> None:
        with self.lock:
            self.published.extend(decode(p) for p in payloads)

    def hints(self) -> list[tuple[int, int | None, str]]:
        return [hint for _ts, rows in self.published for hint in rows]


def make_publisher(settings: dict, engine):
    backend = (settings.get("ecti.push.backend") or "").strip()
    if not backend:
        backend = "postgresql" if engine.dialect.name == "postgresql" else DEFAULT_UDP
    if backend == "off":
        return None
    if backend == "memory":
        return MemoryPublisher()
    if backend == "postgresql":
        return PgPublisher(engine)
    if backend.startswith("udp://"):
        return UdpPublisher(backend, settings["ecti.secret_key"])
    raise ValueError(f"ecti.push.backend must be postgresql, udp://host:port, memory or off, not {backend!r}")


def listen(session_factory, registry) -> None:
    """Collect the hints of every flush; publish them once the transaction has committed (with
    the registry's publisher of the moment)."""

    def after_flush(session, flush_context):
        hints = hints_of(session)
        if hints:
            session.info.setdefault(PENDING_KEY, set()).update(hints)

    def after_commit(session):
        hints = session.info.pop(PENDING_KEY, None)
        publisher = registry.get(PUBLISHER_KEY)
        if not hints or publisher is None:
            return
        try:
            publisher.publish(encode(hints))
        except Exception:  # pushing is best effort: the pages poll as well
            log.exception("could not publish %d live update(s)", len(hints))

    def after_rollback(session):
        session.info.pop(PENDING_KEY, None)

    event.listen(session_factory, "after_flush", after_flush)
    event.listen(session_factory, "after_commit", after_commit)
    def after_soft_rollback(session, previous):
        if not previous.nested:  # a savepoint rolled back: the outer work may still commit
            after_rollback(session)

    event.listen(session_factory, "after_soft_rollback", after_soft_rollback)


def includeme(config):
    settings = config.get_settings()
    config.registry[PUBLISHER_KEY] = make_publisher(settings, config.registry["ecti.engine"])
    listen(config.registry["ecti.session_factory"], config.registry)
    config.include(".views")
