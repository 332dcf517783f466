"""The push server: Server-Sent Events for the browsers, fed by the app processes' hints.

A small ASGI app (Starlette, ``sse-starlette`` for the event stream, run by uvicorn) in its own
process — ``ecti -c production.ini push serve`` — so thousands of long-lived connections cost
one asyncio task each and never hold one of the app's waitress request threads. Behind the load
balancer it takes the path ``/push/`` of the same site (docs/operations.md).

* ``GET /push/events?token=…`` — the stream (``Authorization: Bearer …`` works too). The token
  comes from the app (``POST /api/v1/push/token``, signed with ``ecti.secret_key``) and names
  the tenant and the user: the connection gets its own tenant's ``agents`` and ``queues`` hints
  and its own ``agent`` hints, nothing else. Each event's data is ``{"ts": ms}``, when the change
  was committed. After ``max_age`` the stream ends and the browser reconnects with a new token.
* ``GET /push/health`` — connections and the feed's state, for load balancers and benchmarks.

Hints of one connection that arrive while it is still being written to are merged (a slow
browser gets one ``agent`` hint, not a backlog), so memory per connection is bounded.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import CHANNEL, DEFAULT_UDP, decode, open_datagram, read_token

log = logging.getLogger(__name__)


class Subscriber:
    __slots__ = ("tenant_id", "user_id", "pending", "wake")

    def __init__(self, tenant_id: int, user_id: int):
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.pending: dict[str, int] = {}
        self.wake = asyncio.Event()

    def push(self, kind: str, ts: int) -> None:
        if kind not in self.pending:
            self.pending[kind] = ts
        self.wake.set()


class Hub:
    """Connections by tenant; a hint goes to its tenant's connections (``agent`` hints only to
    that agent's)."""

    def __init__(self):
        self.tenants: dict[int, set[Subscriber]] = defaultdict(set)
        #: The same connections by (tenant, user): an ``agent`` hint finds its phones at once.
        self.users: dict[tuple[int, int], set[Subscriber]] = defaultdict(set)
        self.count = 0
        self.received = 0
        self.feed = "starting"

    def add(self, sub: Subscriber) -> None:
        self.tenants[sub.tenant_id].add(sub)
        self.users[(sub.tenant_id, sub.user_id)].add(sub)
        self.count += 1

    def remove(self, sub: Subscriber) -> None:
        subs = self.tenants.get(sub.tenant_id)
        if subs is not None and sub in subs:
            subs.discard(sub)
            self.count -= 1
            if not subs:
                del self.tenants[sub.tenant_id]
            mine = self.users[(sub.tenant_id, sub.user_id)]
            mine.discard(sub)
            if not mine:
                del self.users[(sub.tenant_id, sub.user_id)]

    def dispatch(self, payload: bytes | str) -> None:
        try:
            ts, hints = decode(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed hint")
            return
        self.received += 1
        for tenant_id, user_id, kind in hints:
            subs = self.tenants.get(tenant_id, ()) if user_id is None else self.users.get((tenant_id, user_id), ())
            for sub in subs:
                sub.push(kind, ts)

    def resync(self) -> None:
        """The feed was (re)connected: hints may have been missed, so everyone refreshes."""
        now = int(time.time() * 1000)
        for subs in self.tenants.values():
            for sub in subs:
                for kind in ("agent", "agents", "queues"):
                    sub.push(kind, now)


# --- feeds ----------------------------------------------------------------------------------------

async def pg_feed(hub: Hub, conninfo: str) -> None:
    """LISTEN on PostgreSQL; reconnect (and resync everyone) when the connection is lost."""
    import psycopg

    delay = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                hub.feed = "listening"
                delay = 0.5
                hub.resync()
                async for notify in conn.notifies():
                    hub.dispatch(notify.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            hub.feed = f"reconnecting: {exc}"
            log.warning("push feed lost (%s); reconnecting", exc)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, hub: Hub, secret: str):
        self.hub, self.secret = hub, secret

    def datagram_received(self, data, addr):
        payload = open_datagram(self.secret, data)
        if payload is None:
            log.warning("ignored an unsigned datagram from %s", addr)
            return
        self.hub.dispatch(payload)


#: The datagram socket's receive buffer: a busy moment of the server must not drop hints (the
#: kernel caps it at net.core.rmem_max).
UDP_BUFFER = 4 * 1024 * 1024


async def udp_feed(hub: Hub, url: str, secret: str) -> None:
    import socket

    host, _, port = url.split("://", 1)[1].rpartition(":")
    host = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_BUFFER)
    sock.bind((host, int(port)))
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(hub, secret), sock=sock)
    hub.feed = "listening"
    try:
        await asyncio.Future()
    finally:
        transport.close()


def feed_for(settings: dict):
    """The feed matching the app's publisher (ecti.push.make_publisher)."""
    from sqlalchemy.engine import make_url

    backend = (settings.get("ecti.push.backend") or "").strip()
    url = make_url(settings["sqlalchemy.url"])
    if not backend:
        backend = "postgresql" if url.get_backend_name() == "postgresql" else DEFAULT_UDP
    if backend == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return lambda hub: pg_feed(hub, conninfo)
    if backend.startswith("udp://"):
        return lambda hub: udp_feed(hub, backend, settings["ecti.secret_key"])
    raise ValueError(f"the push server needs ecti.push.backend postgresql or udp://…, not {backend!r}")


# --- the app ------------------------------------------------------------------------------------

def create_app(settings: dict, *, max_age: float | None = None, ping: int = 15) -> Starlette:
    secret = settings["ecti.secret_key"]
    max_age = float(max_age if max_age is not None else settings.get("ecti.push.max_age_seconds") or 1800)
    hub = Hub()
    feed = feed_for(settings)

    async def events(request: Request):
        token = request.query_params.get("token") or ""
        auth = request.headers.get("authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        claims = read_token(secret, token)
        if claims is None:
            return JSONResponse({"error": {"code": "push_token_invalid", "message": "The push token is missing, wrong or expired."}},
                                status_code=401)
        sub = Subscriber(claims["t"], claims["u"])
        hub.add(sub)

        async def stream():
            ends = time.monotonic() + max_age
            try:
                yield {"event": "ready", "data": json.dumps({"ts": int(time.time() * 1000)})}
                while True:
                    left = ends - time.monotonic()
                    if left <= 0:
                        return
                    try:
                        await asyncio.wait_for(sub.wake.wait(), timeout=left)
                    except asyncio.TimeoutError:
                        return
                    sub.wake.clear()
                    pending, sub.pending = sub.pending, {}
                    for kind, ts in pending.items():
                        yield {"event": kind, "data": json.dumps({"ts": ts})}
            finally:
                hub.remove(sub)

        return EventSourceResponse(stream(), ping=ping, headers={"Cache-Control": "no-store"})

    async def health(request: Request):
        return JSONResponse({"connections": hub.count, "feed": hub.feed, "received": hub.received})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(feed(hub))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    app = Starlette(
        routes=[Route("/push/events", events), Route("/push/health", health)],
        # The token, not a cookie, authenticates: any origin may read the stream it opened.
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["Authorization"])],
        lifespan=lifespan,
    )
    app.state.hub = hub
    return app


def serve(settings: dict, host: str, port: int, log_level: str = "warning") -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, lifespan="on",
                timeout_graceful_shutdown=2, backlog=4096)
