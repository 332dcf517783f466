"""Queued callback (issue 24, part 2) at the carrier boundary, on SQLite and PostgreSQL.

A waiting caller presses the queue's key to be called back and hangs up; the entry keeps its
place; when it reaches the front an agent is offered the callback, and on answering the
customer is called from the number they called, joining the agent; an unanswered callback is
tried again after the queue's delay (a job at that time), within the calling hours.
"""
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ecti.acd.models import EntryStatus, Outcome, QueueEntry
from ecti.calls.models import Call, EventKind
from ecti.models.meta import utcnow
from ecti.voice.instructions import CallInput, Conference, Gather, Hangup

from .test_acd import acd, spoken  # noqa: F401  (the fixture)

CUSTOMER = "+819011112222"


def press(acd, call_id, digits):
    entry = acd.entry(call_id)
    return acd.driver.step(call_id, "acd.callback_choice", {"entry": entry.id}, CallInput(digits=digits))


def three_callers(acd, **options):
    acd.agent("sato", available=False)
    acd.agent("suzuki", available=False)
    q = acd.queue(["sato", "suzuki"], callback_enabled=True, callback_key="9", callback_retry_seconds=300, callback_attempts=2,
                  join_when_empty=True, **options)
    calls = []
    for number in ("+819000000001", "+819000000002", CUSTOMER):
        calls.append(acd.call(q, number))
    return q, calls


def test_the_offer_follows_the_estimated_wait_and_a_caller_who_stays_joins_the_conference(acd):
    q, calls = three_callers(acd)
    call_id, first = calls[2]
    assert isinstance(first[0], Gather) and first[0].next.handler == "acd.callback_choice"
    said = spoken(first[0].prompts)
    assert "3" in said and "9" in said
    stays = press(acd, call_id, "")
    assert isinstance(stays[0], Conference) and stays[0].name == f"call-{call_id}"
    assert acd.entry(call_id).callback_number is None


def test_position_3_asks_for_a_callback_and_is_the_third_offer(acd):
    q, calls = three_callers(acd)
    (c1, _), (c2, _), (c3, _) = calls
    for call_id, _ in calls[:2]:
        press(acd, call_id, "")
    entered = acd.entry(c3).entered_at
    out = press(acd, c3, "9")
    assert isinstance(out[-1], Hangup)
    entry = acd.entry(c3)
    assert entry.callback_number == CUSTOMER and entry.status is EntryStatus.waiting and entry.entered_at == entered
    assert acd.event(c3, EventKind.callback_requested)[0].data["position"] == 3
    acd.driver.caller_hangs_up(c3)
    assert acd.entry(c3).status is EntryStatus.waiting  # not abandoned: the place is kept

    # Agents answer the two ahead; the third offer is the callback.
    acd.presence("sato", "available")
    acd.driver.answer(acd.identity("sato"))
    acd.presence("suzuki", "available")
    acd.driver.answer(acd.identity("suzuki"))
    assert acd.entry(c1).status is EntryStatus.connected and acd.entry(c2).status is EntryStatus.connected
    acd.driver.leg_status(acd.identity("sato"), "completed")  # sato's call ends; no wrap-up in this queue
    assert acd.entry(c3).status is EntryStatus.offered
    leg = acd.driver.leg_for(acd.identity("sato"))
    assert acd.carrier.legs[leg]["answer"].handler == "acd.callback_agent"

    # On answering, the customer is called from the number they called, and connected.
    heard = acd.driver.answer(acd.identity("sato"))
    assert CUSTOMER in spoken(heard) and heard[-1] == Conference(f"call-{c3}", start_on_enter=True, end_on_exit=True)
    assert acd.carrier.ops("dial_number") == [("dial_number", CUSTOMER, acd.driver.number)]
    acd.fresh()
    leg_call = acd.db.scalar(select(Call).where(Call.parent_call_id == c3))
    assert leg_call.to_number == CUSTOMER and leg_call.from_number == acd.driver.number
    joined = acd.driver.answer(CUSTOMER)
    assert joined[-1] == Conference(f"call-{c3}", start_on_enter=True, end_on_exit=True)
    assert acd.event(c3, EventKind.callback_reached)
    acd.driver.leg_status(CUSTOMER, "completed")
    entry = acd.entry(c3)
    assert entry.status is EntryStatus.ended and entry.outcome is Outcome.completed and entry.ended_by == "caller"
    assert acd.agent_row("sato").state.value == "idle"
    # One contact in the call list: the callback leg points at the call that asked for it.
    acd.fresh()
    assert acd.db.get(Call, leg_call.id).parent_call_id == c3
    page = calls_app(acd).get(f"/calls/{c3}").text
    assert f"/calls/{leg_call.id}" in page
    listing = calls_app(acd).get("/api/v1/calls").json
    legs = [x for x in listing["calls"] if x["parent_call_id"] == c3]
    assert len(legs) == 1 and legs[0]["direction"] == "outbound" and legs[0]["outcome"] == "answered"
    figures = report_of(acd, q)
    assert (figures.callbacks_requested, figures.callbacks_made, figures.callbacks_reached) == (1, 1, 1)
    assert figures.offered == 3 and figures.answered == 3 and figures.reconciles


