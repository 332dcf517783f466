"""A real queue call through the Twilio simulator shows up in the reports (issue 9).

The caller dials the company's number, waits in the queue, the agent's browser phone (a real
token) answers, they talk, the caller hangs up; then the supervisor's queue, agent and center
reports for today count exactly that call, from the rows and events the ACD wrote.
"""
from __future__ import annotations

import webtest as wt
from ecti.acd.agents import set_presence
from ecti.acd.models import Presence, Queue, QueueMember
from ecti.jobs import in_transaction
from ecti.tenancy.models import User
from ecti.voice import HANDLERS_KEY, INBOUND_ENTRY, dispatch
from ecti_twilio.testing import ACCOUNT_SID


def test_an_answered_queue_call_is_counted_in_todays_reports(telephony, db, make_user):
    t, sim = telephony, telephony.sim
    queue = Queue(tenant_id=t.tenant.id, name="サポート", overflow={}, hold_audio={"text": "お待ちください。"}, wrap_up_seconds=0,
                  ring_timeout=20, escalation_seconds=0, announce_seconds=60, service_level_seconds=20)
    db.add(queue)
    db.commit()
    queue_id = str(queue.id)
    # Stands in for the IVR's queue node (as plugins/twilio/tests/test_acd_e2e.py does).
    t.registry[HANDLERS_KEY][INBOUND_ENTRY] = lambda request, call, args, call_input: dispatch(request, call, "acd.enqueue", {"queue": queue_id}, call_input)
    agent = make_user(t.tenant, role="agent", email="aoki@tel.example", name="青木")
    db.add(QueueMember(tenant_id=t.tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    db.commit()
    phone = t.softphone(agent)
    with in_transaction(t.registry, t.tenant.id) as request:
        set_presence(request, request.db.get(User, agent.id), Presence.available)
    sim.settle()

    caller = t.dial()
    assert phone.ringing is not None
    phone.answer()
    assert caller.status == "in-progress"
    caller.hangup()
    sim.settle()
    assert sim.errors_for(ACCOUNT_SID) == []

    supervisor = make_user(t.tenant, role="supervisor", email="boss@tel.example", name="上司")
    app = wt.TestApp(t.app, extra_environ={"HTTP_HOST": t.base_url.split("//", 1)[1]})
    form = app.get("/login").forms["login"]
    form["email"], form["password"] = supervisor.email, supervisor.password
    form.submit(status=303)
    report = app.get("/api/v1/reports/queues?preset=today").json
    [support] = [q for q in report["queues"] if q["name"] == "サポート"]
    total = support["total"]
    assert (total["offered"], total["answered"], total["abandoned"], total["in_progress"]) == (1, 1, 0, 0)
    assert total["answered_within_threshold"] == 1 and total["service_level_answered"] == 100.0
    agents = {a["name"]: a for a in app.get("/api/v1/reports/agents?preset=today").json["agents"]}
    assert agents["青木"]["handled_inbound"] == 1 and agents["青木"]["talk_seconds"] >= 0
    center = app.get("/api/v1/reports/center?preset=today").json
    assert center["total"]["inbound"] == 1
    board = app.get("/api/v1/reports/wallboard").json
    assert board["agents_by_status"]["available"] == 1 and [a["name"] for a in board["agents"]] == ["青木"]
    assert board["queues"][0]["waiting"] == 0 and board["queues"][0]["answered_today"] == 1
    page = app.get("/reports/queues?preset=today")
    assert "サポート" in page.text and page.html.select("svg#queue-calls rect.bar")
