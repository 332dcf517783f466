"""The ACD end to end: real webhooks from the Twilio simulator, agents' browser phones
registered with real tokens, and the REST calls ECTI makes back (issue 6).

Until the IVR lands, each test registers an ``inbound.start`` handler that sends every call to
``acd.enqueue`` {"queue": id}: it stands in for the IVR's queue node.

ECTI's clock is the wall clock while the simulator's is virtual: what ECTI times itself (max
wait, wrap-up) is moved with the same helpers the ACD's own tests use; what the carrier times
(the agent's ring timeout, the caller's wait loop) runs on ``sim.advance``.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import webtest as wt
from sqlalchemy import select

from ecti.acd.agents import set_presence
from ecti.acd.models import Agent, AgentState, EntryStatus, Offer, OfferStatus, Outcome, Presence, Queue, QueueEntry, QueueMember
from ecti.calls.models import Call, CallEvent, EventKind
from ecti.jobs import in_transaction
from ecti.models.meta import utcnow
from ecti.tenancy.models import User
from ecti.voice import HANDLERS_KEY, INBOUND_ENTRY, dispatch
from ecti_twilio.testing import ACCOUNT_SID

HOLD_TEXT = "ただいま電話が混み合っております。"
EXTERNAL = "+81312345678"  # 03-1234-5678
#: One round of the caller's wait loop, the longest (the first: greeting, position, estimate, hold
#: message and the pause after it).
ROUND = 20


# --- set-up ---------------------------------------------------------------------------------------


@pytest.fixture
def acd(telephony, db, make_user):
    return ACD(telephony, db, make_user)


class ACD:
    def __init__(self, telephony, db, make_user):
        self.t, self.sim, self.db, self._make_user = telephony, telephony.sim, db, make_user
        self.tenant_id = telephony.tenant.id
        self.apps: dict[int, tuple] = {}
        self._entry = None

    # queues and agents
    def queue(self, **settings) -> Queue:
        defaults = dict(name="サポート", overflow={}, hold_audio={"text": HOLD_TEXT}, wrap_up_seconds=0, ring_timeout=20,
                        escalation_seconds=0, announce_seconds=60)
        self.db.rollback()  # a fresh transaction: SQLite lets one writer at a time
        queue = Queue(tenant_id=self.tenant_id, **{**defaults, **settings})
        self.db.add(queue)
        self.db.commit()
        if self._entry is None:
            self.route_inbound_to(queue)
        return queue

    def route_inbound_to(self, queue: Queue) -> None:
        """Stands in for the IVR's queue node: every inbound call goes to ``queue``."""
        queue_id = str(queue.id)

        def start(request, call, args, call_input):
            return dispatch(request, call, "acd.enqueue", {"queue": queue_id}, call_input)

        self._entry = start
        self.t.registry[HANDLERS_KEY][INBOUND_ENTRY] = start

    def agent(self, queue: Queue | None, name: str, *, position: int = 0, level: int = 1, available: bool = True):
        user = self._make_user(self.t.tenant, role="agent", email=f"{name}@tel.example", name=name)
        if queue is not None:
            self.member(queue, user, position=position, level=level)
        device = self.t.softphone(user)
        if available:
            self.presence(user, Presence.available)
        return user, device

    def member(self, queue: Queue, user, *, position: int = 0, level: int = 1) -> None:
        self.db.rollback()
        self.db.add(QueueMember(tenant_id=self.tenant_id, queue_id=queue.id, user_id=user.id, level=level, position=position))
        self.db.commit()

    def presence(self, user, presence: Presence) -> None:
        with in_transaction(self.t.registry, self.tenant_id) as request:
            set_presence(request, request.db.get(User, user.id), presence)
        self.sim.settle()

    # the agent's page (its API)
    def page(self, user):
        if user.id not in self.apps:
            app = wt.TestApp(self.t.app, extra_environ={"HTTP_HOST": self.t.base_url.split("//", 1)[1]})
            form = app.get("/login").forms["login"]
            form["email"], form["password"] = user.email, user.password
            form.submit(status=303)
            self.apps[user.id] = (app, app.get("/api/v1/me").json["csrf_token"])
        return self.apps[user.id]

    def post(self, user, path, body=None, status=200):
        app, csrf = self.page(user)
        response = app.post_json("/api/v1/acd" + path, body or {}, headers={"X-CSRF-Token": csrf}, status=status)
        self.sim.settle()
        return response

    # what the database says
    def fresh(self) -> None:
        self.db.rollback()  # a new snapshot (SQLite keeps a read transaction's)
        self.db.expire_all()

    def agent_row(self, user) -> Agent:
        self.fresh()
        return self.db.scalar(select(Agent).where(Agent.user_id == user.id))

    def state(self, user) -> AgentState:
        return self.agent_row(user).state

    def record(self, handle) -> Call:
        self.fresh()
        return self.db.scalar(select(Call).where(Call.carrier_call_id == handle.sid))

    def events(self, handle, kind: EventKind | None = None) -> list[CallEvent]:
        call = self.record(handle)
        query = select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id)
        found = self.db.scalars(query).all()
        return [e for e in found if kind is None or e.kind is kind]

    def kinds(self, handle) -> list[EventKind]:
        return [e.kind for e in self.events(handle)]

    def entries(self, handle) -> list[QueueEntry]:
        call = self.record(handle)
        return self.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call.id).order_by(QueueEntry.id)).all()

    def age(self, handle, seconds: int) -> None:
        """ECTI's clock: pretend the caller entered the queue ``seconds`` earlier."""
        call_id = self.record(handle).id
        self.db.rollback()
        for entry in self.db.scalars(select(QueueEntry).where(QueueEntry.call_id == call_id)):
            entry.entered_at -= timedelta(seconds=seconds)
        self.db.commit()

    def end_pause(self, user) -> None:
        """ECTI's clock: the short pause after a missed offer is over."""
        self.db.rollback()
        agent = self.db.scalar(select(Agent).where(Agent.user_id == user.id))
        agent.available_at = utcnow() - timedelta(seconds=1)
        self.db.commit()

    def no_errors(self) -> None:
        assert self.sim.errors_for(ACCOUNT_SID) == []


