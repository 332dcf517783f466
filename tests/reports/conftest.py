"""A fixed day of a contact center in Asia/Tokyo, written as the ACD and the call flow write it.

Sunday 2026-05-31 (JST), the last day of May; one call crosses midnight into June 1st.
Queues: サポート (service-level threshold 20 s), 営業 (30 s). Agents: 佐藤 (A), 鈴木 (B).

サポート — entries (JST, wait = from entering to answer or leaving):
  E1 00:30:00  rings A 00:30:02, A answers 00:30:10 (wait 10), hold 30 s, caller hangs up 00:35:10
               (00:30:00 JST is still 05-30 in UTC: the day is the tenant's)
  E2 11:00:00  rings B 11:00:01, no answer 11:00:21; rings A 11:00:21, answers 11:00:25 (wait 25),
               ends 11:03:25
  E3 12:00:00  caller hangs up 12:00:03 (abandon, short)
  E4 13:00:00  caller hangs up 13:00:45 (abandon)
  E5 14:00:00  timed out 14:02:00 (max wait), overflow
  E6 15:00:00  queue full: overflowed at once; leaves a voicemail 15:00:30
  E7 23:59:50  rings A 23:59:52, A declines 23:59:55; rings B 23:59:56, B answers 06-01 00:00:05
               (wait 15); B transfers to 営業 at 00:02:05
営業:
  E8 06-01 00:02:05 (the transferred E7 call), still waiting
  E9 06-01 00:00:30 (= 05-31 15:00:30 UTC), left when the last agent logged out 00:01:00 (exit_empty)

Other calls: A's outbound call 05-31 16:00:00, answered 16:00:10, ended 16:01:10; inbound calls
20:00 (hung up in the IVR menu), 21:00 (holiday branch), 22:00 (closed: outside business hours).

Agent status history:
  A: 05-30 23:00 available; ringing 00:30:02, on_call 00:30:10, wrap_up 00:35:10, available 00:35:40;
     ringing 11:00:21, on_call 11:00:25, wrap_up 11:03:25, available 11:03:55; ringing 23:59:52,
     available 23:59:55; 06-01 away 00:10:00, offline 00:20:00
  B: 10:55:00 available; ringing 11:00:01, available 11:00:21; ringing 23:59:56; 06-01 on_call 00:00:05,
     wrap_up 00:02:05, available 00:02:35, offline 00:30:00
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecti.acd.models import AgentStatusChange, EntryStatus, Offer, OfferStatus, Outcome, Queue, QueueEntry
from ecti.calls.models import Call, CallEvent, CallOutcome, CallStatus, Direction, EventKind
from ecti.db import set_tenant_scope

TOKYO = ZoneInfo("Asia/Tokyo")
NUMBER = "+815011112222"


def jst(d, hh, mm=0, ss=0, month=5):
    return datetime(2026, month, d, hh, mm, ss, tzinfo=TOKYO)


@dataclass
class Center:
    tenant_id: int
    support: Queue
    sales: Queue
    a: int
    b: int


class Writer:
    def __init__(self, db, tenant_id):
        self.db, self.tenant_id, self.n = db, tenant_id, 0

    def call(self, started, *, direction=Direction.inbound, user_id=None, answered=None, ended=None, frm="+819012345678", to=NUMBER):
        self.n += 1
        call = Call(tenant_id=self.tenant_id, carrier_call_id=f"CA{self.n:032d}", direction=direction, from_number=frm, to_number=to,
                    status=CallStatus.completed if ended else CallStatus.in_progress, started_at=started, answered_at=answered,
                    ended_at=ended, duration_seconds=int((ended - started).total_seconds()) if ended else None, user_id=user_id)
        if direction is Direction.outbound and answered and ended:
            # The call summary's facts for an outgoing call the called party answered (ecti.calls.summary).
            call.outcome, call.talk_seconds = CallOutcome.answered, int((ended - answered).total_seconds())
        self.db.add(call)
        self.db.flush()
        self.event(call, EventKind.started, started, direction=direction.value)
        return call

    def event(self, call, kind, at, **data):
        self.db.add(CallEvent(tenant_id=self.tenant_id, call_id=call.id, kind=kind, at=at, data=data))

    def step(self, call, at, type_, branch, **data):
        self.event(call, EventKind.flow_step, at, flow=1, node=type_, type=type_, branch=branch, **data)

    def entry(self, call, queue, entered, **kw):
        entry = QueueEntry(tenant_id=self.tenant_id, queue_id=queue.id, call_id=call.id, entered_at=entered, **kw)
        self.db.add(entry)
        self.db.flush()
        self.event(call, EventKind.entered_queue, entered, queue=queue.id, position=1)
        return entry

    def offer(self, entry, user_id, offered, status, *, accepted=None, ended=None, kind="queue"):
        self.db.add(Offer(tenant_id=self.tenant_id, entry_id=entry.id, call_id=entry.call_id, user_id=user_id, status=status, kind=kind,
                          offered_at=offered, expires_at=offered + timedelta(seconds=20), accepted_at=accepted, joined_at=accepted,
                          ended_at=ended or accepted))
        self.event(entry.call, EventKind.offered, offered, queue=entry.queue_id, agent=user_id)

    def statuses(self, user_id, changes):
        previous = "offline"
        for at, status in changes:
            self.db.add(AgentStatusChange(tenant_id=self.tenant_id, user_id=user_id, at=at, from_status=previous, to_status=status))
            previous = status


def write_scenario(db, tenant, a, b) -> Center:
    t = tenant.id
    support = Queue(tenant_id=t, name="サポート", overflow={}, hold_audio={}, service_level_seconds=20)
    sales = Queue(tenant_id=t, name="営業", overflow={}, hold_audio={}, service_level_seconds=30)
    db.add_all([support, sales])
    db.flush()
    w = Writer(db, t)
    ten = timedelta(seconds=10)

    def queued(entered, ended=None):
        call = w.call(entered - ten, answered=entered - ten, ended=ended)
        w.step(call, entered - timedelta(seconds=1), "queue", "queued", queue=support.id)
        return call

    # E1: answered by A after 10 s, 30 s of hold, the caller hangs up.
    c1 = queued(jst(31, 0, 30), jst(31, 0, 35, 10))
    e1 = w.entry(c1, support, jst(31, 0, 30), status=EntryStatus.ended, connected_at=jst(31, 0, 30, 10), ended_at=jst(31, 0, 35, 10),
                 outcome=Outcome.completed, ended_by="caller", agent_user_id=a, hold_seconds=30)
    w.offer(e1, a, jst(31, 0, 30, 2), OfferStatus.ended, accepted=jst(31, 0, 30, 10), ended=jst(31, 0, 35, 10))
    w.event(c1, EventKind.held, jst(31, 0, 32), queue=support.id, agent=a)
    w.event(c1, EventKind.resumed, jst(31, 0, 32, 30), queue=support.id, agent=a)
    w.event(c1, EventKind.queue_completed, jst(31, 0, 35, 10), queue=support.id, by="caller", agent=a)
    # E2: B does not answer, A answers after 25 s.
    c2 = queued(jst(31, 11), jst(31, 11, 3, 25))
    e2 = w.entry(c2, support, jst(31, 11), status=EntryStatus.ended, connected_at=jst(31, 11, 0, 25), ended_at=jst(31, 11, 3, 25),
                 outcome=Outcome.completed, ended_by="agent", agent_user_id=a, missed_offers=1)
    w.offer(e2, b, jst(31, 11, 0, 1), OfferStatus.no_answer, ended=jst(31, 11, 0, 21))
    w.event(c2, EventKind.no_answer, jst(31, 11, 0, 21), queue=support.id, agent=b, reason="no_answer")
    w.offer(e2, a, jst(31, 11, 0, 21), OfferStatus.ended, accepted=jst(31, 11, 0, 25), ended=jst(31, 11, 3, 25))
    # E3, E4: abandoned after 3 s and 45 s.
    for hour, waited in ((12, 3), (13, 45)):
        c = queued(jst(31, hour), jst(31, hour, 0, waited))
        w.entry(c, support, jst(31, hour), status=EntryStatus.ended, ended_at=jst(31, hour, 0, waited), outcome=Outcome.abandoned, ended_by="caller")
        w.event(c, EventKind.abandoned, jst(31, hour, 0, waited), queue=support.id, wait_seconds=waited)
    # E5: timed out after 120 s.
    c5 = queued(jst(31, 14), jst(31, 14, 3))
    w.entry(c5, support, jst(31, 14), status=EntryStatus.ended, ended_at=jst(31, 14, 2), outcome=Outcome.timed_out, ended_by="system")
    w.event(c5, EventKind.timed_out, jst(31, 14, 2), queue=support.id, wait_seconds=120)
    # E6: the queue is full: overflowed at once, to voicemail.
    c6 = queued(jst(31, 15), jst(31, 15, 1))
    w.entry(c6, support, jst(31, 15), status=EntryStatus.ended, ended_at=jst(31, 15), outcome=Outcome.overflowed, ended_by="system")
    w.event(c6, EventKind.overflowed, jst(31, 15), queue=support.id, reason="full")
    w.event(c6, EventKind.voicemail, jst(31, 15, 0, 30), box=1)
    # E7: A declines, B answers after midnight, then transfers the caller to 営業 (E8, waiting).
    c7 = queued(jst(31, 23, 59, 50))
    e7 = w.entry(c7, support, jst(31, 23, 59, 50), status=EntryStatus.ended, connected_at=jst(1, 0, 0, 5, month=6),
                 ended_at=jst(1, 0, 2, 5, month=6), outcome=Outcome.transferred, ended_by="agent", agent_user_id=b)
    w.offer(e7, a, jst(31, 23, 59, 52), OfferStatus.declined, ended=jst(31, 23, 59, 55))
    w.offer(e7, b, jst(31, 23, 59, 56), OfferStatus.ended, accepted=jst(1, 0, 0, 5, month=6), ended=jst(1, 0, 2, 5, month=6))
    w.event(c7, EventKind.transferred, jst(1, 0, 2, 5, month=6), queue=support.id, to_kind="queue", to=str(sales.id))
    w.entry(c7, sales, jst(1, 0, 2, 5, month=6))
    # E9: 営業, June 1st 00:00:30 JST (still May 31 in UTC); left when the last agent logged out.
    c9 = w.call(jst(1, 0, 0, 20, month=6), answered=jst(1, 0, 0, 20, month=6), ended=jst(1, 0, 1, month=6))
    w.entry(c9, sales, jst(1, 0, 0, 30, month=6), status=EntryStatus.ended, ended_at=jst(1, 0, 1, month=6), outcome=Outcome.exit_empty, ended_by="system")
    # A's outbound call.
    w.call(jst(31, 16), direction=Direction.outbound, user_id=a, answered=jst(31, 16, 0, 10), ended=jst(31, 16, 1, 10), frm=NUMBER, to="+81312345678")
    # IVR-only calls: hung up in the menu, a holiday, outside business hours.
    c = w.call(jst(31, 20), answered=jst(31, 20), ended=jst(31, 20, 0, 40))
    w.step(c, jst(31, 20, 0, 1), "schedule", "open", reason="open")
    w.step(c, jst(31, 20, 0, 2), "menu", "prompt")
    c = w.call(jst(31, 21), answered=jst(31, 21), ended=jst(31, 21, 0, 30))
    w.step(c, jst(31, 21, 0, 1), "schedule", "holiday", reason="holiday")
    c = w.call(jst(31, 22), answered=jst(31, 22), ended=jst(31, 22, 0, 30))
    w.step(c, jst(31, 22, 0, 1), "schedule", "closed", reason="outside_hours")
    # Status histories.
    w.statuses(a, [
        (jst(30, 23), "available"),
        (jst(31, 0, 30, 2), "ringing"), (jst(31, 0, 30, 10), "on_call"), (jst(31, 0, 35, 10), "wrap_up"), (jst(31, 0, 35, 40), "available"),
        (jst(31, 11, 0, 21), "ringing"), (jst(31, 11, 0, 25), "on_call"), (jst(31, 11, 3, 25), "wrap_up"), (jst(31, 11, 3, 55), "available"),
        (jst(31, 23, 59, 52), "ringing"), (jst(31, 23, 59, 55), "available"),
        (jst(1, 0, 10, month=6), "away"), (jst(1, 0, 20, month=6), "offline"),
    ])
    w.statuses(b, [
        (jst(31, 10, 55), "available"), (jst(31, 11, 0, 1), "ringing"), (jst(31, 11, 0, 21), "available"),
        (jst(31, 23, 59, 56), "ringing"), (jst(1, 0, 0, 5, month=6), "on_call"), (jst(1, 0, 2, 5, month=6), "wrap_up"),
        (jst(1, 0, 2, 35, month=6), "available"), (jst(1, 0, 30, month=6), "offline"),
    ])
    db.commit()
    return Center(t, support, sales, a, b)


@pytest.fixture
def center(db, make_tenant, make_user):
    """The scenario above, in a company "acme"; "beta" has a queue and a call of its own."""
    tenant = make_tenant()
    a = make_user(tenant, role="agent", email="sato@acme.example", name="佐藤")
    b = make_user(tenant, role="agent", email="suzuki@acme.example", name="鈴木")
    set_tenant_scope(db, tenant.id)
    written = write_scenario(db, tenant, a.id, b.id)
    set_tenant_scope(db, None)
    written.tenant = tenant
    written.users = {"a": a, "b": b}
    return written