def calls_app(acd):
    from .test_acd import login

    if "admin" not in acd.users:
        acd.agent("admin", available=False, role="admin")
    return login(acd, "admin")[0]


def report_of(acd, q):
    from ecti.reports.periods import parse_period
    from ecti.reports.queries import queue_report

    acd.fresh()
    period = parse_period({"preset": "today"}, ZoneInfo("Asia/Tokyo"))
    return queue_report(acd.db, acd.tenant.id, period).total(q.id)


def test_an_unanswered_callback_is_retried_after_the_delay_then_given_up(acd):
    acd.agent("sato", available=False)
    q = acd.queue(["sato"], callback_enabled=True, callback_retry_seconds=300, callback_attempts=2, join_when_empty=True)
    c, _ = acd.call(q, CUSTOMER)
    press(acd, c, "9")
    acd.driver.caller_hangs_up(c)
    acd.presence("sato", "available")
    acd.driver.answer(acd.identity("sato"))
    acd.driver.leg_status(CUSTOMER, "no-answer")
    entry = acd.entry(c)
    assert entry.status is EntryStatus.waiting and entry.callback_attempts == 1
    assert entry.callback_due_at is not None
    assert acd.agent_row("sato").state.value == "idle"
    acd.driver.leg_status(acd.identity("sato"), "completed")  # the agent's leg ended by ECTI
    assert acd.entry(c).status is EntryStatus.waiting
    # Before the delay nothing is offered; the retry job at that time offers it again.
    from ecti.acd.routing import route_tenant

    acd.driver.end_pause(acd.users["sato"].id)
    acd.driver.run(route_tenant)
    assert acd.entry(c).status is EntryStatus.waiting and len(acd.carrier.ops("dial_agent")) == 1
    # The delay passes (the clock moved: the due time is now past): the retry is offered.
    assert timedelta(seconds=290) < entry.callback_due_at - utcnow() <= timedelta(seconds=300)
    acd.driver.run(lambda r: r.db.execute(update(QueueEntry).where(QueueEntry.call_id == c)
                                          .values(callback_due_at=utcnow() - timedelta(seconds=1))))
    acd.driver.run(route_tenant)
    assert acd.entry(c).status is EntryStatus.offered
    acd.driver.answer(acd.identity("sato"))
    assert len(acd.carrier.ops("dial_number")) == 2
    acd.driver.leg_status(CUSTOMER, "busy")
    entry = acd.entry(c)
    assert entry.status is EntryStatus.ended and entry.outcome is Outcome.callback_failed
    assert acd.event(c, EventKind.callback_no_answer)[-1].data["gave_up"] is True
    figures = report_of(acd, q)
    assert (figures.callbacks_requested, figures.callbacks_made, figures.callbacks_reached) == (1, 2, 0)
    assert figures.abandoned == 1 and figures.answered == 0 and figures.reconciles


def test_a_callback_outside_the_calling_hours_waits_for_them(acd):
    from ecti.ivr.models import Schedule

    schedule = Schedule(tenant_id=acd.tenant.id, name="営業時間", weekly={}, calendars=[])
    acd.db.add(schedule)
    acd.db.commit()
    acd.agent("sato", available=False)
    q = acd.queue(["sato"], callback_enabled=True, join_when_empty=True, callback_schedule_id=schedule.id)
    c, _ = acd.call(q, CUSTOMER)
    press(acd, c, "9")
    acd.driver.caller_hangs_up(c)
    acd.presence("sato", "available")
    assert acd.entry(c).status is EntryStatus.waiting and acd.carrier.ops("dial_agent") == []
    acd.fresh()
    days = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    acd.db.execute(update(Schedule).where(Schedule.id == schedule.id).values(weekly=days))
    acd.db.commit()
    from ecti.acd.routing import route_tenant

    acd.driver.run(route_tenant)
    assert acd.entry(c).status is EntryStatus.offered