def said(handle) -> str:
    return " ".join(handle.said())


# --- waiting ----------------------------------------------------------------------------------------


def test_a_caller_waits_in_the_queue_hearing_hold_audio_and_the_announcement(acd):
    queue = acd.queue(join_when_empty=True)  # nobody signed in, the caller still waits
    caller = acd.t.dial()
    acd.sim.advance(25)
    text = said(caller)
    assert "お待たせしております" in text or "お待ち" in text, text
    assert "1 番目" in text or "1番目" in text, text
    assert HOLD_TEXT in text
    # once a round with a pause after it, not back to back (25 s: 3 rounds of 2 s + 10 s)
    assert 2 <= caller.said().count(HOLD_TEXT) <= 3
    assert caller.status == "in-progress"
    [entry] = acd.entries(caller)
    assert entry.status is EntryStatus.waiting
    assert acd.kinds(caller)[:2] == [EventKind.started, EventKind.entered_queue]
    acd.no_errors()


def connected_call(acd, **queue_settings):
    """A caller in the queue, answered by agent A; B is a second, free agent of the queue."""
    queue = acd.queue(**queue_settings)
    a, phone_a = acd.agent(queue, "aoki", position=1)
    caller = acd.t.dial()
    assert phone_a.ringing is not None
    phone_a.answer()
    acd.sim.settle()
    return queue, a, phone_a, caller


# --- routing ------------------------------------------------------------------------------------


def test_longest_idle_rings_the_agent_free_for_the_longest(acd):
    queue = acd.queue(strategy="longest_idle")
    a, phone_a = acd.agent(queue, "aoki", position=2)
    b, phone_b = acd.agent(queue, "baba", position=1)  # free since later
    caller = acd.t.dial()
    assert phone_a.ringing is not None and phone_b.ringing is None
    assert phone_a.ringing.from_ == acd.t.number  # a number of the company (Twilio refuses others)
    app, _csrf = acd.page(a)
    assert app.get("/api/v1/acd/me/offer").json["offer"]["caller_number"] == caller.from_  # who calls, on the page
    assert acd.state(a) is AgentState.ringing and acd.state(b) is AgentState.idle
    phone_a.answer()
    assert acd.state(a) is AgentState.on_call
    [connected] = acd.events(caller, EventKind.connected)
    assert connected.data["agent"] == a.id
    assert caller.status == "in-progress" and phone_a.active is not None
    acd.no_errors()


