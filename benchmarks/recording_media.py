"""Playing a one-hour recording through ECTI (F-REC-2): what a seek costs.

A 3,600-second two-channel recording (8 kHz 16-bit WAV, 115 MB) is kept by the Twilio
simulator; ECTI (served in this process by waitress) streams it with the tenant's credentials.
For each request the time to the last byte is measured, the median of several runs:

* the whole file, straight from the simulator (the baseline: what the carrier costs);
* the whole file through ECTI;
* the first 64 KiB (a player reading the header) and the last 64 KiB (seeking to the end).

ECTI streams the carrier's response and cuts the range out of it (the carrier need not support
ranges), so the first bytes come at once and a range at the end costs about a full read.

    .venv/bin/python benchmarks/recording_media.py [--runs 5] [--smoke]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from benchmarks._common import figure, machine, parser as make_parser  # noqa: E402

ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "benchmark-auth-token"
ENCRYPTION_KEY = "3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M="
SECONDS = 3600


def timed(get, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        size = len(get())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> None:
    global SECONDS
    parser = make_parser(__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.smoke:
        SECONDS, args.runs = 10, 1

    from ecti import migrate
    from ecti.calls.models import Call, CallStatus, Direction, Recording
    from ecti.config import configure
    from ecti.db import all_tenants, make_engine, make_session_factory
    from ecti.tenancy.models import Role, User
    from ecti.tenancy.security import hash_password
    from ecti.tenancy.services import create_tenant
    from ecti.testing import serve_in_thread
    from ecti_twilio.simulator import Simulator
    from ecti_twilio.simulator.models import Recording as SimRecording, new_sid

    sim = Simulator()
    sim.serve()
    sim.add_account(ACCOUNT_SID, AUTH_TOKEN, friendly_name="bench")
    sid = new_sid("RE")
    sim.recordings[sid] = SimRecording(sid, ACCOUNT_SID, None, "DialVerb", 2, sim.clock.now(), 0.0, status="completed", duration=SECONDS)

    url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    migrate.upgrade(url)
    engine = make_engine({"sqlalchemy.url": url})
    session = make_session_factory(engine)()
    with all_tenants(session):
        tenant = create_tenant(session, slug="bench", name="ベンチマーク")
        from ecti.crypto import SecretBox

        tenant.set_carrier_credentials(SecretBox(ENCRYPTION_KEY), ACCOUNT_SID, AUTH_TOKEN)
        user = User(tenant_id=tenant.id, email="sv@bench.example", display_name="SV", role=Role.supervisor,
                    password_hash=hash_password("bench password"))
        call = Call(tenant_id=tenant.id, carrier_call_id="CA" + "d" * 32, direction=Direction.outbound, from_number="+815012340000",
                    to_number="+81312345678", status=CallStatus.completed)
        session.add_all([user, call])
        session.flush()
        recording = Recording(tenant_id=tenant.id, call_id=call.id, carrier_recording_id=sid, status="completed",
                              duration_seconds=SECONDS, channels=2, purpose="call")
        session.add(recording)
        session.commit()
        recording_id = recording.id
    settings = {"sqlalchemy.url": url, "ecti.secret_key": "benchmark" * 4, "ecti.environment": "test", "ecti.encryption_keys": ENCRYPTION_KEY,
                "ecti.twilio.api_base_url": sim.api_base, "ecti.jobs.backend": "memory", "ecti.media_dir": tempfile.mkdtemp()}
    app = configure(settings, engine=engine).make_wsgi_app()
    with serve_in_thread(app) as base:
        browser = requests.Session()
        page = browser.get(f"{base}/login")
        import re

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        browser.post(f"{base}/login", data={"email": "sv@bench.example", "password": "bench password", "csrf_token": csrf})
        media = f"{base}/recordings/{recording_id}/media"
        carrier = f"{sim.api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.wav"
        rows = [
            ("carrier, whole file (baseline)", lambda: requests.get(carrier, auth=(ACCOUNT_SID, AUTH_TOKEN)).content),
            ("ECTI, whole file", lambda: browser.get(media).content),
            ("ECTI, first 64 KiB", lambda: browser.get(media, headers={"Range": "bytes=0-65535"}).content),
            ("ECTI, last 64 KiB", lambda: browser.get(media, headers={"Range": "bytes=-65536"}).content),
        ]
        results = [(name, *timed(get, args.runs)) for name, get in rows]
        browser.close()  # before the server stops: no request thread left writing to a closed server
    sim.close()
    baseline = results[0][1]
    print(f"two-channel WAV of {SECONDS} s, median of {args.runs} runs, {machine()}")
    keys = ("baseline", "whole", "first_64k", "last_64k")
    for key, (name, seconds, size) in zip(keys, results):
        print(f"  {name:34s} {seconds * 1000:9.1f} ms  {size / 1e6:8.2f} MB  {seconds / baseline:6.2f}× baseline")
        if key != "baseline":
            figure(f"recording_media.{key}", seconds / baseline, "x fetching the whole file from the carrier")


if __name__ == "__main__":
    main()
