"""The ACD end to end at the carrier boundary, on SQLite and PostgreSQL.

The carrier is a recording test double registered as an ordinary plugin
(``ecti.acd.testing.RecordingCarrier``); ``ACDDriver`` plays the carrier's part by calling the
same continuation handlers the Twilio webhooks call, each in its own transaction. What the
tests check is what callers and agents would notice: whose phone rings, who talks to whom,
what the caller hears, and what the call's history and the agent's status history say.
"""
from types import SimpleNamespace

import pytest
import webtest as wt
from sqlalchemy import delete, select

from ecti.acd.agents import set_presence
from ecti.acd.models import (
    Agent, AgentStatusChange, EntryStatus, Offer, OfferStatus, Outcome, Presence, Queue, QueueEntry, QueueMember,
)
from ecti.acd.testing import ACDDriver, RecordingCarrier, carrier_plugin
from ecti.calls.models import CallEvent, EventKind
from ecti.config import configure
from ecti.plugins import get_plugin_manager
from ecti.tenancy.models import User
from ecti.voice.instructions import Conference, Dial, Hangup, Redirect, Say


@pytest.fixture
def acd(app_settings, engine, clean_database, make_tenant, make_user, db):
    carrier = RecordingCarrier()
    config = configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[carrier_plugin(carrier)]), engine=engine)
    tenant = make_tenant()
    tenant.carrier = "recording"
    db.commit()
    driver = ACDDriver(config.registry, tenant.id, carrier)
    users = {}

    def agent(name, *, available=True, role="agent"):
        user = make_user(tenant, role=role, email=f"{name}@acme.example", name=name)
        users[name] = user
        if available:
            presence(name, "available")
        return user

    def presence(name, value, reason=None):
        user_id = users[name].id
        driver.run(lambda r: set_presence(r, r.db.get(User, user_id), Presence(value), reason=reason))

    def queue(members, **options):
        q = Queue(tenant_id=tenant.id, name=options.pop("name", "サポート"), **{"wrap_up_seconds": 0, "overflow": {}, "hold_audio": {}, **options})
        db.add(q)
        db.flush()
        for position, member in enumerate(members, start=1):
            name, level = member if isinstance(member, tuple) else (member, 1)
            db.add(QueueMember(tenant_id=tenant.id, queue_id=q.id, user_id=users[name].id, level=level, position=position))
        db.commit()
        return q

    def fresh():
        """End the read transaction and forget loaded rows: see what the app committed since."""
        db.commit()
        db.expire_all()

    def identity(name):
        return f"agent-{users[name].id}"

    def rung():
        by_identity = {f"agent-{u.id}": n for n, u in users.items()}
        return [by_identity[i] for i in carrier.rung()]

    def agent_row(name):
        fresh()
        return db.get(Agent, users[name].id)

    def entry(call_id):
        fresh()
        return db.scalar(select(QueueEntry).where(QueueEntry.call_id == call_id).order_by(QueueEntry.id.desc()))

    def events(call_id):
        fresh()
        return [e.kind for e in db.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))]

    def event(call_id, kind):
        fresh()
        return db.scalars(select(CallEvent).where(CallEvent.call_id == call_id, CallEvent.kind == kind).order_by(CallEvent.id)).all()

    def call(queue_obj, number="+819012345678"):
        call_id = driver.incoming(number)
        return call_id, driver.enqueue(call_id, queue_obj.id)

    app = wt.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    return SimpleNamespace(driver=driver, carrier=carrier, tenant=tenant, agent=agent, presence=presence, queue=queue,
                           identity=identity, rung=rung, agent_row=agent_row, entry=entry, events=events, event=event,
                           call=call, users=users, app=app, db=db, registry=config.registry, fresh=fresh)


def spoken(instructions):
    return " ".join(i.text for i in instructions if isinstance(i, Say))


# --- routing and answering ---------------------------------------------------------------------

def test_a_caller_waits_in_a_conference_and_the_longest_idle_agent_rings(acd):
    acd.agent("sato")
    acd.agent("suzuki")
    q = acd.queue(["suzuki", "sato"])
    call_id, instructions = acd.call(q)
    assert isinstance(instructions[0], Conference) and instructions[0].name == f"call-{call_id}"
    assert instructions[0].wait.handler == "acd.wait" and not instructions[0].start_on_enter
    assert acd.rung() == ["sato"]  # available first
    assert acd.events(call_id)[-2:] == [EventKind.entered_queue, EventKind.offered]
    assert acd.agent_row("sato").status == "ringing"

    joined = acd.driver.answer(acd.identity("sato"))
    assert joined == [Conference(f"call-{call_id}", start_on_enter=True, end_on_exit=False)]
    assert acd.entry(call_id).status is EntryStatus.connected
    assert acd.entry(call_id).agent_user_id == acd.users["sato"].id
    assert acd.agent_row("sato").status == "on_call"
    connected = acd.event(call_id, EventKind.connected)
    assert len(connected) == 1 and connected[0].data["agent"] == acd.users["sato"].id


def test_ring_all_rings_every_free_agent_and_the_first_answer_wins(acd):
    for name in ("a", "b", "c"):
        acd.agent(name)
    q = acd.queue(["a", "b", "c"], strategy="ring_all")
    call_id, _ = acd.call(q)
    assert sorted(acd.rung()) == ["a", "b", "c"]
    assert isinstance(acd.driver.answer(acd.identity("b"))[0], Conference)
    late = acd.driver.answer(acd.identity("a"))
    assert isinstance(late[-1], Hangup) and "応答" in spoken(late)
    stopped = {op[1] for op in acd.carrier.ops("end_leg")}
    assert stopped == {acd.driver.leg_for(acd.identity("a")), acd.driver.leg_for(acd.identity("c"))}
    assert [acd.agent_row(n).status for n in ("a", "b", "c")] == ["available", "on_call", "available"]
    assert len(acd.event(call_id, EventKind.connected)) == 1
    acd.fresh()
    assert acd.db.scalar(select(Offer).where(Offer.status == OfferStatus.accepted)).user_id == acd.users["b"].id


def test_a_missed_offer_puts_the_call_back_in_its_place_and_counts_against_the_agent(acd):
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a", "b"], strategy="linear")
    first, _ = acd.call(q, "+819011110001")
    second, _ = acd.call(q, "+819011110002")
    assert acd.rung() == ["a", "b"]
    acd.driver.answer(acd.identity("b"))
    acd.driver.leg_status(acd.identity("a"), "no-answer")
    assert acd.entry(first).status is EntryStatus.waiting
    missed = acd.event(first, EventKind.no_answer)
    assert missed[0].data["agent"] == acd.users["a"].id and missed[0].data["reason"] == "no_answer"
    assert acd.agent_row("a").missed_in_row == 1
    third, _ = acd.call(q, "+819011110003")
    # b finishes; the call that was missed is served before the one that came later.
    acd.driver.leg_status(acd.identity("b"), "completed")
    assert acd.rung()[-1] == "b"
    assert acd.entry(first).status is EntryStatus.offered
    assert acd.entry(third).status is EntryStatus.waiting
    assert acd.entry(second).outcome is Outcome.completed and acd.entry(second).ended_by == "agent"