def test_the_wallboard_shows_callbacks_waiting(acd):
    from ecti.reports.periods import parse_period
    from ecti.reports.queries import wallboard

    acd.agent("sato", available=False)
    q = acd.queue(["sato"], callback_enabled=True, join_when_empty=True)
    c, _ = acd.call(q, CUSTOMER)
    press(acd, c, "9")
    acd.call(q, "+819000000009")
    acd.fresh()
    board = wallboard(acd.db, acd.tenant.id, parse_period({"preset": "today"}, ZoneInfo("Asia/Tokyo")))
    tile = next(t for t in board.queues if t.id == q.id)
    assert tile.waiting == 2 and tile.callbacks_waiting == 1


def test_a_key_when_callbacks_are_off_and_a_withheld_number_change_nothing(acd):
    acd.agent("sato", available=False)
    q = acd.queue(["sato"], callback_enabled=True, join_when_empty=True)
    withheld, first = acd.call(q, "anonymous")
    assert isinstance(first[0], Conference)  # not offered
    out = press(acd, withheld, "9")
    assert "withheld" in spoken(out) or "通知" in spoken(out)
    assert isinstance(out[-1], Conference) and acd.entry(withheld).callback_number is None
    c, _ = acd.call(q, CUSTOMER)
    acd.fresh()
    acd.db.execute(update(type(q)).where(type(q).id == q.id).values(callback_enabled=False))
    acd.db.commit()
    out = press(acd, c, "9")
    assert isinstance(out[-1], Conference) and acd.entry(c).callback_number is None
    assert acd.event(c, EventKind.callback_requested) == []
    other = press(acd, c, "5")
    assert isinstance(other[-1], Conference)


def test_the_agent_sees_the_offer_is_a_callback_with_the_customers_number(acd):
    from .test_acd import login

    acd.agent("sato", available=False)
    q = acd.queue(["sato"], callback_enabled=True, join_when_empty=True)
    c, _ = acd.call(q, CUSTOMER)
    press(acd, c, "9")
    acd.driver.caller_hangs_up(c)
    app, headers = login(acd, "sato")
    app.put_json("/api/v1/acd/me/presence", {"presence": "available"}, headers=headers)
    offer = app.get("/api/v1/acd/me/offer").json["offer"]
    assert offer["callback"] is True and offer["caller_number"] == CUSTOMER and offer["caller_display"] == "090-1111-2222"
    me = app.post("/api/v1/acd/me/offer/accept", headers=headers).json
    assert me["call"]["callback"] is True and me["call"]["caller_number"] == CUSTOMER
    assert acd.carrier.ops("dial_number") == []  # the customer is called once the agent's phone is in
    acd.driver.answer(acd.identity("sato"))
    assert [op[1] for op in acd.carrier.ops("dial_number")] == [CUSTOMER]


def test_callback_options_are_checked_with_specific_errors_and_nothing_half_saved(api, login, make_tenant, make_user, db):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    queue_id = api.post("/api/v1/acd/queues", json={"name": "サポート"}, headers=headers).json["id"]
    key = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"callback_enabled": True, "callback_key": "A"}, headers=headers)
    assert key.status_int == 422 and key.json["error"]["message"] == "コールバックのキーは 0〜9、* または # のいずれかです。"
    retry = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"callback_enabled": True, "callback_retry_seconds": 5}, headers=headers)
    assert retry.status_int == 422
    hours = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"callback_enabled": True, "callback_schedule_id": 999999}, headers=headers)
    assert hours.status_int == 422 and hours.json["error"]["message"] == "コールバックの時間帯には、自社のスケジュールを選んでください。"
    from ecti.ivr.models import Schedule

    other = make_tenant(slug="other", name="他社")
    theirs = Schedule(tenant_id=other.id, name="他社", weekly={}, calendars=[])
    db.add(theirs)
    db.commit()
    foreign = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"callback_schedule_id": theirs.id}, headers=headers)
    assert foreign.status_int == 422  # another company's schedule is as unknown as a missing one
    assert api.get(f"/api/v1/acd/queues/{queue_id}").json["callback_enabled"] is False  # nothing half-saved
    ok = api.patch(f"/api/v1/acd/queues/{queue_id}", json={"callback_enabled": True, "callback_key": "#", "callback_attempts": 5}, headers=headers)
    assert ok.status_int == 200 and (ok.json["callback_key"], ok.json["callback_attempts"]) == ("#", 5)
