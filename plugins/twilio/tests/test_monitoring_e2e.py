"""Live monitoring end to end through the Twilio simulator (issue 24): a supervisor's softphone
joins a queue call muted (listen), switches to coach (only the agent hears), then barges in;
leaving changes nothing for the call; the audit log has the session. Who hears whom is the
simulator's model of Twilio's conference (muted and coaching participants)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ecti.acd.models import MonitorSession
from ecti.audit.models import AuditEntry


def _acd_helpers():
    """The ACD end-to-end tests' helpers (ACD, connected_call), loaded by path."""
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("_acd_e2e_helpers", pathlib.Path(__file__).with_name("test_acd_e2e.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ACD, module.connected_call


ACD, connected_call = _acd_helpers()


@pytest.fixture
def acd(telephony, db, make_user):
    return ACD(telephony, db, make_user)


def supervisor(acd, name="sato", role="supervisor"):
    user = acd._make_user(acd.t.tenant, role=role, email=f"{name}@tel.example", name=name)
    return user, acd.t.softphone(user)


def monitor(acd, user, path, body=None, status=200):
    return acd.post(user, "/monitor" + path, body, status=status)


def me(acd, user):
    app, _csrf = acd.page(user)
    return app.get("/api/v1/acd/me").json


def test_listen_coach_barge_and_leave(acd):
    queue, a, phone_a, caller = connected_call(acd)
    agent_leg = phone_a.active
    call_id = acd.record(caller).id
    boss, boss_phone = supervisor(acd)

    started = monitor(acd, boss, "", {"call_id": call_id, "mode": "listen"}).json
    assert started["mode"] == "listen" and started["agent_user_id"] == a.id
    assert boss_phone.ringing is not None
    assert boss_phone.ringing.from_ == acd.t.number
    boss_phone.answer()
    acd.sim.settle()
    leg = boss_phone.active
    sim = acd.sim
    # listen: the supervisor hears both; neither the caller nor the agent hears the supervisor
    assert sim.hears(leg, caller) and sim.hears(leg, agent_leg)
    assert sim.audience(leg) == []
    assert sim.hears(caller, agent_leg) and sim.hears(agent_leg, caller)
    assert me(acd, a)["call"]["monitored"] == "listen"
    assert me(acd, a)["call"]["monitored_label"] == "モニタリング中"

    session_id = started["id"]
    coached = monitor(acd, boss, f"/{session_id}/mode", {"mode": "coach"}).json
    assert coached["mode"] == "coach"
    assert [c.sid for c in sim.audience(leg)] == [agent_leg.sid]  # only the agent hears
    assert not sim.hears(caller, leg)
    assert me(acd, a)["call"]["monitored_label"] == "コーチング中"

    monitor(acd, boss, f"/{session_id}/mode", {"mode": "barge"})
    assert {c.sid for c in sim.audience(leg)} == {caller.sid, agent_leg.sid}
    assert boss_phone.active is not None and boss_phone.active.sid == leg.sid  # never dropped

    monitor(acd, boss, f"/{session_id}/end")
    sim.settle()
    assert boss_phone.active is None
    assert caller.status == "in-progress" and phone_a.active is not None
    assert sim.hears(caller, agent_leg)
    assert me(acd, a)["call"]["monitored"] is None

    acd.fresh()
    [session] = acd.db.scalars(select(MonitorSession)).all()
    assert session.ended_at is not None and session.supervisor_id == boss.id
    entries = acd.db.scalars(select(AuditEntry).where(AuditEntry.action.like("monitor.%")).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("monitor.start", boss.id), ("monitor.mode", boss.id), ("monitor.mode", boss.id), ("monitor.end", boss.id)]
    assert entries[0].details["mode"] == "listen" and entries[0].details["call"] == call_id
    assert (entries[1].details["from_mode"], entries[1].details["to_mode"]) == ("listen", "coach")
    assert entries[0].target_id == session.id
    # the monitoring leg is not an agent: the agent's call and the queue's figures are as before
    caller.hangup()
    sim.settle()
    assert phone_a.active is None
    acd.no_errors()


def test_the_supervisor_hanging_up_ends_the_session_not_the_call(acd):
    queue, a, phone_a, caller = connected_call(acd)
    boss, boss_phone = supervisor(acd, "kato", role="admin")
    started = monitor(acd, boss, "", {"call_id": acd.record(caller).id, "mode": "coach"}).json
    boss_phone.answer()
    acd.sim.settle()
    assert [c.sid for c in acd.sim.audience(boss_phone.active)] == [phone_a.active.sid]
    boss_phone.hangup()
    acd.sim.settle()
    assert caller.status == "in-progress" and phone_a.active is not None
    acd.fresh()
    assert acd.db.get(MonitorSession, started["id"]).ended_at is not None
    # a second session can start after the first ended
    again = monitor(acd, boss, "", {"call_id": acd.record(caller).id, "mode": "listen"}).json
    assert again["id"] != started["id"]
    acd.no_errors()


def test_who_may_monitor_and_bad_requests(acd):
    queue, a, phone_a, caller = connected_call(acd)
    call_id = acd.record(caller).id
    b, _phone_b = acd.agent(queue, "baba")
    # agents may not (403 from the permission), bad modes are 422, unknown calls 404
    app, csrf = acd.page(b)
    app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers={"X-CSRF-Token": csrf}, status=403)
    boss, _boss_phone = supervisor(acd)
    error = monitor(acd, boss, "", {"call_id": call_id, "mode": "spy"}, status=422).json
    assert "聞く" in str(error) or "モニタリング" in str(error) or error
    monitor(acd, boss, "", {"call_id": 999999, "mode": "listen"}, status=404)
    # the company hides listen-only monitoring from agents
    admin = acd._make_user(acd.t.tenant, role="admin", email="admin2@tel.example", name="admin2")
    acd.post(admin, "/monitor/settings", None, status=404)  # (PUT only)
    app, csrf = acd.page(admin)
    app.put_json("/api/v1/acd/monitor/settings", {"listen_visible": False}, headers={"X-CSRF-Token": csrf})
    monitor(acd, boss, "", {"call_id": call_id, "mode": "listen"})
    assert me(acd, a)["call"]["monitored"] is None
    acd.no_errors()


def test_the_caller_hanging_up_ends_the_call_and_the_monitoring_with_it(acd):
    queue, a, phone_a, caller = connected_call(acd)
    boss, boss_phone = supervisor(acd, "ito")
    call_id = acd.record(caller).id
    app, _csrf = acd.page(boss)
    assert {x["user_id"]: x["call_id"] for x in app.get("/api/v1/acd/agents").json["agents"]}[a.id] == call_id
    started = monitor(acd, boss, "", {"call_id": call_id, "mode": "barge"}).json
    boss_phone.answer()
    acd.sim.settle()
    assert {c.sid for c in acd.sim.audience(boss_phone.active)} == {caller.sid, phone_a.active.sid}
    caller.hangup()
    acd.sim.settle()
    assert phone_a.active is None and boss_phone.active is None
    acd.fresh()
    assert acd.db.get(MonitorSession, started["id"]).ended_at is not None
    [done] = [e for e in acd.events(caller) if e.kind.value == "queue_completed"]
    assert done.data["by"] == "caller"
    acd.no_errors()