def test_round_robin_rings_the_member_after_the_last_one_offered(acd):
    queue = acd.queue(strategy="round_robin")
    users = [acd.agent(queue, name, position=i) for i, name in enumerate(("aoki", "baba", "chiba"), start=1)]
    acd.db.rollback()
    queue = acd.db.get(Queue, queue.id)
    queue.cursor = 1  # aoki was offered the last call
    acd.db.commit()
    acd.t.dial()
    assert [phone.ringing is not None for _, phone in users] == [False, True, False]
    acd.db.rollback()
    assert acd.db.scalar(select(Queue.cursor).where(Queue.id == queue.id)) == 2
    acd.no_errors()


def test_ring_all_the_first_to_answer_wins_and_the_other_phone_stops(acd):
    queue = acd.queue(strategy="ring_all")
    a, phone_a = acd.agent(queue, "aoki", position=1)
    b, phone_b = acd.agent(queue, "baba", position=2)
    caller = acd.t.dial()
    assert phone_a.ringing is not None and phone_b.ringing is not None
    phone_b.answer()
    assert phone_a.ringing is None  # stopped ringing
    assert acd.state(b) is AgentState.on_call and acd.state(a) is AgentState.idle
    assert [e.data["agent"] for e in acd.events(caller, EventKind.offer_canceled)] == [a.id]
    [connected] = acd.events(caller, EventKind.connected)
    assert connected.data["agent"] == b.id
    assert acd.agent_row(a).missed_in_row == 0  # losing a ring-all race is not a miss
    acd.no_errors()


def test_no_answer_requeues_the_caller_at_its_place_and_offers_the_next_agent(acd):
    queue = acd.queue(strategy="linear", ring_timeout=20)
    a, phone_a = acd.agent(queue, "aoki", position=1)
    b, phone_b = acd.agent(queue, "baba", position=2)
    caller = acd.t.dial()
    [entry] = acd.entries(caller)
    entered = entry.entered_at
    assert phone_a.ringing is not None and phone_b.ringing is None
    acd.sim.advance(21)  # aoki's phone rings past the ring timeout
    assert phone_a.ringing is None
    assert phone_b.ringing is not None
    [missed] = acd.events(caller, EventKind.no_answer)
    assert (missed.data["agent"], missed.data["reason"]) == (a.id, "no_answer")
    [entry] = acd.entries(caller)
    assert entry.entered_at == entered and entry.missed_offers == 1
    assert acd.agent_row(a).missed_in_row == 1 and acd.state(a) is AgentState.idle
    phone_b.answer()
    assert acd.state(b) is AgentState.on_call
    assert caller.status == "in-progress"
    acd.no_errors()


def test_a_declined_call_goes_to_the_next_agent(acd):
    queue = acd.queue(strategy="linear")
    a, phone_a = acd.agent(queue, "aoki", position=1)
    b, phone_b = acd.agent(queue, "baba", position=2)
    caller = acd.t.dial()
    phone_a.decline()
    acd.sim.settle()
    assert phone_b.ringing is not None
    [missed] = acd.events(caller, EventKind.no_answer)
    assert (missed.data["agent"], missed.data["reason"]) == (a.id, "declined")
    assert acd.state(a) is AgentState.idle and acd.state(b) is AgentState.ringing
    acd.no_errors()


# --- leaving the queue without an agent ------------------------------------------------------


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_with_the_wait_time(acd):
    acd.queue(join_when_empty=True)
    caller = acd.t.dial()
    acd.age(caller, 45)
    caller.hangup()
    acd.sim.settle()
    [abandoned] = acd.events(caller, EventKind.abandoned)
    assert abandoned.data["wait_seconds"] >= 45 and abandoned.data["position"] == 1
    [entry] = acd.entries(caller)
    assert (entry.status, entry.outcome) == (EntryStatus.ended, Outcome.abandoned)
    acd.no_errors()