def test_after_the_maximum_missed_offers_the_agent_is_set_away(acd):
    from ecti.acd.routing import route_tenant

    acd.agent("a")
    q = acd.queue(["a"], max_no_answers=2)
    acd.call(q)
    acd.driver.leg_status(acd.identity("a"), "busy")  # refused on the phone
    acd.driver.end_pause(acd.users["a"].id)
    acd.driver.run(route_tenant)
    assert acd.rung() == ["a", "a"]
    acd.driver.leg_status(acd.identity("a"), "no-answer")
    row = acd.agent_row("a")
    assert row.presence is Presence.away and row.away_reason == "no_answer"
    acd.fresh()
    change = acd.db.scalars(select(AgentStatusChange).order_by(AgentStatusChange.id.desc())).first()
    assert (change.to_status, change.reason, change.by_user_id) == ("away", "max_no_answers", None)


def test_an_offer_expires_when_no_callback_comes_and_the_next_agent_rings(acd):
    from ecti.acd.routing import route_tenant

    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a", "b"], strategy="linear")
    call_id, _ = acd.call(q)
    acd.driver.expire_offers_of(acd.users["a"].id)
    acd.driver.run(route_tenant)
    assert acd.rung() == ["a", "b"]
    assert ("end_leg", acd.driver.leg_for(acd.identity("a"))) in acd.carrier.operations
    assert acd.event(call_id, EventKind.no_answer)[0].data["agent"] == acd.users["a"].id


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_with_the_wait(acd):
    acd.agent("a")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.age_call(call_id, 42)
    acd.driver.caller_hangs_up(call_id)
    entry = acd.entry(call_id)
    assert entry.outcome is Outcome.abandoned and entry.status is EntryStatus.ended
    abandoned = acd.event(call_id, EventKind.abandoned)
    assert len(abandoned) == 1 and abandoned[0].data["wait_seconds"] >= 42 and abandoned[0].data["position"] == 1
    assert acd.agent_row("a").status == "available"  # the ringing stopped
    assert ("end_leg", acd.driver.leg_for(acd.identity("a"))) in acd.carrier.operations
    acd.driver.caller_hangs_up(call_id)  # a repeated callback changes nothing
    assert len(acd.event(call_id, EventKind.abandoned)) == 1


def test_wrap_up_after_the_caller_hangs_up_then_the_next_call(acd):
    from ecti.acd.routing import route_tenant

    acd.agent("a")
    q = acd.queue(["a"], wrap_up_seconds=30)
    first, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.driver.caller_hangs_up(first)
    row = acd.agent_row("a")
    assert row.status == "wrap_up" and row.available_at is not None
    done = acd.event(first, EventKind.queue_completed)
    assert done[0].data["by"] == "caller"
    second, _ = acd.call(q)
    assert acd.rung() == ["a"]  # in wrap-up: not offered
    acd.driver.end_wrap_up_by_clock(acd.users["a"].id)
    acd.driver.run(route_tenant)
    assert acd.rung() == ["a", "a"]
    acd.fresh()
    history = [(c.from_status, c.to_status) for c in acd.db.scalars(
        select(AgentStatusChange).where(AgentStatusChange.user_id == acd.users["a"].id).order_by(AgentStatusChange.id))]
    assert history == [("offline", "available"), ("available", "ringing"), ("ringing", "on_call"), ("on_call", "wrap_up"),
                       ("wrap_up", "available"), ("available", "ringing")]


def test_escalation_offers_the_next_level_after_the_wait(acd):
    acd.agent("senior")
    acd.agent("junior")
    q = acd.queue([("junior", 1), ("senior", 2)], escalation_seconds=30)
    acd.presence("junior", "away", "休憩")
    call_id, _ = acd.call(q)
    assert acd.rung() == []
    acd.driver.age_call(call_id, 31)
    acd.driver.wait(call_id)  # the caller's wait loop is a routing tick
    assert acd.rung() == ["senior"]


def test_max_wait_sends_the_caller_to_the_overflow_queue(acd):
    acd.agent("a")
    acd.agent("b")
    other = acd.queue(["b"], name="二次受付")
    q = acd.queue(["a"], max_wait_seconds=60, overflow={"kind": "queue", "target": str(other.id)})
    acd.presence("a", "away")
    acd.presence("b", "away")
    call_id, _ = acd.call(q)
    acd.driver.age_call(call_id, 61)
    acd.driver.wait(call_id)
    assert acd.entry(call_id).outcome is Outcome.timed_out
    redirect = acd.carrier.ops("redirect")[-1]
    assert redirect[2] == "acd.overflow"
    instructions = acd.driver.step(call_id, "acd.overflow", redirect[3])
    assert isinstance(instructions[0], Conference)
    assert acd.entry(call_id).queue_id == other.id and acd.entry(call_id).status is EntryStatus.waiting
    assert acd.event(call_id, EventKind.overflowed)[0].data["reason"] == "max_wait"


def test_a_full_queue_overflows_to_an_external_number(acd):
    acd.agent("a")
    q = acd.queue(["a"], max_length=1, overflow={"kind": "number", "target": "0312345678"})
    acd.presence("a", "away")
    acd.call(q)
    second, instructions = acd.call(q)
    assert isinstance(instructions[-1], Dial) and instructions[-1].targets[0].address == "+81312345678"
    assert acd.entry(second).outcome is Outcome.overflowed
    assert acd.event(second, EventKind.overflowed)[0].data["reason"] == "queue_full"


def test_with_nobody_logged_in_the_caller_is_told_and_the_call_ends(acd):
    acd.agent("a", available=False)
    q = acd.queue(["a"])
    call_id, instructions = acd.call(q)
    assert isinstance(instructions[-1], Hangup) and "申し訳" in spoken(instructions)
    assert acd.entry(call_id).outcome is Outcome.overflowed


def test_waiting_callers_leave_when_the_last_agent_logs_out(acd):
    acd.agent("a")
    q = acd.queue(["a"], join_when_empty=True, leave_when_empty=True)
    acd.presence("a", "away")
    call_id, _ = acd.call(q)
    acd.presence("a", "offline")
    assert acd.entry(call_id).outcome is Outcome.exit_empty
    assert EventKind.exit_empty in acd.events(call_id)
    assert acd.carrier.ops("redirect")[-1][2] == "acd.overflow"


