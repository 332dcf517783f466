"""What arrives at the Twilio webhooks, however it arrives (issue 19): the same CallSid at the
same moment on two app processes, and signed requests whose parameters are not what Twilio
sends."""
from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from ecti.calls.models import Call, CallEvent, EventKind
from ecti.telephony.models import PhoneNumber
from ecti.tenancy.models import Tenant
from ecti.testing import serve_in_processes

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "arrivals-token"
NUMBER = "+815012340000"
PUBLIC = "http://localhost"


@pytest.fixture
def twilio_tenant(db, make_tenant, app_settings):
    from ecti.config import configure

    tenant = make_tenant(slug="arrivals", name="到着株式会社")
    tenant = db.get(Tenant, tenant.id)
    registry = configure(app_settings).registry
    tenant.set_carrier_credentials(registry.secret_box, ACCOUNT_SID, AUTH_TOKEN)
    db.add(PhoneNumber(tenant_id=tenant.id, e164=NUMBER, label="代表"))
    db.commit()
    return tenant


def signed(path: str, params: dict) -> tuple[str, dict]:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)
    return urlencode(params), {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


def incoming(call_sid: str, **changes) -> dict:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": "ringing",
            "Direction": "inbound", "From": "+819011112222", "To": NUMBER, "Called": NUMBER, "Caller": "+819011112222",
            **changes}


def test_the_same_callsid_three_times_at_once_on_two_processes_is_one_call(db, twilio_tenant, app_settings, clean_database):
    """A retry or the fallback URL racing the original: every delivery gets a 2xx answer and
    the call is recorded once (first writer wins), on both databases."""
    sids = [f"CA{n:032x}" for n in range(1, 13)]
    statuses: list[int] = []
    lock = threading.Lock()
    with serve_in_processes(app_settings, 2) as urls:
        for sid in sids:
            body, headers = signed("/twilio/voice/incoming", incoming(sid))
            barrier = threading.Barrier(3)

            def deliver(url):
                barrier.wait()
                response = requests.post(url + "/twilio/voice/incoming", data=body, headers=headers, timeout=30)
                with lock:
                    statuses.append(response.status_code)

            threads = [threading.Thread(target=deliver, args=(urls[i % 2],)) for i in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert statuses == [200] * (3 * len(sids))
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Call)) == len(sids)
    started = db.execute(
        select(Call.carrier_call_id, func.count()).join(CallEvent, CallEvent.call_id == Call.id)
        .where(CallEvent.kind == EventKind.started).group_by(Call.carrier_call_id)
    ).all()
    assert sorted(started) == [(sid, 1) for sid in sids]
