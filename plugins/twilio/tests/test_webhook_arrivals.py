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


def post_signed(webtest, path: str, params: dict, status: int):
    body, headers = signed(path, params)
    return webtest.post(path, body, headers=headers, status=status)


BAD_SIGNED = [
    ("/twilio/voice/incoming", incoming("", CallSid=""), "CallSid missing"),
    ("/twilio/voice/incoming", {k: v for k, v in incoming("CA" + "1" * 32).items() if k != "From"}, "From missing"),
    ("/twilio/voice/incoming", incoming("CA" + "1" * 32, To=""), "To missing"),
    ("/twilio/voice/incoming", incoming("CA" + "1" * 32, From="+81" + "9" * 10000), "From longer than 256"),
    ("/twilio/voice/incoming", incoming("CA" + "1" * 5000), "CallSid longer than 34"),
    ("/twilio/voice/incoming", incoming("CA-not-a-sid"), "CallSid is not what Twilio sends"),
    ("/twilio/voice/incoming", incoming("CA" + "1" * 32, From="<script>"), "From is not what Twilio sends"),
    ("/twilio/voice/status", {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "1" * 32, "CallStatus": "completed",
                              "CallDuration": "9" * 30}, "CallDuration longer than 10"),
    ("/twilio/voice/status", {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "1" * 32}, "CallStatus missing"),
    ("/twilio/sms/incoming", {"AccountSid": ACCOUNT_SID, "MessageSid": "SM" + "1" * 32, "From": "+819011112222", "To": NUMBER,
                              "Body": "a" * 200_000}, "Body longer than 1600"),
    ("/twilio/sms/incoming", {"AccountSid": ACCOUNT_SID, "From": "+819011112222", "To": NUMBER, "Body": "こんにちは"},
     "MessageSid or SmsSid missing"),
]


@pytest.mark.parametrize("path,params,reason", BAD_SIGNED, ids=[b[2] for b in BAD_SIGNED])
def test_a_signed_request_twilio_would_not_send_is_400_and_writes_nothing(webtest, db, twilio_tenant, path, params, reason):
    response = post_signed(webtest, path, params, status=400)
    assert reason in response.text
    db.rollback()
    from ecti.messaging.models import Message

    assert db.scalar(select(func.count()).select_from(Call)) == 0
    assert db.scalar(select(func.count()).select_from(Message)) == 0


def test_what_twilio_sends_is_still_taken(webtest, db, twilio_tenant):
    """The shapes the checks allow: a withheld number, a browser identity, an SMS at the limit."""
    response = post_signed(webtest, "/twilio/voice/incoming", incoming("CA" + "2" * 32, From="anonymous", Caller="anonymous"), status=200)
    assert "<Response>" in response.text
    post_signed(webtest, "/twilio/voice/status", {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "2" * 32, "CallStatus": "completed",
                                                  "CallDuration": "12"}, status=204)
    post_signed(webtest, "/twilio/sms/incoming", {"AccountSid": ACCOUNT_SID, "MessageSid": "SM" + "3" * 32, "From": "+819011112222",
                                                  "To": NUMBER, "Body": "あ" * 1600, "NumSegments": "24"}, status=200)
    db.rollback()
    [call] = db.scalars(select(Call)).all()
    assert (call.from_number, call.duration_seconds) == ("anonymous", 12)