def test_the_wait_loop_announces_position_and_estimated_wait_in_japanese(acd):
    acd.agent("a")
    q = acd.queue(["a"], announce_seconds=60)
    acd.presence("a", "away")
    acd.call(q)
    second, _ = acd.call(q)
    heard = acd.driver.wait(second)
    assert "2 番目" in spoken(heard) and "分" in spoken(heard)
    assert isinstance(heard[-1], Redirect) and heard[-1].next.handler == "acd.wait"
    assert "番目" not in spoken(acd.driver.wait(second))  # not again before the interval


@pytest.mark.parametrize("strategy, expected", [
    ("linear", ["a", "a", "a"]),
    ("round_robin", ["a", "b", "c"]),
    ("fewest_calls", ["a", "b", "c"]),
    ("least_talk_time", ["a", "b", "c"]),
])
def test_strategies_choose_the_agent(acd, strategy, expected):
    for name in ("a", "b", "c"):
        acd.agent(name)
    q = acd.queue(["a", "b", "c"], strategy=strategy)
    for _round in range(3):
        call_id, _ = acd.call(q)
        who = acd.rung()[-1]
        acd.driver.answer(acd.identity(who))
        acd.driver.leg_status(acd.identity(who), "completed")
    assert acd.rung() == expected
    if strategy == "round_robin":
        acd.fresh()
        assert acd.db.get(Queue, q.id).cursor == 3  # kept in the database, shared by every process


def test_random_strategy_rings_one_free_member(acd):
    for name in ("a", "b"):
        acd.agent(name)
    q = acd.queue(["a", "b"], strategy="random")
    acd.call(q)
    assert len(acd.rung()) == 1 and acd.rung()[0] in ("a", "b")


def test_a_queue_whose_strategy_is_not_installed_routes_as_longest_idle_and_says_so(acd, caplog):
    """Its plugin was removed: callers still reach agents (longest idle), the log says why, and
    the admin sees it on the queue list and the queue's page instead of a silent fallback."""
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["b", "a"], strategy="least_calls_today")
    with caplog.at_level("WARNING", logger="ecti.acd.routing"):
        acd.call(q)
    assert acd.rung() == ["a"]  # available first: longest idle
    assert "'least_calls_today' is not installed" in caplog.text
    acd.agent("boss", available=False, role="admin")
    app, _headers = login(acd, "boss")
    row = app.get("/admin/queues").html.find("a", string=q.name).find_parent("tr").get_text(" ", strip=True)
    assert "未インストール" in row and "least_calls_today" in row
    alert = app.get(f"/admin/queues/{q.id}").html.select_one("[role=alert]").get_text(" ", strip=True)
    assert "least_calls_today" in alert and "インストールされていません" in alert


def test_a_failed_dial_is_a_missed_offer_and_the_call_goes_on(acd):
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a", "b"], strategy="linear")
    acd.carrier.unreachable.add(acd.identity("a"))
    call_id, _ = acd.call(q)
    assert acd.event(call_id, EventKind.no_answer)[0].data["reason"] == "failed"
    assert acd.rung() == ["b"]  # a's failed dial was not recorded; b rings next


# --- the agent's API ---------------------------------------------------------------------------

def login(acd, name):
    app = wt.TestApp(acd.app.app, extra_environ={"HTTP_HOST": "localhost"})
    form = app.get("/login").forms["login"]
    form["email"] = acd.users[name].email
    form["password"] = acd.users[name].password
    form.submit()
    return app, {"X-CSRF-Token": app.get("/api/v1/me").json["csrf_token"]}


def test_the_agent_sets_presence_and_sees_the_offer_with_caller_queue_and_wait(acd):
    acd.agent("a", available=False)
    q = acd.queue(["a"])
    app, headers = login(acd, "a")
    me = app.put_json("/api/v1/acd/me/presence", {"presence": "available"}, headers=headers).json
    assert me["status"] == "available" and me["status_label"] == "待機中"
    call_id, _ = acd.call(q, "+819012345678")
    offer = app.get("/api/v1/acd/me/offer").json["offer"]
    assert offer["caller_display"] == "090-1234-5678" and offer["queue_name"] == "サポート" and offer["kind"] == "queue"
    me = app.post("/api/v1/acd/me/offer/accept", headers=headers).json
    assert me["status"] == "on_call" and me["call"]["call_id"] == call_id
    assert isinstance(acd.driver.answer(acd.identity("a"))[0], Conference)  # the phone then joins


def test_declining_on_the_page_stops_the_phone_and_rings_the_next_agent(acd):
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a", "b"], strategy="linear")
    app, headers = login(acd, "a")
    call_id, _ = acd.call(q)
    me = app.post("/api/v1/acd/me/offer/decline", headers=headers).json
    assert me["offer"] is None
    assert acd.rung() == ["a", "b"]
    assert acd.event(call_id, EventKind.no_answer)[0].data["reason"] == "declined"
    again = app.post("/api/v1/acd/me/offer/decline", headers=headers, expect_errors=True)
    assert again.status_int == 409 and again.json["error"]["code"] == "no_offer"


def test_going_offline_during_a_call_is_refused_with_a_reason(acd):
    acd.agent("a")
    q = acd.queue(["a"])
    acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    refused = app.put_json("/api/v1/acd/me/presence", {"presence": "offline"}, headers=headers, expect_errors=True)
    assert refused.status_int == 409 and "通話中" in refused.json["error"]["message"]
    assert acd.agent_row("a").status == "on_call"


def test_hold_and_resume_play_hold_audio_and_are_events(acd):
    acd.agent("a")
    q = acd.queue(["a"], hold_audio={"text": "しばらくお待ちください"})
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    assert app.post("/api/v1/acd/me/call/hold", headers=headers).json["call"]["on_hold"] is True
    assert app.post("/api/v1/acd/me/call/hold", headers=headers, expect_errors=True).status_int == 409
    assert app.post("/api/v1/acd/me/call/resume", headers=headers).json["call"]["on_hold"] is False
    holds = acd.carrier.ops("hold")
    assert [(op[1], op[3], op[4]) for op in holds] == [(f"call-{call_id}", True, "acd.hold_music"), (f"call-{call_id}", False, None)]
    assert [k for k in acd.events(call_id) if k in (EventKind.held, EventKind.resumed)] == [EventKind.held, EventKind.resumed]
    music = acd.driver.step(call_id, "acd.hold_music", {"call": call_id, "queue": q.id})
    assert "しばらくお待ちください" in spoken(music)
    # a spoken hold message is followed by a pause: heard once a round, not back to back
    assert [type(i).__name__ for i in music] == ["Say", "Pause", "Redirect"]


def test_a_carrier_error_on_hold_is_reported_and_nothing_changes(acd):
    acd.agent("a")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    acd.carrier.fail.add("hold")
    failed = app.post("/api/v1/acd/me/call/hold", headers=headers, expect_errors=True)
    assert failed.status_int == 502 and failed.json["error"]["code"] == "carrier_error"
    assert acd.entry(call_id).on_hold is False and EventKind.held not in acd.events(call_id)