def test_max_wait_sends_the_caller_to_the_overflow(acd):
    phone = acd.sim.phone(EXTERNAL)
    phone.behaviour = "answer"
    acd.queue(join_when_empty=True, max_wait_seconds=60, overflow={"kind": "number", "target": "03-1234-5678"})
    caller = acd.t.dial()
    acd.age(caller, 61)
    acd.sim.advance(ROUND)  # the next round of the wait loop sees the maximum passed
    assert phone.active is not None and phone.active.from_ == acd.t.number
    assert "おつなぎします" in said(caller) or "転送" in said(caller), said(caller)
    kinds = acd.kinds(caller)
    assert EventKind.timed_out in kinds and EventKind.overflowed in kinds
    [overflowed] = acd.events(caller, EventKind.overflowed)
    assert (overflowed.data["reason"], overflowed.data["target_kind"]) == ("max_wait", "number")
    [entry] = acd.entries(caller)
    assert entry.outcome is Outcome.timed_out
    acd.no_errors()


def test_a_full_queue_sends_the_next_caller_to_the_overflow(acd):
    acd.queue(join_when_empty=True, max_length=1)
    first = acd.t.dial()
    second = acd.t.dial(from_="+819033334444")
    assert first.status == "in-progress"
    assert "ただいま大変混み合って" in said(second) or "混み合って" in said(second), said(second)
    assert second.status == "completed"
    [overflowed] = acd.events(second, EventKind.overflowed)
    assert overflowed.data["reason"] == "queue_full"
    acd.no_errors()


def test_with_nobody_signed_in_the_caller_hears_an_apology(acd):
    queue = acd.queue()
    acd.agent(queue, "aoki", available=False)  # a member, signed off
    caller = acd.t.dial()
    assert caller.status == "completed"
    assert "ただいま" in said(caller), said(caller)
    [overflowed] = acd.events(caller, EventKind.overflowed)
    assert overflowed.data["reason"] == "no_agents"
    acd.no_errors()


# --- after the call -------------------------------------------------------------------------


def test_wrap_up_then_available_again(acd):
    queue, a, phone_a, caller = connected_call(acd, wrap_up_seconds=30)
    second = acd.t.dial(from_="+819033334444")
    assert phone_a.ringing is None  # busy with the first caller
    acd.post(a, "/me/call/hangup")
    assert caller.status == "completed" and phone_a.active is None
    assert acd.state(a) is AgentState.wrap_up
    assert phone_a.ringing is None  # no call during wrap-up
    [done] = acd.events(caller, EventKind.queue_completed)
    assert done.data["by"] == "agent"
    acd.post(a, "/me/wrap-up/end")
    assert phone_a.ringing is not None and acd.state(a) is AgentState.ringing
    phone_a.answer()
    assert [e.data["agent"] for e in acd.events(second, EventKind.connected)] == [a.id]
    acd.no_errors()


def test_the_caller_hanging_up_ends_the_agents_leg(acd):
    queue, a, phone_a, caller = connected_call(acd)
    caller.hangup()
    acd.sim.settle()
    assert phone_a.active is None
    [done] = acd.events(caller, EventKind.queue_completed)
    assert done.data["by"] == "caller"
    assert acd.state(a) is AgentState.idle
    acd.no_errors()


# --- hold and transfer ------------------------------------------------------------------------


def test_hold_plays_hold_audio_to_the_caller_and_resume_takes_them_back(acd):
    queue, a, phone_a, caller = connected_call(acd)
    before = len(caller.heard)
    acd.post(a, "/me/call/hold")
    acd.sim.advance(30)
    on_hold = [h.get("text") for h in caller.heard[before:]]
    assert on_hold.count(HOLD_TEXT) >= 2  # the hold audio goes on while the caller is held
    acd.post(a, "/me/call/resume")
    resumed = len(caller.heard)
    acd.sim.advance(30)
    assert caller.heard[resumed:] == []  # back with the agent: no more hold audio
    kinds = acd.kinds(caller)
    assert EventKind.held in kinds and EventKind.resumed in kinds
    assert caller.status == "in-progress" and phone_a.active is not None
    acd.no_errors()


