"""Queued callback end to end through the Twilio simulator (issue 24): real webhooks, agents'
browser phones, and the REST call ECTI places to the customer.

ECTI's clock is the wall clock, the simulator's is virtual: the retry delay ECTI keeps
(``callback_due_at``) is moved like the ACD tests move waits; the carrier's ring timeout runs on
``sim.advance``.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ecti.acd.models import EntryStatus, Outcome, QueueEntry
from ecti.acd.routing import route_tenant
from ecti.calls.models import Call, EventKind
from ecti.jobs import run_with_retry
from ecti.models.meta import utcnow
from ecti_twilio.testing import CALLER

from .test_acd_e2e import acd, said  # noqa: F401  (the fixture)

OTHER = "+819033334444"


def ask_for_callback(acd, caller):
    acd.sim.settle()
    assert "9" in said(caller), said(caller)  # the offer, after the estimated wait
    caller.press("9")
    acd.sim.settle()
    assert caller.status == "completed"  # a confirmation, then the line ends
    [entry] = acd.entries(caller)
    assert entry.callback_number == CALLER and entry.status is EntryStatus.waiting
    return entry


def test_position_3_is_called_back_and_connected_then_the_others_were_served_first(acd):
    queue = acd.queue(join_when_empty=True, callback_enabled=True, callback_key="9")
    a, phone_a = acd.agent(queue, "aoki", position=1, available=False)
    b, phone_b = acd.agent(queue, "baba", position=2, available=False)
    first, second = acd.t.dial(from_="+819000000001"), acd.t.dial(from_="+819000000002")
    for handle in (first, second):
        acd.sim.settle()
        handle.silence()  # they stay on the line
    acd.sim.settle()
    caller = acd.t.dial(from_=CALLER)
    entry = ask_for_callback(acd, caller)
    [requested] = acd.events(caller, EventKind.callback_requested)
    assert requested.data["position"] == 3
    customer = acd.sim.phone(CALLER)
    customer.behaviour = "answer"

    from ecti.acd.models import Presence

    acd.presence(a, Presence.available)
    phone_a.ringing.answer()
    acd.presence(b, Presence.available)
    phone_b.ringing.answer()
    acd.sim.settle()
    assert [e.status for e in acd.entries(first) + acd.entries(second)] == [EntryStatus.connected] * 2
    first.hangup()  # aoki's first call ends; the next offer is the callback
    acd.sim.settle()
    assert phone_a.ringing is not None
    phone_a.ringing.answer()
    acd.sim.settle()
    assert customer.active is not None and customer.active.from_ == acd.t.number
    assert acd.events(caller, EventKind.callback_reached)
    acd.fresh()
    leg = acd.db.scalar(select(Call).where(Call.parent_call_id == entry.call_id))
    assert leg is not None and leg.to_number == CALLER
    customer.active.hangup()
    acd.sim.settle()
    acd.fresh()
    done = acd.db.get(QueueEntry, entry.id)
    assert done.status is EntryStatus.ended and done.outcome is Outcome.completed
    acd.no_errors()


def test_a_customer_who_does_not_answer_is_called_again_after_the_delay(acd):
    queue = acd.queue(join_when_empty=True, callback_enabled=True, callback_retry_seconds=300, callback_attempts=2)
    a, phone_a = acd.agent(queue, "aoki", position=1, available=False)
    caller = acd.t.dial(from_=CALLER)
    entry = ask_for_callback(acd, caller)
    customer = acd.sim.phone(CALLER)
    customer.behaviour = "no-answer"

    from ecti.acd.models import Presence

    acd.presence(a, Presence.available)
    phone_a.ringing.answer()
    acd.sim.settle()
    assert customer.ringing is not None
    acd.sim.advance(31)  # the carrier's ring timeout for the customer
    acd.fresh()
    waiting = acd.db.get(QueueEntry, entry.id)
    assert waiting.status is EntryStatus.waiting and waiting.callback_attempts == 1
    assert phone_a.active is None  # the agent's leg ended
    # The delay passes on ECTI's clock; the routing job offers the callback again.
    acd.db.execute(update(QueueEntry).where(QueueEntry.id == entry.id).values(callback_due_at=utcnow() - timedelta(seconds=1)))
    acd.db.commit()
    acd.end_pause(a)
    run_with_retry(acd.t.registry, acd.tenant_id, route_tenant)
    acd.sim.settle()
    customer.behaviour = "answer"
    phone_a.ringing.answer()
    acd.sim.settle()
    assert customer.active is not None
    assert len(acd.events(caller, EventKind.callback_dialed)) == 2
    acd.no_errors()


def test_the_wait_loop_offers_the_callback_again_at_the_announcement_and_the_place_is_kept(acd):
    queue = acd.queue(join_when_empty=True, callback_enabled=True, announce_seconds=60)
    ahead = acd.t.dial(from_="+819000000001")
    acd.sim.settle()
    ahead.silence()
    caller = acd.t.dial(from_=CALLER)
    acd.sim.settle()
    caller.silence()  # stays on the line at the first offer
    acd.sim.settle()
    [entry] = acd.entries(caller)
    entered = entry.entered_at
    before = said(caller).count("9")
    acd.db.rollback()
    acd.db.execute(update(QueueEntry).where(QueueEntry.id == entry.id).values(last_announced_at=utcnow() - timedelta(seconds=61)))
    acd.db.commit()
    acd.sim.advance(13)  # the next round of the wait loop (a 10 s round): out of the conference, the offer
    assert said(caller).count("9") > before, said(caller)  # the offer again
    caller.press("9")
    acd.sim.settle()
    assert caller.status == "completed"
    acd.fresh()
    entry = acd.db.get(QueueEntry, entry.id)
    assert entry.callback_number == CALLER and entry.entered_at == entered and entry.status is EntryStatus.waiting
    [requested] = acd.events(caller, EventKind.callback_requested)
    assert requested.data["position"] == 2
    acd.no_errors()