def test_warm_transfer_completes_when_the_second_agent_answers(acd):
    acd.agent("a")
    acd.agent("b", available=False)
    q = acd.queue(["a"], wrap_up_seconds=20)
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.presence("b", "available")
    app, headers = login(acd, "a")
    out = app.post_json("/api/v1/acd/me/call/transfer", {"kind": "agent", "agent_id": acd.users["b"].id}, headers=headers).json
    assert out["status"] == "ringing"
    assert app.get("/api/v1/acd/me").json["call"]["transfer_ringing_to"] == acd.users["b"].id
    assert isinstance(acd.driver.answer(acd.identity("b"))[0], Conference)
    entry = acd.entry(call_id)
    assert entry.agent_user_id == acd.users["b"].id and entry.status is EntryStatus.connected
    assert acd.agent_row("a").status == "wrap_up" and acd.agent_row("b").status == "on_call"
    assert ("end_leg", acd.driver.leg_for(acd.identity("a"))) in acd.carrier.operations
    assert acd.event(call_id, EventKind.transferred)[0].data["from_agent"] == acd.users["a"].id


def test_warm_transfer_not_answered_leaves_the_call_with_the_first_agent(acd):
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    app.post_json("/api/v1/acd/me/call/transfer", {"kind": "agent", "agent_id": acd.users["b"].id}, headers=headers)
    acd.driver.leg_status(acd.identity("b"), "no-answer")
    me = app.get("/api/v1/acd/me").json
    assert me["status"] == "on_call" and me["call"]["call_id"] == call_id and me["call"]["transfer_ringing_to"] is None
    assert acd.entry(call_id).agent_user_id == acd.users["a"].id
    assert acd.agent_row("b").status == "available"


def test_warm_transfer_to_a_busy_agent_is_refused(acd):
    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a"])
    acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.presence("b", "away")
    app, headers = login(acd, "a")
    refused = app.post_json("/api/v1/acd/me/call/transfer", {"kind": "agent", "agent_id": acd.users["b"].id}, headers=headers, expect_errors=True)
    assert refused.status_int == 409 and refused.json["error"]["code"] == "agent_not_available"


def test_blind_transfer_to_a_queue(acd):
    acd.agent("a")
    acd.agent("b")
    first = acd.queue(["a"], wrap_up_seconds=15)
    second = acd.queue(["b"], name="請求")
    call_id, _ = acd.call(first)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    out = app.post_json("/api/v1/acd/me/call/transfer", {"kind": "queue", "queue_id": second.id}, headers=headers).json
    assert out["status"] == "transferred"
    redirect = acd.carrier.ops("redirect")[-1]
    assert redirect[2:] == ("acd.enqueue", {"queue": str(second.id)})
    assert acd.entry(call_id).outcome is Outcome.transferred
    assert acd.agent_row("a").status == "wrap_up"
    acd.driver.step(call_id, *redirect[2:])
    assert acd.rung()[-1] == "b"


def test_blind_transfer_to_a_number_follows_the_dialing_rules(acd):
    acd.agent("a")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    refused = app.post_json("/api/v1/acd/me/call/transfer", {"kind": "number", "number": "0570-000-000"}, headers=headers, expect_errors=True)
    assert refused.status_int == 422 and "0570" in refused.json["error"]["message"]
    assert acd.entry(call_id).status is EntryStatus.connected  # nothing half-done
    out = app.post_json("/api/v1/acd/me/call/transfer", {"kind": "number", "number": "03-1234-5678"}, headers=headers).json
    assert out["to"] == "+81312345678"
    redirect = acd.carrier.ops("redirect")[-1]
    assert redirect[2:] == ("acd.forward", {"number": "+81312345678"})
    forward = acd.driver.step(call_id, *redirect[2:])
    assert forward[0].targets[0].address == "+81312345678" and forward[0].caller_id == "+815011112222"


def test_the_agent_hangs_up_ends_the_wrap_up_early_and_gets_the_next_call(acd):
    acd.agent("a")
    q = acd.queue(["a"], wrap_up_seconds=120)
    first, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    app, headers = login(acd, "a")
    me = app.post("/api/v1/acd/me/call/hangup", headers=headers).json
    assert me["status"] == "wrap_up" and me["wrap_up_until"]
    acd.fresh()
    first_call = acd.db.scalar(select(CallEvent).where(CallEvent.call_id == first)).call
    assert ("hangup", first_call.carrier_call_id) in acd.carrier.operations
    second, _ = acd.call(q)
    assert acd.rung() == ["a"]
    me = app.post("/api/v1/acd/me/wrap-up/end", headers=headers).json
    assert me["status"] == "ringing" and me["offer"]["call_id"] == second


def test_agents_and_waiting_counts(acd):
    acd.agent("a")
    acd.agent("b", available=False)
    q = acd.queue(["a", "b"])
    acd.presence("a", "away", "昼休み")
    acd.call(q)
    app, _headers = login(acd, "a")
    agents = {a["display_name"]: a for a in app.get("/api/v1/acd/agents").json["agents"]}
    assert agents["a"]["status_label"] == "離席中" and agents["a"]["away_reason"] == "昼休み"
    assert agents["b"]["status"] == "offline"
    waiting = app.get("/api/v1/acd/waiting").json["queues"]
    assert waiting == [{"id": q.id, "name": "サポート", "waiting": 1, "longest_wait_seconds": waiting[0]["longest_wait_seconds"],
                        "agents_logged_in": 1, "agents_available": 0}]


# --- reconciler and jobs -------------------------------------------------------------------------

def test_the_reconciler_repairs_a_call_whose_hang_up_was_never_reported(acd):
    from ecti.acd.jobs import reconcile

    acd.agent("a")
    q = acd.queue(["a"])
    call_id, _ = acd.call(q)
    acd.driver.age_call(call_id, 600)
    acd.fresh()
    call = acd.db.scalar(select(CallEvent).where(CallEvent.call_id == call_id)).call
    acd.carrier.statuses[call.carrier_call_id] = "completed"
    repairs = reconcile(acd.registry, acd.tenant.id)
    assert repairs == [f"{call.carrier_call_id}:completed"]
    assert acd.entry(call_id).outcome is Outcome.abandoned
    assert EventKind.reconciled in acd.events(call_id)
    assert acd.agent_row("a").status == "available"


def test_the_tick_job_routes_tenants_with_waiting_calls(acd):
    from ecti.acd.jobs import tick_job

    acd.agent("a")
    q = acd.queue(["a"], wrap_up_seconds=60)
    first, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.driver.caller_hangs_up(first)
    acd.call(q)
    acd.driver.end_wrap_up_by_clock(acd.users["a"].id)
    tick_job(acd.registry)
    assert acd.rung() == ["a", "a"]
    assert {"acd.route", "acd.expire", "acd.tick"} <= set(acd.registry["ecti.jobs"])