def test_a_warm_transfer_completes_when_the_second_agent_answers(acd):
    queue, a, phone_a, caller = connected_call(acd)
    b, phone_b = acd.agent(None, "baba")
    acd.post(a, "/me/call/transfer", {"kind": "agent", "agent_id": b.id})
    assert phone_b.ringing is not None
    assert phone_a.active is not None  # A stays with the caller while B rings
    phone_b.answer()
    acd.sim.settle()
    assert phone_a.active is None and phone_b.active is not None
    assert caller.status == "in-progress"
    assert acd.state(b) is AgentState.on_call and acd.state(a) is not AgentState.on_call
    [moved] = acd.events(caller, EventKind.transferred)
    assert (moved.data["to_kind"], moved.data["agent"], moved.data["from_agent"]) == ("agent", b.id, a.id)
    caller.hangup()
    acd.sim.settle()
    assert phone_b.active is None and acd.state(b) is not AgentState.on_call
    acd.no_errors()


def test_a_warm_transfer_nobody_answers_stays_with_the_first_agent(acd):
    queue, a, phone_a, caller = connected_call(acd, ring_timeout=20)
    b, phone_b = acd.agent(None, "baba")
    acd.post(a, "/me/call/transfer", {"kind": "agent", "agent_id": b.id})
    acd.sim.advance(21)
    assert phone_b.ringing is None
    assert phone_a.active is not None and caller.status == "in-progress"
    assert acd.state(a) is AgentState.on_call and acd.state(b) is AgentState.idle
    assert acd.events(caller, EventKind.transferred) == []
    [missed] = acd.events(caller, EventKind.no_answer)
    assert missed.data["agent"] == b.id
    acd.no_errors()


def test_a_blind_transfer_to_another_queue_rings_its_agent(acd):
    queue, a, phone_a, caller = connected_call(acd, wrap_up_seconds=30)
    billing = Queue(tenant_id=acd.tenant_id, name="請求", overflow={}, hold_audio={}, wrap_up_seconds=0, escalation_seconds=0)
    acd.db.add(billing)
    acd.db.commit()
    c, phone_c = acd.agent(billing, "chiba")
    acd.post(a, "/me/call/transfer", {"kind": "queue", "queue_id": billing.id})
    assert phone_a.active is None and acd.state(a) is AgentState.wrap_up
    assert phone_c.ringing is not None
    phone_c.answer()
    assert caller.status == "in-progress" and acd.state(c) is AgentState.on_call
    first, second = acd.entries(caller)
    assert (first.outcome, second.queue_id, second.status) == (Outcome.transferred, billing.id, EntryStatus.connected)
    acd.no_errors()


def test_a_blind_transfer_to_an_external_number(acd):
    phone = acd.sim.phone(EXTERNAL)
    phone.behaviour = "answer"
    queue, a, phone_a, caller = connected_call(acd)
    acd.post(a, "/me/call/transfer", {"kind": "number", "number": "03-1234-5678"})
    assert phone_a.active is None
    assert phone.active is not None and phone.active.from_ == acd.t.number
    assert caller.status == "in-progress"
    [moved] = acd.events(caller, EventKind.transferred)
    assert (moved.data["to_kind"], moved.data["to"]) == ("number", EXTERNAL)
    acd.no_errors()


# --- more of what agents and callers do ---------------------------------------------------------


def test_the_agent_hanging_up_the_phone_ends_the_call_and_starts_wrap_up(acd):
    queue, a, phone_a, caller = connected_call(acd, wrap_up_seconds=30)
    phone_a.hangup()
    acd.sim.settle()
    assert caller.status == "completed"
    assert acd.state(a) is AgentState.wrap_up
    [done] = acd.events(caller, EventKind.queue_completed)
    assert done.data["by"] == "agent"
    [entry] = acd.entries(caller)
    assert (entry.status, entry.outcome) == (EntryStatus.ended, Outcome.completed)
    acd.no_errors()


def test_a_caller_who_hangs_up_while_the_agent_rings_stops_the_phone(acd):
    queue = acd.queue()
    a, phone_a = acd.agent(queue, "aoki")
    caller = acd.t.dial()
    assert phone_a.ringing is not None
    caller.hangup()
    acd.sim.settle()
    assert phone_a.ringing is None and phone_a.active is None
    assert acd.state(a) is AgentState.idle and acd.agent_row(a).missed_in_row == 0
    kinds = acd.kinds(caller)
    assert EventKind.offer_canceled in kinds and EventKind.abandoned in kinds
    acd.no_errors()


