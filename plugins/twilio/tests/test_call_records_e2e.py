"""Call records (issue 8) after real calls through the Twilio simulator: the summary the
conversation list shows is what happened, and repeated or late carrier callbacks change nothing.

ECTI's clock is the wall clock: what ECTI times itself (wait, talk, hold) is moved back in the
database, as the ACD's own end-to-end tests do (``acd.age``).
"""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ecti.acd.models import Presence, QueueEntry
from ecti.calls.models import Call, CallAgent, CallOutcome, Direction
from ecti.ivr.services import create_box, save_flow
from ecti.telephony.models import PhoneNumber
from ecti_twilio.testing import AUTH_TOKEN, CALLER, MAIN_NUMBER

sys.path.insert(0, str(Path(__file__).parent))  # the ACD's end-to-end helpers (tests run with --import-mode=importlib)
from test_acd_e2e import ACD  # noqa: E402

EXTERNAL = "+81312345678"


@pytest.fixture
def acd(telephony, db, make_user):
    return ACD(telephony, db, make_user)


def back(acd, handle, **seconds) -> None:
    """ECTI's clock: move the call's own times (and its queue entry's) back by so many seconds."""
    call_id = acd.record(handle).id
    acd.db.rollback()
    call = acd.db.get(Call, call_id)
    for name, value in seconds.items():
        delta = timedelta(seconds=value)
        if name == "queued":
            call.queued_at -= delta
            for entry in acd.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id)):
                entry.entered_at -= delta
        elif name == "connected":
            call.connected_at -= delta
            for entry in acd.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id)):
                entry.connected_at -= delta
        elif name == "held":
            for entry in acd.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id)):
                entry.held_at -= delta
    acd.db.commit()


def figures(call: Call) -> tuple:
    return (call.outcome, call.queue_id, call.agent_user_id, call.wait_seconds, call.talk_seconds, call.hold_seconds,
            call.wrap_up_seconds, call.status, call.ended_at)


def status_callback(telephony, call_sid: str, status: str, duration: int | None = None):
    """The carrier's status callback for the call, signed as Twilio signs it."""
    params = {"AccountSid": telephony.account_sid, "CallSid": call_sid, "CallStatus": status}
    if duration is not None:
        params["CallDuration"] = str(duration)
    url = telephony.base_url + "/twilio/voice/status"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return telephony.webtest.post("/twilio/voice/status", params, headers={"X-Twilio-Signature": signature})


def test_an_answered_queue_call_has_its_agent_wait_talk_hold_and_wrap_up(acd):
    queue = acd.queue(wrap_up_seconds=60, join_when_empty=True)
    a, phone_a = acd.agent(queue, "aoki", position=1, available=False)
    caller = acd.t.dial()
    back(acd, caller, queued=120)  # the caller waited 2 minutes before aoki became free
    acd.presence(a, Presence.available)
    phone_a.answer()
    acd.sim.settle()
    acd.post(a, "/me/call/hold")
    back(acd, caller, held=20, connected=90)
    acd.post(a, "/me/call/resume")
    caller.hangup()
    acd.sim.settle()
    acd.post(a, "/me/wrap-up/end")  # done with after-call work well before the queue's 60 s

    call = acd.record(caller)
    assert call.outcome is CallOutcome.answered
    assert (call.queue_id, call.agent_user_id, call.tenant_number) == (queue.id, a.id, MAIN_NUMBER)
    assert 120 <= call.wait_seconds <= 125
    assert 90 <= call.talk_seconds <= 95
    assert 20 <= call.hold_seconds <= 22
    assert call.wrap_up_seconds is not None and call.wrap_up_seconds < 60
    assert call.queued_at < call.connected_at < call.ended_at
    [part] = acd.db.scalars(select(CallAgent).where(CallAgent.call_id == call.id)).all()
    assert (part.user_id, part.offered, part.answered, part.transferred) == (a.id, True, True, False)
    before = figures(call)

    # The carrier repeats its final callback and a late "in-progress" arrives after it.
    status_callback(acd.t, caller.sid, "completed", duration=999)
    status_callback(acd.t, caller.sid, "in-progress")
    status_callback(acd.t, caller.sid, "ringing")
    assert figures(acd.record(caller)) == before
    acd.no_errors()


def test_an_abandoned_call_has_its_wait_and_no_agent(acd):
    acd.queue(join_when_empty=True)
    caller = acd.t.dial()
    back(acd, caller, queued=45)
    caller.hangup()
    acd.sim.settle()
    call = acd.record(caller)
    assert call.outcome is CallOutcome.abandoned
    assert 45 <= call.wait_seconds <= 50
    assert (call.agent_user_id, call.talk_seconds, call.connected_at) == (None, None, None)
    before = figures(call)
    status_callback(acd.t, caller.sid, "completed")
    assert figures(acd.record(caller)) == before
    acd.no_errors()


def test_a_voicemail_call_is_a_voicemail_with_its_flow_path(telephony, db):
    db.rollback()
    from ecti.db import set_tenant_scope

    set_tenant_scope(db, telephony.tenant.id)
    box = create_box(db, "夜間")
    flow = save_flow(db, telephony.registry, {"name": "夜間", "start": "vm", "nodes": [
        {"id": "vm", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": "発信音のあとにどうぞ。"}}},
    ]})
    db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAIN_NUMBER)).flow_id = flow.id
    db.commit()
    caller = telephony.dial()
    telephony.sim.advance(8)
    caller.silence()
    telephony.sim.settle()
    db.rollback()
    call = db.scalar(select(Call).where(Call.carrier_call_id == caller.sid))
    assert call.outcome is CallOutcome.voicemail and call.has_voicemail
    assert [(step["node"], step["branch"]) for step in call.flow_path] == [("vm", "recording"), ("vm", "recorded")]
    assert call.from_number == CALLER and call.tenant_number == MAIN_NUMBER


def test_an_outbound_softphone_call_is_the_agents_answered_call(telephony, make_user, db):
    agent = make_user(telephony.tenant, role="agent")
    phone = telephony.sim.phone(EXTERNAL)
    phone.behaviour = "answer"
    device = telephony.softphone(agent)
    leg = device.connect({"To": "03-1234-5678", "CallerId": MAIN_NUMBER})
    telephony.sim.advance(5)
    device.hangup()
    telephony.sim.settle()
    db.rollback()
    call = db.scalar(select(Call).where(Call.carrier_call_id == leg.sid))
    assert (call.direction, call.outcome, call.agent_user_id, call.tenant_number) == (
        Direction.outbound, CallOutcome.answered, agent.id, MAIN_NUMBER)
    assert 5 <= call.talk_seconds <= 6  # the carrier's length of the answered dial
    [part] = db.scalars(select(CallAgent).where(CallAgent.call_id == call.id)).all()
    assert (part.user_id, part.placed) == (agent.id, True)
    before = figures(call)
    status_callback(telephony, leg.sid, "completed", duration=1)  # repeated, with another length
    db.rollback()
    assert figures(db.scalar(select(Call).where(Call.carrier_call_id == leg.sid))) == before


def test_an_outbound_call_nobody_answers_is_no_answer(telephony, make_user, db):
    agent = make_user(telephony.tenant, role="agent")
    telephony.sim.phone(EXTERNAL).behaviour = "busy"
    device = telephony.softphone(agent)
    leg = device.connect({"To": "03-1234-5678", "CallerId": MAIN_NUMBER})
    telephony.sim.settle()
    db.rollback()
    call = db.scalar(select(Call).where(Call.carrier_call_id == leg.sid))
    assert (call.outcome, call.talk_seconds) == (CallOutcome.busy, None)