def test_agent_status_durations_add_up_to_logged_in_time(acd):
    acd.agent("a")
    q = acd.queue(["a"], wrap_up_seconds=5)
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.driver.caller_hangs_up(call_id)
    acd.driver.end_wrap_up_by_clock(acd.users["a"].id)
    acd.presence("a", "away", "会議")
    acd.presence("a", "offline")
    acd.fresh()
    changes = acd.db.scalars(select(AgentStatusChange).where(AgentStatusChange.user_id == acd.users["a"].id).order_by(AgentStatusChange.id)).all()
    assert [c.to_status for c in changes] == ["available", "ringing", "on_call", "wrap_up", "available", "away", "offline"]
    for before, after in zip(changes, changes[1:]):
        assert after.from_status == before.to_status and after.at >= before.at
    durations = {}
    for before, after in zip(changes, changes[1:]):
        durations[before.to_status] = durations.get(before.to_status, 0) + (after.at - before.at).total_seconds()
    assert sum(durations.values()) == pytest.approx((changes[-1].at - changes[0].at).total_seconds())
    assert changes[3].reason == "call_ended" and changes[5].reason == "会議" and changes[5].by_user_id == acd.users["a"].id


# --- queues: API, console, isolation -------------------------------------------------------------

def test_admins_manage_queues_with_specific_errors_and_nothing_half_saved(api, login, make_tenant, make_user, db):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin")
    agent = make_user(tenant, role="agent", name="山田 花子")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    created = api.post("/api/v1/acd/queues", json={"name": "サポート", "strategy": "round_robin", "ring_timeout": 15}, headers=headers)
    assert created.status_int == 201 and created.json["strategy"] == "round_robin"
    queue_id = created.json["id"]
    bad = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"ring_timeout": 2, "name": "変更"}, headers=headers)
    assert bad.status_int == 422 and "5 以上 120 以下" in bad.json["error"]["message"]
    assert api.get(f"/api/v1/acd/queues/{queue_id}").json["name"] == "サポート"  # nothing half-saved
    unknown = api.post("/api/v1/acd/queues", json={"name": "x", "strategy": "telepathy"}, headers=headers)
    assert unknown.status_int == 422 and unknown.json["error"]["message"] == "用意されている振り分け方法から選んでください。"
    twice = api.post("/api/v1/acd/queues", json={"name": "サポート"}, headers=headers)
    assert twice.status_int == 409
    overflow = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"overflow": {"kind": "number", "target": "03-1234-5678"}}, headers=headers)
    assert overflow.json["overflow"] == {"kind": "number", "target": "+81312345678"}
    members = api.put(f"/api/v1/acd/queues/{queue_id}/members", json={"members": [{"user_id": agent.id, "level": 2}]}, headers=headers)
    assert members.json["members"] == [{"user_id": agent.id, "display_name": "山田 花子", "level": 2, "position": 1}]
    bad_level = api.put(f"/api/v1/acd/queues/{queue_id}/members", json={"members": [{"user_id": agent.id, "level": 12}]}, headers=headers)
    assert bad_level.status_int == 422
    assert len(api.get(f"/api/v1/acd/queues/{queue_id}").json["members"]) == 1


def test_an_agent_cannot_manage_queues(api, login, make_tenant, make_user):
    agent = make_user(make_tenant(), role="agent")
    headers = {"X-CSRF-Token": login(api.testapp, agent)}
    assert api.post("/api/v1/acd/queues", json={"name": "x"}, headers=headers).status_int == 403
    assert api.get("/api/v1/acd/queues").status_int == 403
    assert api.get("/api/v1/acd/me").json["status"] == "offline"


def test_another_tenants_queues_and_agents_are_invisible(api, login, make_tenant, make_user, db):
    a = make_tenant(slug="alpha", name="アルファ")
    b = make_tenant(slug="beta", name="ベータ")
    admin_a = make_user(a, role="admin", email="admin@alpha.example")
    admin_b = make_user(b, role="admin", email="admin@beta.example")
    agent_b = make_user(b, role="agent", email="agent@beta.example")
    theirs = Queue(tenant_id=b.id, name="ベータ窓口", overflow={}, hold_audio={})
    db.add(theirs)
    db.commit()
    headers = {"X-CSRF-Token": login(api.testapp, admin_a)}
    assert api.get(f"/api/v1/acd/queues/{theirs.id}").status_int == 404
    assert api.patch(f"/api/v1/acd/queues/{theirs.id}", json={"name": "乗っ取り"}, headers=headers).status_int == 404
    assert api.put(f"/api/v1/acd/queues/{theirs.id}/members", json={"members": []}, headers=headers).status_int == 404
    assert api.delete(f"/api/v1/acd/queues/{theirs.id}", headers=headers).status_int == 404
    assert api.put(f"/api/v1/acd/agents/{agent_b.id}/presence", json={"presence": "away"}, headers=headers).status_int == 404
    mine = api.post("/api/v1/acd/queues", json={"name": "窓口"}, headers=headers).json
    foreign = api.put(f"/api/v1/acd/queues/{mine['id']}/members", json={"members": [{"user_id": agent_b.id}]}, headers=headers)
    assert foreign.status_int == 422
    cross = api.patch(f"/api/v1/acd/queues/{mine['id']}", json={"overflow": {"kind": "queue", "target": str(theirs.id)}}, headers=headers)
    assert cross.status_int == 422
    assert [q["name"] for q in api.get("/api/v1/acd/queues").json["queues"]] == ["窓口"]
    assert {x["display_name"] for x in api.get("/api/v1/acd/agents").json["agents"]} == {admin_a.display_name}
    assert [q["name"] for q in api.get("/api/v1/acd/waiting").json["queues"]] == ["窓口"]
    db.expire_all()
    assert db.get(Queue, theirs.id).name == "ベータ窓口" and admin_b.id


def test_the_console_creates_edits_and_deletes_a_queue(webtest, login, make_tenant, make_user, db):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin")
    agent = make_user(tenant, role="agent", name="佐藤 一郎")
    login(webtest, admin)
    page = webtest.get("/admin/queues")
    assert "キューを追加" in page.text
    form = page.forms["add-queue"]
    form["name"] = "お問い合わせ"
    form["ring_timeout"] = "abc"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422 and "整数" in refused.text
    form = refused.forms["add-queue"]
    form["ring_timeout"] = "25"
    queue_page = form.submit().follow()
    assert "お問い合わせ" in queue_page.text and "キュー お問い合わせ を作成しました。" in queue_page.text
    members = queue_page.forms["queue-members"]
    for field in members.fields["member"]:
        field.checked = field._value == str(agent.id)
    members[f"level_{agent.id}"] = "2"
    saved = members.submit().follow()
    db.expire_all()
    queue = db.scalar(select(Queue).where(Queue.name == "お問い合わせ"))
    assert queue.ring_timeout == 25 and [(m.user_id, m.level) for m in queue.members] == [(agent.id, 2)]
    gone = saved.forms["queue-delete"].submit().follow()
    assert "キュー お問い合わせ を削除しました。" in gone.text


