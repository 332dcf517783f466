"""Dialing lists end to end through the Twilio simulator (issue 11): two agents' browser phones,
registered with real tokens, work a list through ECTI's API; each call goes out through the
softphone's TwiML App path to the customers' simulated phones.
"""
from __future__ import annotations

import base64

import pytest
import webtest as wt
from sqlalchemy import select

from ecti.calls.models import Call, Direction
from ecti.dialer.models import DialingAttempt, DialingRow, Outcome, RowStatus
from ecti_twilio.testing import MAIN_NUMBER

ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CUSTOMERS = {"+819022220001": "answer", "+819022220002": "busy", "+819022220003": "answer", "+819022220004": "answer"}


class Page:
    """An agent's softphone page: its API session and its registered browser phone."""

    def __init__(self, telephony, user):
        self.app = wt.TestApp(telephony.app, extra_environ={"HTTP_HOST": telephony.base_url.split("//", 1)[1]})
        form = self.app.get("/login").forms["login"]
        form["email"], form["password"] = user.email, user.password
        form.submit(status=303)
        self.csrf = self.app.get("/api/v1/me").json["csrf_token"]
        self.device = telephony.softphone(user)
        self.sim = telephony.sim
        self.user = user

    def call(self, method, path, body=None, status=200):
        headers = {"X-CSRF-Token": self.csrf}
        if method == "GET":
            return self.app.get(path, status=status)
        send = getattr(self.app, method.lower() + "_json")
        response = send(path, body or {}, headers=headers, status=status)
        self.sim.settle()
        return response


@pytest.fixture
def setup(telephony, make_user, db):
    admin = make_user(telephony.tenant, role="admin", email="admin@tel.example")
    agents = [make_user(telephony.tenant, role="agent", email=f"{n}@tel.example", name=n) for n in ("佐藤", "鈴木")]
    phones = {}
    for number, behaviour in CUSTOMERS.items():
        phones[number] = telephony.sim.phone(number)
        phones[number].behaviour = behaviour
    boss = Page(telephony, admin)
    lst = boss.call("POST", "/api/v1/dialer/lists", {
        "name": "e2e", "caller_id": MAIN_NUMBER, "weekly": ALL_DAY, "agent_ids": [a.id for a in agents],
        "retry": {"no_answer": {"count": 1, "delay_minutes": 30}, "busy": {"count": 0, "delay_minutes": 0}, "failed": {"count": 0, "delay_minutes": 0}},
    }, status=201).json
    data = ("電話番号,名前,契約番号\r\n" + "".join(f"0{n[3:5]}-{n[5:9]}-{n[9:]},顧客{i},K-{i}\r\n" for i, n in enumerate(CUSTOMERS, 1))).encode("cp932")
    imp = boss.call("POST", f"/api/v1/dialer/lists/{lst['id']}/imports", {"content_base64": base64.b64encode(data).decode()}, status=201).json
    assert (imp["good"], imp["refused"]) == (4, [])
    boss.call("POST", f"/api/v1/dialer/imports/{imp['id']}/confirm")
    boss.call("PUT", f"/api/v1/dialer/lists/{lst['id']}/status", {"status": "running"})
    pages = [Page(telephony, a) for a in agents]
    for page in pages:
        page.call("PUT", "/api/v1/acd/me/presence", {"presence": "available"})
        page.call("POST", f"/api/v1/dialer/me/lists/{lst['id']}/join")
    return lst["id"], pages, phones, boss


def work(page, phones):
    """What the panel does: get the row, dial it with the softphone, hang up, record a result."""
    state = page.call("POST", "/api/v1/dialer/me/next").json
    attempt = state["attempt"]
    if attempt is None:
        return None
    page.call("POST", f"/api/v1/dialer/me/attempts/{attempt['id']}/dial")
    leg = page.device.connect({"To": attempt["display"], "CallerId": attempt["caller_id"]})
    page.sim.settle()
    phone = phones[attempt["number"]]
    answered = phone.active is not None
    if answered:
        assert phone.active.from_ == MAIN_NUMBER
        page.device.hangup()
        page.sim.settle()
    outcome = "connected" if answered else "busy"
    page.call("POST", f"/api/v1/dialer/me/attempts/{attempt['id']}/result", {"outcome": outcome})
    return attempt["number"], outcome, leg.sid