def test_declining_on_the_page_stops_the_phone_and_offers_the_next_agent(acd):
    queue = acd.queue(strategy="linear")
    a, phone_a = acd.agent(queue, "aoki", position=1)
    b, phone_b = acd.agent(queue, "baba", position=2)
    caller = acd.t.dial()
    acd.post(a, "/me/offer/decline")
    assert phone_a.ringing is None
    assert phone_b.ringing is not None
    phone_b.answer()
    assert [e.data["agent"] for e in acd.events(caller, EventKind.connected)] == [b.id]
    acd.no_errors()


def test_with_nobody_signed_in_the_caller_overflows_to_another_queue(acd):
    queue = acd.queue()
    acd.agent(queue, "aoki", available=False)
    backup = Queue(tenant_id=acd.tenant_id, name="バックアップ", overflow={}, hold_audio={}, wrap_up_seconds=0, escalation_seconds=0)
    acd.db.add(backup)
    acd.db.commit()
    acd.db.rollback()
    acd.db.get(Queue, queue.id).overflow = {"kind": "queue", "target": str(backup.id)}
    acd.db.commit()
    c, phone_c = acd.agent(backup, "chiba")
    caller = acd.t.dial()
    assert phone_c.ringing is not None
    phone_c.answer()
    assert caller.status == "in-progress" and acd.state(c) is AgentState.on_call
    [overflowed] = acd.events(caller, EventKind.overflowed)
    assert (overflowed.data["reason"], overflowed.data["target_kind"]) == ("no_agents", "queue")
    acd.no_errors()


def test_canceling_a_warm_transfer_stops_the_second_phone(acd):
    queue, a, phone_a, caller = connected_call(acd)
    b, phone_b = acd.agent(None, "baba")
    acd.post(a, "/me/call/transfer", {"kind": "agent", "agent_id": b.id})
    assert phone_b.ringing is not None
    acd.post(a, "/me/call/transfer/cancel")
    assert phone_b.ringing is None
    assert phone_a.active is not None and caller.status == "in-progress"
    assert acd.state(a) is AgentState.on_call and acd.state(b) is AgentState.idle
    acd.no_errors()


def test_when_the_last_agent_signs_off_waiting_callers_go_to_the_overflow(acd):
    queue = acd.queue(leave_when_empty=True)
    a, phone_a = acd.agent(queue, "aoki", available=False)
    acd.presence(a, Presence.away)  # signed in, not taking calls: the caller may wait
    caller = acd.t.dial()
    assert caller.status == "in-progress"
    acd.presence(a, Presence.offline)
    assert caller.status == "completed"
    assert "ただいま" in said(caller)
    kinds = acd.kinds(caller)
    assert EventKind.exit_empty in kinds and EventKind.overflowed in kinds
    acd.no_errors()


def test_an_agent_who_misses_too_many_calls_is_set_away(acd):
    queue = acd.queue(max_no_answers=2, ring_timeout=20)
    a, phone_a = acd.agent(queue, "aoki")
    caller = acd.t.dial()
    acd.sim.advance(21)
    assert acd.agent_row(a).missed_in_row == 1 and phone_a.ringing is None
    acd.end_pause(a)
    acd.sim.advance(ROUND)  # the caller's next wait round routes again
    assert phone_a.ringing is not None
    acd.sim.advance(21)
    row = acd.agent_row(a)
    assert (row.presence, row.away_reason) == (Presence.away, "no_answer")
    assert caller.status == "in-progress"  # still waiting for somebody
    acd.no_errors()


def test_the_reconciler_asks_twilio_about_a_caller_whose_hang_up_was_never_reported(acd):
    from ecti.acd.jobs import reconcile

    acd.queue(join_when_empty=True)
    caller = acd.t.dial()
    acd.sim.calls[caller.sid].status_callback = ""  # the completed callback is lost
    caller.hangup()
    acd.sim.settle()
    [entry] = acd.entries(caller)
    assert entry.status is EntryStatus.waiting  # ECTI still thinks the caller waits
    acd.age(caller, 180)
    repairs = reconcile(acd.t.registry, acd.tenant_id)
    assert repairs == [f"{caller.sid}:completed"]
    [entry] = acd.entries(caller)
    assert (entry.status, entry.outcome) == (EntryStatus.ended, Outcome.abandoned)
    kinds = acd.kinds(caller)
    assert EventKind.reconciled in kinds and EventKind.abandoned in kinds
    acd.no_errors()