def test_the_ivr_can_check_a_queue_id_for_its_tenant(db, make_tenant):
    from ecti.acd.queues import validate_queue_ref
    from ecti.db import set_tenant_scope
    from ecti.errors import UserError

    a = make_tenant(slug="alpha", name="アルファ")
    b = make_tenant(slug="beta", name="ベータ")
    queue = Queue(tenant_id=a.id, name="窓口", overflow={}, hold_audio={})
    db.add(queue)
    db.commit()
    set_tenant_scope(db, a.id)
    assert validate_queue_ref(db, str(queue.id)) is queue
    set_tenant_scope(db, b.id)
    with pytest.raises(UserError) as refused:
        validate_queue_ref(db, str(queue.id))
    assert refused.value.code == "unknown_queue"


def test_deleting_a_queue_archives_it_and_its_history_stays(acd, login):
    acd.agent("a")
    admin = acd.agent("boss", available=False, role="admin")
    q = acd.queue(["a"], name="サポート")
    answered, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    headers = {"X-CSRF-Token": login(acd.app, admin)}
    live = acd.app.delete(f"/api/v1/acd/queues/{q.id}", headers=headers, expect_errors=True)
    assert live.status_int == 409 and live.json["error"]["code"] == "queue_in_use"  # a call is connected through it
    acd.driver.caller_hangs_up(answered)

    assert acd.app.delete(f"/api/v1/acd/queues/{q.id}", headers=headers).status_int == 204
    acd.fresh()
    entry = acd.entry(answered)
    assert entry is not None and entry.queue_id == q.id and entry.outcome is Outcome.completed  # reports keep the call
    assert acd.db.get(Queue, q.id).archived_at is not None
    assert acd.db.scalars(select(QueueMember).where(QueueMember.queue_id == q.id)).all() == []  # no agent routes it
    assert acd.app.get(f"/api/v1/acd/queues/{q.id}", expect_errors=True).status_int == 404
    assert acd.app.get("/api/v1/acd/queues").json["queues"] == []
    assert acd.app.get("/admin/queues").text.count("サポート") == 0
    again = acd.app.post_json("/api/v1/acd/queues", {"name": "サポート"}, headers=headers)  # the name is free again
    assert again.status_int == 201 and again.json["id"] != q.id
    assert [q2["name"] for q2 in acd.app.get("/api/v1/acd/queues").json["queues"]] == ["サポート"]


def test_a_queue_a_flow_or_an_overflow_sends_calls_to_is_not_deleted(acd, login):
    from ecti.ivr.models import Flow

    admin = acd.agent("boss", available=False, role="admin")
    q = acd.queue([], name="サポート")
    other = acd.queue([], name="予備", overflow={"kind": "queue", "target": str(q.id)})
    acd.db.add(Flow(tenant_id=acd.tenant.id, name="代表フロー", start="q", nodes=[{"id": "q", "type": "queue", "settings": {"queue": q.id}, "next": {}}]))
    acd.db.commit()
    headers = {"X-CSRF-Token": login(acd.app, admin)}
    in_flow = acd.app.delete(f"/api/v1/acd/queues/{q.id}", headers=headers, expect_errors=True)
    assert in_flow.status_int == 409 and "代表フロー" in in_flow.json["error"]["message"]
    acd.db.execute(delete(Flow))
    acd.db.commit()
    overflow = acd.app.delete(f"/api/v1/acd/queues/{q.id}", headers=headers, expect_errors=True)
    assert overflow.status_int == 409 and "予備" in overflow.json["error"]["message"]
    assert acd.app.delete(f"/api/v1/acd/queues/{other.id}", headers=headers).status_int == 204
    assert acd.app.delete(f"/api/v1/acd/queues/{q.id}", headers=headers).status_int == 204


