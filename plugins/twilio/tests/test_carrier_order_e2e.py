"""Calls stay right whatever order the carrier's requests arrive in (issue 19).

Twilio retries, races and reorders: a menu answer may come after the caller hung up, one leg's
``completed`` may come before another's. The simulator holds one leg's callbacks back
(``sim.hold_callbacks``) and sends a webhook again (``sim.resend``) to play those orders.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecti.acd.models import AgentState, EntryStatus, Offer, QueueEntry
from ecti.calls.models import Call, CallEvent, CallStatus, EventKind
from ecti.db import set_tenant_scope
from ecti.ivr.services import save_flow
from ecti.telephony.models import PhoneNumber
from ecti_twilio.simulator import gather_action
from ecti_twilio.testing import MAIN_NUMBER

sys.path.insert(0, str(Path(__file__).parent))  # the ACD's end-to-end helpers (tests run with --import-mode=importlib)
from test_acd_e2e import ACD, connected_call  # noqa: E402


@pytest.fixture
def acd(telephony, db, make_user):
    return ACD(telephony, db, make_user)


def rest_updates(sim, sid: str) -> list[dict]:
    """The carrier requests ECTI made about one leg (Calls update: hang-up, redirect)."""
    return [r for r in sim.rest_requests if r["method"] == "POST" and f"/Calls/{sid}" in r["path"]]


def snapshot(acd, handle) -> tuple:
    """Everything a late request could change: the call, its events, entries and offers."""
    call = acd.record(handle)
    return (
        call.status, call.outcome, call.queue_id, call.agent_user_id,
        acd.db.scalar(select(func.count()).select_from(CallEvent).where(CallEvent.call_id == call.id)),
        acd.db.scalar(select(func.count()).select_from(QueueEntry).where(QueueEntry.call_id == call.id)),
        acd.db.scalar(select(func.count()).select_from(Offer).where(Offer.call_id == call.id)),
    )


# --- who hung up ------------------------------------------------------------------------------


def test_the_agents_completed_before_the_callers_still_records_the_caller_hanging_up(acd):
    queue, a, phone_a, caller = connected_call(acd)
    acd.sim.hold_callbacks(caller.sid)  # the caller's leg's callbacks come late
    caller.hangup()
    acd.sim.settle()
    assert phone_a.active is None  # the conference ended with the caller, and the agent's leg
    [done] = acd.events(caller, EventKind.queue_completed)
    assert done.data["by"] == "caller"
    assert acd.record(caller).status is CallStatus.completed  # learnt from the caller's leg itself
    assert acd.state(a) is AgentState.idle
    assert rest_updates(acd.sim, caller.sid) == []  # no hang-up sent for a call that was over
    before = snapshot(acd, caller)

    assert acd.sim.release_callbacks(caller.sid) == 1  # the caller's own "completed", late
    assert snapshot(acd, caller) == before
    call = acd.record(caller)
    assert call.duration_seconds == caller.duration  # the length it brought is kept
    assert [e.data["by"] for e in acd.events(caller, EventKind.queue_completed)] == ["caller"]
    acd.no_errors()


def test_the_agent_hanging_up_is_still_the_agent_when_the_agents_callback_is_late(acd):
    queue, a, phone_a, caller = connected_call(acd)
    leg = phone_a.active
    acd.sim.hold_callbacks(leg.sid)
    phone_a.hangup()
    acd.sim.settle()
    assert caller.status == "in-progress"  # nobody told ECTI yet: the caller waits alone
    acd.sim.release_callbacks(leg.sid)
    assert caller.status == "completed"
    [done] = acd.events(caller, EventKind.queue_completed)
    assert done.data["by"] == "agent"
    assert len(rest_updates(acd.sim, caller.sid)) == 1  # the one hang-up of the caller
    acd.no_errors()


# --- a final call is final -----------------------------------------------------------------------


@pytest.fixture
def menu(acd, telephony, db):
    """The number's flow: a menu whose 1 goes to the queue (with one free agent)."""
    queue = acd.queue()
    agent, phone = acd.agent(queue, "aoki")
    db.rollback()
    set_tenant_scope(db, telephony.tenant.id)
    flow = save_flow(db, telephony.registry, {"name": "代表", "start": "menu", "nodes": [
        {"id": "menu", "type": "menu", "settings": {"prompt": {"text": "サポートは1を押してください。"}, "digits": ["1"], "retries": 1},
         "next": {"1": "support", "fallback": "bye"}},
        {"id": "support", "type": "queue", "settings": {"queue": queue.id}, "next": {"fallback": "bye"}},
        {"id": "bye", "type": "hangup", "settings": {}},
    ]})
    db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == MAIN_NUMBER)).flow_id = flow.id
    db.commit()
    # the IVR decides again (ACD's helper routed every call straight to the queue)
    from ecti.ivr.engine import inbound_entry
    from ecti.voice import HANDLERS_KEY, INBOUND_ENTRY

    telephony.registry[HANDLERS_KEY][INBOUND_ENTRY] = inbound_entry
    return queue, agent, phone


def test_a_menu_answer_after_the_caller_hung_up_changes_nothing(acd, menu):
    queue, agent, phone = menu
    caller = acd.t.dial()
    assert "サポートは1を押してください。" in " ".join(caller.said())
    caller.hangup()
    acd.sim.settle()
    before = snapshot(acd, caller)
    assert before[0] is CallStatus.completed

    # The caller pressed 1 as they hung up: the Gather's answer reaches ECTI after the end.
    [voice] = [w for w in acd.sim.webhooks if w["kind"] == "voice" and w["call_sid"] == caller.sid]
    action = gather_action(voice["body"])
    answer = acd.sim.resend(voice, url=action, kind="action", Digits="1", CallStatus="completed")
    assert answer.status == 200 and "<Hangup" in answer.body and "<Enqueue" not in answer.body
    answer = acd.sim.resend(voice, url=action, kind="action", Digits="1", CallStatus="completed")  # and retried
    assert answer.status == 200 and "<Hangup" in answer.body
    # The number's Voice URL replayed for the ended call walks nothing again.
    [voice] = [w for w in acd.sim.webhooks if w["kind"] == "voice" and w["call_sid"] == caller.sid]
    again = acd.sim.resend(voice)
    assert again.status == 200 and "<Hangup" in again.body and "<Gather" not in again.body
    acd.sim.settle()

    assert snapshot(acd, caller) == before  # no entry, no offer, no event
    assert phone.ringing is None and acd.state(agent) is AgentState.idle
    assert rest_updates(acd.sim, caller.sid) == []
    acd.no_errors()


def test_a_menu_answer_while_the_call_lives_still_queues_it(acd, menu):
    queue, agent, phone = menu
    caller = acd.t.dial()
    caller.press("1")
    assert phone.ringing is not None
    [entry] = acd.entries(caller)
    assert entry.status is EntryStatus.offered