def test_two_agents_work_a_list_to_the_end_through_the_simulator(setup, db):
    list_id, pages, phones, boss = setup
    done = []
    for _round in range(3):
        for page in pages:
            result = work(page, phones)
            if result:
                done.append((page.user.id, *result))
    assert sorted(n for _u, n, _o, _s in done) == sorted(CUSTOMERS), "every number dialed, none twice"
    assert all(len(phone.calls) == 1 for phone in phones.values()), "each customer's phone rang once"
    assert {u for u, *_rest in done} == {p.user.id for p in pages}, "both agents worked the list"
    db.rollback()
    db.expire_all()
    attempts = db.scalars(select(DialingAttempt).order_by(DialingAttempt.id)).all()
    calls = {c.id: c for c in db.scalars(select(Call))}
    for attempt, (user_id, number, outcome, sid) in zip(attempts, done):
        call = calls[attempt.call_id]
        assert (call.direction, call.to_number, call.user_id, call.carrier_call_id) == (Direction.outbound, number, user_id, sid)
        assert attempt.outcome is Outcome(outcome)
    rows = db.scalars(select(DialingRow)).all()
    assert all(r.status is RowStatus.done for r in rows)
    assert {r.number: r.last_outcome for r in rows}["+819022220002"] is Outcome.busy
    progress = boss.call("GET", f"/api/v1/dialer/lists/{list_id}").json
    assert (progress["status"], progress["progress"]["done"], progress["progress"]["outcomes"]) == ("finished", 4, {"connected": 3, "busy": 1})
    csv = boss.app.get(f"/dialer/{list_id}/results.csv")
    assert csv.body.startswith(b"\xef\xbb\xbf") and "契約番号" in csv.body.decode("utf-8-sig")


def test_supervisors_see_the_dialer_agent_busy_on_a_call_then_in_wrap_up(setup, db):
    """The supervisor's agent list while an agent works a row: never "available" until the result."""
    _list_id, pages, phones, boss = setup
    page = pages[0]

    def status():
        agents = boss.call("GET", "/api/v1/acd/agents").json["agents"]
        return next((a["status"], a["status_label"]) for a in agents if a["user_id"] == page.user.id)

    attempt = page.call("POST", "/api/v1/dialer/me/next").json["attempt"]
    assert status() == ("wrap_up", "後処理（自動）")
    page.call("POST", f"/api/v1/dialer/me/attempts/{attempt['id']}/dial")
    page.device.connect({"To": attempt["display"], "CallerId": attempt["caller_id"]})
    page.sim.settle()
    assert status() == ("on_call", "会話中")
    # Away and back during the call changes nothing for the ACD.
    page.call("PUT", "/api/v1/acd/me/presence", {"presence": "away", "reason": "休憩"})
    page.call("PUT", "/api/v1/acd/me/presence", {"presence": "available"})
    assert status() == ("on_call", "会話中")
    if phones[attempt["number"]].active is not None:
        page.device.hangup()
    page.sim.settle()
    assert status() == ("wrap_up", "後処理（自動）"), "the call ended: wrap-up until the result is recorded"
    refused = page.call("POST", "/api/v1/acd/me/wrap-up/end", status=409).json
    assert refused["error"]["code"] == "dialer_row_open" and "結果を記録" in refused["error"]["message"]
    page.call("POST", f"/api/v1/dialer/me/attempts/{attempt['id']}/result", {"outcome": "connected"})
    assert status() == ("available", "待機中")
