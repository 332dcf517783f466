"""Live monitoring at the carrier boundary (issue 24), on SQLite and PostgreSQL: what ECTI asks
the carrier (a muted / coaching / full participant, mode switches, the supervisor's leg ended),
who may monitor, specific errors, the audit log, and that monitoring never touches routing or
the agent's state. The sound itself (who hears whom) is tested through the Twilio simulator in
plugins/twilio/tests/test_monitoring_e2e.py."""
import importlib.util
import pathlib

from sqlalchemy import select

from ecti.acd.models import Agent, MonitorSession, Offer
from ecti.audit.models import AuditEntry
from ecti.voice.instructions import CallInput

_spec = importlib.util.spec_from_file_location("_acd_functional", pathlib.Path(__file__).with_name("test_acd.py"))
_acd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_acd)
acd = _acd.acd  # the ACD fixture: a recording carrier and a driver playing its part
login = _acd.login


def on_a_call(acd):
    acd.agent("a")
    acd.agent("boss", available=False, role="supervisor")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    return call_id, acd.driver.leg_for(acd.identity("a"))


def test_listen_coach_barge_and_leave_ask_the_carrier_and_are_audited(acd):
    call_id, agent_leg = on_a_call(acd)
    app, headers = login(acd, "boss")
    started = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=headers).json
    assert started["mode"] == "listen" and started["mode_label"] == "モニタリング"
    [join] = acd.carrier.ops("monitor_join")
    assert join == ("monitor_join", f"call-{call_id}", f"agent-{acd.users['boss'].id}", "listen", agent_leg)
    assert app.get("/api/v1/acd/monitor").json["sessions"][0]["id"] == started["id"]

    agent_app, agent_headers = login(acd, "a")
    assert agent_app.get("/api/v1/acd/me").json["call"]["monitored"] == "listen"

    app.post_json(f"/api/v1/acd/monitor/{started['id']}/mode", {"mode": "coach"}, headers=headers)
    app.post_json(f"/api/v1/acd/monitor/{started['id']}/mode", {"mode": "barge"}, headers=headers)
    assert [op[3] for op in acd.carrier.ops("monitor_mode")] == ["coach", "barge"]
    assert all(op[4] == agent_leg for op in acd.carrier.ops("monitor_mode"))
    assert agent_app.get("/api/v1/acd/me").json["call"]["monitored_label"] == "スーパーバイザー参加中"
    # a second session of the same supervisor is refused while one is live
    twice = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=headers, expect_errors=True)
    assert twice.status_int == 409 and twice.json["error"]["code"] == "already_monitoring"

    monitor_leg = acd.carrier.ops("monitor_join") and [leg for leg, info in acd.carrier.legs.items() if info.get("mode")][0]
    ended = app.post(f"/api/v1/acd/monitor/{started['id']}/end", headers=headers).json
    assert ended["ended_at"] is not None
    assert ("end_leg", monitor_leg) in acd.carrier.operations
    assert not any(op[0] in ("hangup", "remove_participant") for op in acd.carrier.operations)
    again = app.post(f"/api/v1/acd/monitor/{started['id']}/end", headers=headers, expect_errors=True)
    assert again.status_int == 409 and again.json["error"]["code"] == "no_monitoring"

    # monitoring is not routing: the agent is still on the call, one offer, one connected entry
    assert acd.agent_row("a").status == "on_call"
    assert acd.entry(call_id).agent_user_id == acd.users["a"].id
    assert len(acd.db.scalars(select(Offer).where(Offer.call_id == call_id)).all()) == 1
    assert acd.db.get(Agent, acd.users["boss"].id) is None  # the supervisor never became an agent
    entries = acd.db.scalars(select(AuditEntry).where(AuditEntry.action.like("monitor.%")).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["monitor.start", "monitor.mode", "monitor.mode", "monitor.end"]
    assert entries[1].details["from_mode"] == "listen" and entries[1].details["to_mode"] == "coach"
    assert {e.actor_id for e in entries} == {acd.users["boss"].id}
    # the audit page tells it in words
    admin = acd.agent("admin", available=False, role="admin")
    admin_app, _h = login(acd, "admin")
    page = admin_app.get("/admin/audit")
    assert "のモニタリングを開始（モニタリング）" in page.text
    assert "モニタリング から コーチング に切り替え" in page.text


def test_the_supervisor_leg_ending_ends_the_session_only(acd):
    call_id, _agent_leg = on_a_call(acd)
    app, headers = login(acd, "boss")
    started = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "coach"}, headers=headers).json
    leg = [leg for leg, info in acd.carrier.legs.items() if info.get("mode")][0]
    status = acd.carrier.legs[leg]["status"]
    acd.driver.step(call_id, status.handler, status.args, CallInput(call_status="completed", carrier_call_id=leg))
    acd.fresh()
    assert acd.db.get(MonitorSession, started["id"]).ended_at is not None
    assert acd.entry(call_id).status.value == "connected"
    assert acd.agent_row("a").status == "on_call"