def test_a_warm_transfer_from_hold_takes_the_caller_off_hold_with_the_second_agent(acd):
    queue, a, phone_a, caller = connected_call(acd)
    b, phone_b = acd.agent(None, "baba")
    acd.post(a, "/me/call/hold")
    acd.post(a, "/me/call/transfer", {"kind": "agent", "agent_id": b.id})
    phone_b.answer()
    acd.sim.settle()
    assert phone_a.active is None and phone_b.active is not None
    after = len(caller.heard)
    acd.sim.advance(30)
    assert caller.heard[after:] == []  # no hold audio: talking with B
    [entry] = acd.entries(caller)
    assert entry.on_hold is False and entry.agent_user_id == b.id
    acd.no_errors()


def test_ring_all_one_agent_declining_leaves_the_other_ringing(acd):
    queue = acd.queue(strategy="ring_all")
    a, phone_a = acd.agent(queue, "aoki", position=1)
    b, phone_b = acd.agent(queue, "baba", position=2)
    caller = acd.t.dial()
    phone_a.decline()
    acd.sim.settle()
    assert phone_a.ringing is None and phone_b.ringing is not None
    [entry] = acd.entries(caller)
    assert entry.status is EntryStatus.offered
    phone_b.answer()
    assert [e.data["agent"] for e in acd.events(caller, EventKind.connected)] == [b.id]
    acd.no_errors()


def test_a_missed_call_keeps_its_place_ahead_of_later_callers(acd):
    queue = acd.queue(ring_timeout=20)
    a, phone_a = acd.agent(queue, "aoki")
    first = acd.t.dial()
    second = acd.t.dial(from_="+819033334444")
    acd.sim.advance(21)  # aoki misses the first caller
    assert acd.entries(first)[0].status is EntryStatus.waiting
    acd.end_pause(a)
    acd.sim.advance(ROUND)  # the next wait round routes again
    assert phone_a.ringing is not None
    phone_a.answer()
    assert [e.data["agent"] for e in acd.events(first, EventKind.connected)] == [a.id]
    assert acd.events(second, EventKind.offered) == []
    assert acd.entries(second)[0].status is EntryStatus.waiting
    acd.no_errors()


# --- the carrier pool (issue 21): ringing off the webhook's response path ----------------------


def _until(condition, what: str, ceiling: float = 30.0):
    """Wait for ``condition()`` (the pool's thread talks to the simulator); the ceiling only
    ends a broken run."""
    import time

    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def _pooled(acd):
    acd.t.registry.settings["ecti.carrier.threads"] = "2"  # read when the first ring is handed over


def test_on_the_carrier_pool_the_agent_rings_once_and_answers(acd):
    _pooled(acd)
    queue = acd.queue()
    a, phone_a = acd.agent(queue, "aoki")
    caller = acd.t.dial()
    _until(lambda: phone_a.ringing is not None, "the agent's phone rings")
    _until(lambda: (acd.fresh(), acd.db.scalar(select(Offer.leg_id)))[1] is not None, "the leg is remembered")
    assert len([r for r in acd.sim.rest_requests if r["method"] == "POST" and r["path"].endswith("/Calls.json")]) == 1
    phone_a.answer()
    _until(lambda: acd.state(a) is AgentState.on_call, "the agent is on the call")
    assert caller.status == "in-progress"
    acd.no_errors()


def test_on_the_carrier_pool_a_caller_leaving_while_the_leg_is_created_stops_the_phone(acd):
    _pooled(acd)
    acd.sim.rest_latency = 0.2  # the caller hangs up before the carrier said which leg rings
    queue = acd.queue()
    a, phone_a = acd.agent(queue, "aoki")
    caller = acd.t.dial()
    caller.hangup()
    acd.sim.settle()
    _until(lambda: (acd.fresh(), acd.db.scalar(select(Offer.leg_id)))[1] is not None, "the leg is remembered")
    _until(lambda: phone_a.ringing is None and phone_a.active is None, "the phone stops")
    _until(lambda: acd.state(a) is AgentState.idle, "the agent is free")
    assert EventKind.abandoned in acd.kinds(caller)
    acd.no_errors()