def test_the_wrap_up_end_job_writes_the_history_at_the_moment_the_wrap_up_ended(acd):
    """No other call comes: the job scheduled for the wrap-up's end (run late, by a fixed clock)
    writes wrap_up → available at the scheduled time, so reports count 30 s of wrap-up."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import func

    from ecti.acd.jobs import route_job
    from ecti.acd.routing import route_tenant
    from ecti.reports.periods import parse_period
    from ecti.reports.queries import agent_report

    acd.agent("a")
    q = acd.queue(["a"], wrap_up_seconds=30)
    call_id, _ = acd.call(q)
    acd.driver.answer(acd.identity("a"))
    acd.driver.caller_hangs_up(call_id)
    row = acd.agent_row("a")
    assert row.status == "wrap_up"
    ends = row.available_at
    acd.driver.run(lambda r: route_tenant(r, now=ends - timedelta(seconds=1)))  # not over yet: nothing written
    assert acd.agent_row("a").status == "wrap_up"
    acd.driver.run(lambda r: route_tenant(r, now=ends + timedelta(minutes=7)))  # the job ran 7 minutes late
    acd.fresh()
    changes = acd.db.scalars(select(AgentStatusChange).where(AgentStatusChange.user_id == acd.users["a"].id).order_by(AgentStatusChange.id)).all()
    assert [(c.from_status, c.to_status) for c in changes][-2:] == [("on_call", "wrap_up"), ("wrap_up", "available")]
    wrap_up, over = changes[-2], changes[-1]
    assert over.at == ends and over.reason == "wrap_up_over"
    assert (over.at - wrap_up.at).total_seconds() == pytest.approx(30, abs=1)
    assert acd.agent_row("a").status == "available"
    route_job(acd.registry, acd.agent_row("a").tenant_id)  # running again (real clock) writes nothing more
    acd.fresh()
    assert acd.db.scalar(select(func.count()).select_from(AgentStatusChange).where(AgentStatusChange.user_id == acd.users["a"].id)) == len(changes)
    period = parse_period({"preset": "today", "bucket": "day"}, ZoneInfo("Asia/Tokyo"), now=ends)
    figures = agent_report(acd.db, acd.agent_row("a").tenant_id, period, now=ends + timedelta(hours=1))
    (agent,) = [a for a in figures.agents if a.user_id == acd.users["a"].id]
    assert agent.status("wrap_up") == pytest.approx(30, abs=1)


def test_hold_audio_accepts_only_this_companys_prompts_or_text(api, login, make_tenant, make_user, db):
    from ecti.prompts.models import Prompt, PromptKind

    mine, other = make_tenant(slug="mine", name="自社"), make_tenant(slug="other", name="他社")
    ours = Prompt(tenant_id=mine.id, kind=PromptKind.audio, name="保留音", original_filename="hold.wav", storage_key="m/hold.wav")
    theirs = Prompt(tenant_id=other.id, kind=PromptKind.audio, name="他社の保留音", original_filename="hold.wav", storage_key="o/hold.wav")
    db.add_all([ours, theirs])
    db.commit()
    headers = {"X-CSRF-Token": login(api.testapp, make_user(mine, role="admin"))}
    queue_id = api.post("/api/v1/acd/queues", json={"name": "窓口"}, headers=headers).json["id"]
    stolen = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"hold_audio": {"prompt_id": theirs.id}}, headers=headers)
    assert stolen.status_int == 422 and stolen.json["error"]["code"] == "prompt_not_found"
    junk = api.post("/api/v1/acd/queues", json={"name": "別窓口", "hold_audio": {"anything": ["at", "all"]}}, headers=headers)
    assert junk.status_int == 422 and "保留音" in junk.json["error"]["message"]
    assert api.get(f"/api/v1/acd/queues/{queue_id}").json["hold_audio"] == {}  # nothing saved
    own = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"hold_audio": {"prompt_id": ours.id}}, headers=headers)
    assert own.status_int == 200 and own.json["hold_audio"] == {"prompt_id": ours.id}
    text = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"hold_audio": {"text": "しばらくお待ちください"}}, headers=headers)
    assert text.status_int == 200
# --- presence from the connection (issue 18) ----------------------------------------------------

def _history(acd, name):
    acd.fresh()
    return acd.db.scalars(
        select(AgentStatusChange).where(AgentStatusChange.user_id == acd.users[name].id).order_by(AgentStatusChange.id)
    ).all()


def _last_seen(acd, name, seconds_ago):
    from datetime import timedelta

    from sqlalchemy import update

    from ecti.models.meta import utcnow

    user_id = acd.users[name].id
    at = utcnow() - timedelta(seconds=seconds_ago)
    acd.driver.run(lambda r: r.db.execute(update(Agent).where(Agent.user_id == user_id).values(phone_seen_at=at)))
    return at


def test_a_closed_phone_page_takes_the_agent_out_of_routing_at_once_and_the_call_goes_to_the_other_agent(acd):
    acd.agent("a")
    acd.agent("b")  # a has been free longer: the call would be a's
    q = acd.queue(["a", "b"])
    app, headers = login(acd, "a")
    app.post("/api/v1/acd/me/heartbeat", params={"csrf_token": headers["X-CSRF-Token"]}, content_type="application/x-www-form-urlencoded",
             expect_errors=True)  # a form post is no heartbeat (JSON only) …
    gone = app.post("/api/v1/acd/me/heartbeat/gone", params={"csrf_token": headers["X-CSRF-Token"]})  # … but the beacon is
    assert gone.json["presence_changed"] == "disconnected"
    row = acd.agent_row("a")
    assert row.presence is Presence.disconnected and row.status == "disconnected" and row.disconnect_reason == "page_closed"
    me = app.get("/api/v1/acd/me").json
    assert me["status_label"] == "切断中" and me["presence_note"] == "電話の画面が閉じられました。"
    call_id, _ = acd.call(q)
    assert acd.rung() == ["b"]
    assert [(c.from_status, c.to_status, c.reason) for c in _history(acd, "a")][-1] == ("available", "disconnected", "page_closed")
    supervisor = acd.agent("boss", available=False, role="supervisor")
    assert supervisor
    boss, _h = login(acd, "boss")
    listed = {a["display_name"]: a for a in boss.get("/api/v1/acd/agents").json["agents"]}
    assert listed["a"]["status_label"] == "切断中" and listed["a"]["disconnect_reason"] == "電話の画面が閉じられました。"
    # A beacon without the CSRF token changes nothing.
    acd.presence("b", "available")
    anonymous_beacon = app.post("/api/v1/acd/me/heartbeat/gone", expect_errors=True)
    assert anonymous_beacon.status_int == 403


def test_a_silent_phone_is_out_of_routing_after_the_timeout_and_the_sweep_writes_when_it_was_last_seen(acd):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import update

    from ecti.acd.jobs import presence_job
    from ecti.models.meta import utcnow
    from ecti.reports.periods import parse_period
    from ecti.reports.queries import agent_report

    acd.agent("a")
    acd.agent("b")
    q = acd.queue(["a", "b"])
    user_id = acd.users["a"].id

    def backdate(r):  # a has been available for a minute …
        agent = r.db.get(Agent, user_id)
        agent.status_since -= timedelta(seconds=60)
        for change in r.db.scalars(select(AgentStatusChange).where(AgentStatusChange.user_id == user_id)):
            change.at -= timedelta(seconds=60)

    acd.driver.run(backdate)
    last = _last_seen(acd, "a", 31)  # … and their phone went silent 31 s ago (the default timeout is 30 s)
    acd.call(q)
    assert acd.rung() == ["b"]  # routing skips a before any sweep ran
    assert acd.agent_row("a").status == "available"
    assert presence_job(acd.registry) == [acd.users["a"].id]
    row = acd.agent_row("a")
    assert row.status == "disconnected" and row.disconnect_reason == "phone_lost" and row.presence_before == "available"
    change = _history(acd, "a")[-1]
    assert (change.to_status, change.reason) == ("disconnected", "phone_lost")
    assert abs((change.at - last).total_seconds()) < 1  # from when the phone was last seen
    assert presence_job(acd.registry) == []  # nothing twice
    now = utcnow() + timedelta(minutes=1)
    period = parse_period({"preset": "today", "bucket": "day"}, ZoneInfo("Asia/Tokyo"), now=now)
    figures = agent_report(acd.db, acd.tenant.id, period, now=now)
    (a,) = [f for f in figures.agents if f.user_id == acd.users["a"].id]
    assert a.status("disconnected") >= 60 and a.status("available") == pytest.approx(29, abs=2)


def test_coming_back_restores_available_only_within_the_restore_time_otherwise_away_with_the_reason(acd):
    from datetime import timedelta

    from sqlalchemy import update

    from ecti.acd.jobs import presence_job

    acd.agent("a")
    acd.agent("b", available=False)
    q = acd.queue(["a", "b"])
    app, headers = login(acd, "a")
    _last_seen(acd, "a", 40)
    presence_job(acd.registry)
    beat = app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered", "page": "p1"}, headers=headers).json
    assert beat["presence_changed"] == "restored" and beat["interval_seconds"] == 10 and beat["timeout_seconds"] == 30
    assert acd.agent_row("a").status == "available"
    assert [(c.to_status, c.reason) for c in _history(acd, "a")][-2:] == [("disconnected", "phone_lost"), ("available", "phone_reconnected")]
    acd.call(q)
    assert acd.rung() == ["a"]  # routable again
    acd.driver.leg_status(acd.identity("a"), "busy")  # (declined: back to the queue)

    _last_seen(acd, "a", 40)
    presence_job(acd.registry)
    user_id = acd.users["a"].id

    def six_minutes_ago(r):
        r.db.get(Agent, user_id).disconnected_at -= timedelta(minutes=6)

    acd.driver.run(six_minutes_ago)
    beat = app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered", "page": "p2"}, headers=headers).json
    assert beat["presence_changed"] == "away"
    me = app.get("/api/v1/acd/me").json
    assert me["status_label"] == "離席中" and me["away_reason"] == "電話が切断されていました"
    assert "5分以上" in me["presence_note"]
    # An agent who was away comes back away, with their own reason.
    acd.presence("a", "away", "会議")
    _last_seen(acd, "a", 40)
    presence_job(acd.registry)
    app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered", "page": "p3"}, headers=headers)
    row = acd.agent_row("a")
    assert row.status == "away" and row.away_reason == "会議"
    # Nobody else may set the disconnected status.
    refused = app.put_json("/api/v1/acd/me/presence", {"presence": "disconnected"}, headers=headers, expect_errors=True)
    assert refused.status_int == 422


def test_a_phone_that_drops_while_ringing_sends_the_call_on_to_another_agent(acd):
    from ecti.acd.jobs import presence_job

    acd.agent("a")
    acd.agent("b", available=False)
    q = acd.queue(["a", "b"])
    call_id, _ = acd.call(q)
    assert acd.rung() == ["a"]
    acd.presence("b", "available")
    _last_seen(acd, "a", 31)
    presence_job(acd.registry)
    assert acd.rung() == ["a", "b"]
    acd.fresh()
    offers = acd.db.scalars(select(Offer).where(Offer.call_id == call_id).order_by(Offer.id)).all()
    assert [(o.user_id, o.status) for o in offers] == [(acd.users["a"].id, OfferStatus.failed), (acd.users["b"].id, OfferStatus.ringing)]
    assert acd.agent_row("a").status == "disconnected"


def test_a_reopened_phone_does_not_keep_an_offer_that_rang_the_closed_one(acd):
    acd.agent("a")
    q = acd.queue(["a"])
    app, headers = login(acd, "a")
    app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered", "page": "old"}, headers=headers)
    call_id, _ = acd.call(q)
    assert acd.agent_row("a").status == "ringing"
    # The page is reopened (a new page id) while the old phone's offer still rings: nothing
    # rings on the new one, so that offer ends and the call is offered again.
    app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered", "page": "new"}, headers=headers)
    acd.fresh()
    offers = acd.db.scalars(select(Offer).where(Offer.call_id == call_id).order_by(Offer.id)).all()
    assert offers[0].status is OfferStatus.failed
    assert acd.entry(call_id).status in (EntryStatus.waiting, EntryStatus.offered)


def test_an_unregistered_device_disconnects_and_a_supervisor_choice_waits_for_the_phone(acd):
    acd.agent("a")
    acd.agent("boss", available=False, role="supervisor")
    app, headers = login(acd, "a")
    beat = app.post_json("/api/v1/acd/me/heartbeat", {"device": "unregistered"}, headers=headers).json
    assert beat["presence_changed"] == "disconnected"
    assert acd.agent_row("a").disconnect_reason == "device_unregistered"
    boss, boss_headers = login(acd, "boss")
    boss.put_json(f"/api/v1/acd/agents/{acd.users['a'].id}/presence", {"presence": "away", "reason": "研修"}, headers=boss_headers)
    row = acd.agent_row("a")
    assert row.status == "disconnected" and row.presence_before == "away"
    app.post_json("/api/v1/acd/me/heartbeat", {"device": "registered"}, headers=headers)
    row = acd.agent_row("a")
    assert row.status == "away" and row.away_reason == "研修"


def test_live_update_hints_are_published_after_commit_and_never_for_rolled_back_work(acd):
    from ecti.push import PUBLISHER_KEY, MemoryPublisher

    assert acd.registry[PUBLISHER_KEY] is not None  # the app's own (pg_notify or UDP)
    publisher = acd.registry[PUBLISHER_KEY] = MemoryPublisher()
    acd.agent("a")
    tenant_id, user_id = acd.tenant.id, acd.users["a"].id
    assert (tenant_id, user_id, "agent") in publisher.hints() and (tenant_id, None, "agents") in publisher.hints()
    published = len(publisher.published)

    def fails(r):
        set_presence(r, r.db.get(User, user_id), Presence.away)
        r.db.flush()
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        acd.driver.run(fails)
    assert len(publisher.published) == published
    _last_seen(acd, "a", 1)  # a heartbeat changes nothing anyone sees: no hint
    assert len(publisher.published) == published
    q = acd.queue(["a"])
    acd.call(q)
    assert (tenant_id, None, "queues") in publisher.hints() and publisher.published[-1][1]


def test_push_tokens_name_the_tenant_and_user_and_cannot_be_forged_or_reused_late(acd):
    from ecti.push import make_token, read_token

    token = make_token("secret", tenant_id=3, user_id=7, now=1000)
    assert read_token("secret", token, now=1001) == {"t": 3, "u": 7}
    assert read_token("secret", token, now=1000 + 121) is None
    assert read_token("other", token, now=1001) is None
    body, signature = token.split(".")
    assert read_token("secret", body[:-2] + "xy." + signature, now=1001) is None
    assert read_token("secret", "garbage", now=1001) is None
    acd.agent("a")
    app, headers = login(acd, "a")
    assert app.post("/api/v1/push/token", headers=headers).json == {"enabled": False, "url": None, "token": None, "expires_in": 0}
    acd.registry.settings["ecti.push.url"] = "/push/events"
    grant = app.post("/api/v1/push/token", headers=headers).json
    assert grant["enabled"] and grant["url"] == "http://localhost/push/events"
    assert read_token(acd.registry.settings["ecti.secret_key"], grant["token"]) == {"t": acd.tenant.id, "u": acd.users["a"].id}


def test_an_agent_never_seen_by_a_phone_is_disconnected_from_the_sweep_on_not_from_their_last_change(acd):
    """Agents from before phones had a heartbeat (the migration leaves phone_seen_at empty)."""
    from datetime import timedelta

    from ecti.acd.jobs import presence_job
    from ecti.models.meta import utcnow

    acd.agent("a")
    q = acd.queue(["a"])
    user_id = acd.users["a"].id

    def never_seen(r):
        r.db.get(Agent, user_id).phone_seen_at = None

    acd.driver.run(never_seen)
    acd.call(q)
    assert acd.rung() == []  # no phone, no offer
    before = utcnow()

    def long_ago(r):
        agent = r.db.get(Agent, user_id)
        agent.status_since -= timedelta(minutes=5)
        for change in r.db.scalars(select(AgentStatusChange).where(AgentStatusChange.user_id == user_id)):
            change.at -= timedelta(minutes=5)

    acd.driver.run(long_ago)
    assert presence_job(acd.registry) == [user_id]
    change = _history(acd, "a")[-1]
    assert change.to_status == "disconnected" and change.at >= before
