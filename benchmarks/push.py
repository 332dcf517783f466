"""The push server's cost with many connected phones (issue 18).

Starts the push server (``ecti push serve``, its own process, as in production) and N phones
(Server-Sent Events clients, httpx in one asyncio process, each with its own token); a publisher
then sends every phone one ``agent`` update per second, spread evenly over the second, as the app
processes would — one ``pg_notify`` per committed change on PostgreSQL (the default when it is
reachable), or one signed UDP datagram each (the SQLite demo's path, ``--backend udp``). Every
update carries the time it was published; a phone measures when it arrives.

It prints the push server's memory (RSS, idle with the phones connected and at the end) and CPU
(% of one core while the updates flow), the phones' process CPU, how many updates arrived, and
the latency p50 / p99 / max. Everything runs on 127.0.0.1 and stops by itself.

    .venv/bin/python benchmarks/push.py [--phones 1000] [--seconds 20] [--backend postgresql|udp]
    .venv/bin/python benchmarks/push.py --smoke      # 20 phones, 2 seconds (the test suite runs it)
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecti.push import CHANNEL, encode, make_token, sign_datagram  # noqa: E402
from ecti.push.testing import free_port, push_process, sse_events, write_ini  # noqa: E402

SECRET = "benchmark-secret-" + "x" * 32
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TENANT = 1


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pg_reachable(url: str) -> bool:
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), connect_timeout=2):
            return True
    except Exception:
        return False


class Publisher:
    """What the app processes do after commit, without the app: one hint per change."""

    def __init__(self, backend: str, url: str, udp: str):
        self.backend = backend
        if backend == "postgresql":
            import psycopg
            from sqlalchemy.engine import make_url

            self.conn = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True)
        else:
            import socket

            host, port = udp.rsplit(":", 1)
            self.address = (host, int(port))
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, user_id: int) -> None:
        (payload,) = encode({(TENANT, user_id, "agent")})
        if self.backend == "postgresql":
            self.conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload.decode()))
        else:
            self.sock.sendto(sign_datagram(SECRET, payload), self.address)


def publish(publisher: Publisher, phones: int, seconds: int, t0: float) -> int:
    """One update per phone per second, spread over the second in 20 ms slices (its own thread)."""
    sent, slices = 0, 50
    for second in range(seconds):
        for s in range(slices):
            for user_id in range(1 + s * phones // slices, 1 + (s + 1) * phones // slices):
                publisher.send(user_id)
                sent += 1
            time.sleep(max(0.0, t0 + second + (s + 1) / slices - time.monotonic()))
    return sent


async def run(args) -> dict:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="ecti-push-bench-"))
    port, udp_port = free_port(), free_port()
    udp = f"127.0.0.1:{udp_port}"
    settings = {"sqlalchemy.url": args.url, "ecti.environment": "test", "ecti.secret_key": SECRET,
                "ecti.encryption_keys": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "ecti.push.backend": "postgresql" if args.backend == "postgresql" else f"udp://{udp}"}
    ini = write_ini(work / "push.ini", settings, free_port())
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    connected = asyncio.Event()
    ready = 0
    stop = asyncio.Event()
    errors: list[str] = []

    with push_process(ini, port, work / "push.log") as server:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as client:

            async def phone(user_id: int):
                nonlocal ready
                token = make_token(SECRET, tenant_id=TENANT, user_id=user_id, ttl=3600)
                try:
                    await listen(user_id, token)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    errors.append(repr(exc))

            async def listen(user_id: int, token: str):
                nonlocal ready
                async for event, data in sse_events(client, base + "/push/events", token):
                    if event == "ready":
                        ready += 1
                        if ready == args.phones:
                            connected.set()
                    elif event == "agent" and isinstance(data, dict) and not stop.is_set():
                        latencies.append(time.time() * 1000 - data["ts"])

            started = time.monotonic()
            tasks = []
            for user_id in range(1, args.phones + 1):
                tasks.append(asyncio.create_task(phone(user_id)))
                if user_id % 100 == 0:
                    await asyncio.sleep(0.05)  # connect in waves, as a morning shift does
            try:
                await asyncio.wait_for(connected.wait(), timeout=120)
            except asyncio.TimeoutError:
                raise SystemExit(f"only {ready} of {args.phones} phones connected; errors: {errors[:3]}")
            connect_seconds = time.monotonic() - started
            await asyncio.sleep(1.0)  # the feed's first resync (LISTEN up) is not an update
            latencies.clear()
            idle_rss = proc_rss_mb(server.pid)

            publisher = Publisher(args.backend, args.url, udp)
            cpu0, client_cpu0, t0 = proc_cpu_seconds(server.pid), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            sent = await asyncio.to_thread(publish, publisher, args.phones, args.seconds, t0)
            await asyncio.sleep(1.0)  # the last updates arrive
            elapsed = time.monotonic() - t0
            cpu = proc_cpu_seconds(server.pid) - cpu0
            client_cpu = resource.getrusage(resource.RUSAGE_SELF)
            stop.set()
            end_rss = proc_rss_mb(server.pid)
            health = (await client.get(base + "/push/health")).json()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    ordered = sorted(latencies)

    def pct(p):
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    return {
        "backend": args.backend, "phones": args.phones, "seconds": args.seconds, "connect_seconds": round(connect_seconds, 2),
        "connections_seen_by_server": health["connections"], "sent": sent, "received": len(latencies),
        "server_rss_mb_idle": round(idle_rss, 1), "server_rss_mb_end": round(end_rss, 1),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "phones_process_cpu_percent": round(100 * ((client_cpu.ru_utime + client_cpu.ru_stime)
                                                   - (client_cpu0.ru_utime + client_cpu0.ru_stime)) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(ordered), 1) if ordered else None,
        "latency_ms_p99": round(pct(99), 1), "latency_ms_max": round(ordered[-1], 1) if ordered else None,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--backend", choices=("postgresql", "udp"))
    parser.add_argument("--url", default=os.environ.get("ECTI_BENCH_PG", DEFAULT_PG), help="PostgreSQL to LISTEN/NOTIFY on")
    parser.add_argument("--smoke", action="store_true", help="20 phones for 2 seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.phones, args.seconds = 20, 2
    if args.backend is None:
        args.backend = "postgresql" if pg_reachable(args.url) else "udp"
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    figures = asyncio.run(run(args))
    print(json.dumps(figures, ensure_ascii=False))
    # Headline figures as `FIGURE key value unit` lines (the format `make bench` gathers).
    for key, value, unit, target in (
            ("push.latency_p50", figures["latency_ms_p50"], "ms", ""),
            ("push.latency_p99", figures["latency_ms_p99"], "ms", "< 1000 ms"),
            ("push.server_rss", figures["server_rss_mb_end"], "MB", ""),
            ("push.server_cpu", figures["server_cpu_percent"], "%", ""),
            ("push.delivered", round(100 * figures["received"] / max(1, figures["sent"]), 1), "%", "")):
        print(f"FIGURE {key} {value} {unit}" + (f" | target {target}" if target else ""), flush=True)
    print(f"{figures['phones']} phones, one update each per second for {figures['seconds']} s over {figures['backend']}: "
          f"{figures['received']}/{figures['sent']} updates arrived; latency p50 {figures['latency_ms_p50']} ms, "
          f"p99 {figures['latency_ms_p99']} ms; push server RSS {figures['server_rss_mb_end']} MB, "
          f"CPU {figures['server_cpu_percent']} % of one core")
    return 0 if figures["received"] >= 0.99 * figures["sent"] else 1


if __name__ == "__main__":
    sys.exit(main())
