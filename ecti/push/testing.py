"""Running app and push servers as real processes, and a Server-Sent Events client (tests and
``benchmarks/push.py``)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_ini(path: Path, settings: dict, port: int) -> Path:
    """An ini file for ``pserve`` / ``ecti -c``: the settings and a waitress on ``port``."""
    lines = ["[app:main]", "use = egg:ecti"]
    lines += [f"{key} = {str(value).replace('%', '%%')}" for key, value in settings.items()]
    lines += ["", "[server:main]", "use = egg:waitress#main", f"listen = 127.0.0.1:{port}", "threads = 4", ""]
    path.write_text("\n".join(lines))
    return path


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


@contextlib.contextmanager
def process(args: list[str], port: int, log: Path):
    """A child process (its output in ``log``), up once ``port`` answers; ended on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def app_process(ini: Path, port: int, log: Path):
    return process([str(BIN / "pserve"), str(ini)], port, log)


def push_process(ini: Path, port: int, log: Path):
    return process([str(BIN / "ecti"), "-c", str(ini), "push", "serve", "--host", "127.0.0.1", "--port", str(port)], port, log)


def login(client, base_url: str, email: str, password: str) -> str:
    """Sign an ``httpx.Client`` in; returns the CSRF token for the API."""
    page = client.get(base_url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(base_url + "/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"})
    assert response.status_code in (302, 303), response.text
    return client.get(base_url + "/api/v1/me").json()["csrf_token"]


async def sse_events(client, url: str, token: str):
    """Yield ``(event, data)`` from a Server-Sent Events stream (an ``httpx.AsyncClient``)."""
    async with client.stream("GET", url, params={"token": token}, headers={"Accept": "text/event-stream"}) as response:
        response.raise_for_status()
        event, data = "message", []
        async for line in response.aiter_lines():
            if not line:
                if data:
                    yield event, json.loads("\n".join(data)) if data[0].startswith("{") else "\n".join(data)
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