def test_who_may_monitor_and_specific_errors(acd):
    call_id, _agent_leg = on_a_call(acd)
    agent_app, agent_headers = login(acd, "a")
    denied = agent_app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=agent_headers, expect_errors=True)
    assert denied.status_int == 403
    app, headers = login(acd, "boss")
    bad = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "spy"}, headers=headers, expect_errors=True)
    assert bad.status_int == 422 and bad.json["error"]["code"] == "monitor_mode"
    gone = app.post_json("/api/v1/acd/monitor", {"call_id": 987654, "mode": "listen"}, headers=headers, expect_errors=True)
    assert gone.status_int == 404
    assert acd.carrier.ops("monitor_join") == []
    assert acd.db.scalars(select(MonitorSession)).all() == []  # nothing half-saved
    # the carrier refusing: a clear error, no session left behind
    acd.carrier.fail.add("monitor_join")
    refused = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=headers, expect_errors=True)
    assert refused.status_int == 502
    acd.fresh()
    assert acd.db.scalars(select(MonitorSession)).all() == []


def test_the_monitoring_api_as_documented(api, login, make_tenant, make_user, db):
    """Every operation through the OpenAPI-checked client (no live call: the specific errors)."""
    tenant = make_tenant()
    admin = make_user(tenant, role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    assert api.get("/api/v1/acd/monitor").json == {"sessions": []}
    assert api.post("/api/v1/acd/monitor", json={"call_id": 123456, "mode": "listen"}, headers=headers).status_int == 404
    assert api.post("/api/v1/acd/monitor/1/mode", json={"mode": "coach"}, headers=headers).status_int == 409
    assert api.post("/api/v1/acd/monitor/1/end", headers=headers).status_int == 409
    assert api.get("/api/v1/acd/monitor/settings").json == {"listen_visible": True}
    assert api.put("/api/v1/acd/monitor/settings", json={"listen_visible": False}, headers=headers).json == {"listen_visible": False}
    assert api.get("/api/v1/acd/monitor/settings").json == {"listen_visible": False}
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "monitor.settings")) is not None


def test_the_company_setting_on_the_queues_page(acd):
    call_id, _agent_leg = on_a_call(acd)
    acd.agent("admin", available=False, role="admin")
    admin_app, _h = login(acd, "admin")
    page = admin_app.get("/admin/queues")
    form = page.forms["monitoring-settings"]
    assert form["listen_visible"].checked
    form["listen_visible"] = False
    form.submit(status=303)
    assert not admin_app.get("/admin/queues").forms["monitoring-settings"]["listen_visible"].checked
    app, headers = login(acd, "boss")
    app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=headers)
    agent_app, _ah = login(acd, "a")
    assert agent_app.get("/api/v1/acd/me").json["call"]["monitored"] is None  # hidden: listen only
    session_id = app.get("/api/v1/acd/monitor").json["sessions"][0]["id"]
    app.post_json(f"/api/v1/acd/monitor/{session_id}/mode", {"mode": "coach"}, headers=headers)
    assert agent_app.get("/api/v1/acd/me").json["call"]["monitored"] == "coach"  # coaching always shows
    # agents and supervisors cannot change it
    boss_form = app.post("/admin/queues/monitoring", {"csrf_token": headers["X-CSRF-Token"], "listen_visible": "1"}, expect_errors=True)
    assert boss_form.status_int in (403, 404)


def test_another_companys_call_cannot_be_monitored(acd, make_tenant, make_user):
    call_id, _agent_leg = on_a_call(acd)
    other = make_tenant(slug="other", name="他社")
    spy = make_user(other, role="supervisor", email="spy@other.example")
    acd.users["spy"] = spy
    app, headers = login(acd, "spy")
    refused = app.post_json("/api/v1/acd/monitor", {"call_id": call_id, "mode": "listen"}, headers=headers, expect_errors=True)
    assert refused.status_int == 404
    assert acd.carrier.ops("monitor_join") == []
