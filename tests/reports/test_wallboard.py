"""The wallboard's figures, colours and formats, and the per-queue thresholds behind its colours
(API, console form), on SQLite and PostgreSQL."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from pyramid.i18n import make_localizer

from ecti.acd.models import EntryStatus, Outcome, Queue, QueueEntry
from ecti.calls.models import Call, CallStatus, Direction
from ecti.db import set_tenant_scope
from ecti.i18n import locale_dirs
from ecti.models.meta import utcnow
from ecti.reports.formats import date_time, hms
from ecti.reports.periods import Period
from ecti.reports.queries import queue_report

TOKYO = ZoneInfo("Asia/Tokyo")


def add_entry(db, tenant_id, queue, entered, *, connected=None, ended=None, outcome=None, n=[0]):
    n[0] += 1
    call = Call(tenant_id=tenant_id, carrier_call_id=f"CA-wb-{n[0]}", direction=Direction.inbound, from_number="+819011112222",
                to_number="+815011112222", status=CallStatus.in_progress, started_at=entered - timedelta(seconds=5))
    db.add(call)
    db.flush()
    status = EntryStatus.ended if ended else EntryStatus.connected if connected else EntryStatus.waiting
    db.add(QueueEntry(tenant_id=tenant_id, queue_id=queue.id, call_id=call.id, entered_at=entered, connected_at=connected,
                      ended_at=ended, outcome=outcome, status=status))
    db.flush()


@pytest.fixture
def desk(db, make_tenant, make_user):
    """窓口 (threshold 20 s) at 2026-12-07 14:05 JST: 2 callers answered within 20 s (after 10 and 15 s),
    3 callers waiting for 88 s; and another company with a queue of its own."""
    tenant = make_tenant()
    other = make_tenant(slug="beta", name="ベータ株式会社")
    now = datetime(2026, 12, 7, 14, 5, tzinfo=TOKYO).astimezone(timezone.utc)
    queue = Queue(tenant_id=tenant.id, name="窓口", overflow={}, hold_audio={}, service_level_seconds=20)
    theirs = Queue(tenant_id=other.id, name="ベータ窓口", overflow={}, hold_audio={})
    db.add_all([queue, theirs])
    db.flush()
    for wait in (10, 15):
        entered = now - timedelta(minutes=30)
        add_entry(db, tenant.id, queue, entered, connected=entered + timedelta(seconds=wait))
    for _ in range(3):
        add_entry(db, tenant.id, queue, now - timedelta(seconds=88))
    db.commit()
    return {"tenant": tenant, "other": other, "queue": queue, "theirs": theirs, "now": now}


def test_the_service_level_counts_callers_still_waiting_past_the_threshold(db, desk):
    set_tenant_scope(db, desk["tenant"].id)
    today = Period(date(2026, 12, 7), date(2026, 12, 7), TOKYO, "day")
    figures = queue_report(db, desk["tenant"].id, today, now=desk["now"]).total(desk["queue"].id)
    assert (figures.answered, figures.answered_within, figures.in_progress, figures.unanswered_past) == (2, 2, 3, 3)
    assert figures.service_level_answered == 1.0  # answered-based alone: the 100 % the old wallboard showed
    assert figures.service_level == pytest.approx(2 / 5)  # 2 answered within 20 s / (2 answered + 3 waiting 88 s > 20 s) = 40 %
    # Ten seconds after they came, the three callers are within the threshold: they count neither way yet.
    early = queue_report(db, desk["tenant"].id, today, now=desk["now"] - timedelta(seconds=78)).total(desk["queue"].id)
    assert early.unanswered_past == 0 and early.service_level == 1.0


def test_calls_that_left_unanswered_count_against_the_service_level_only_after_the_threshold(db, desk):
    tenant_id, queue, now = desk["tenant"].id, desk["queue"], desk["now"]
    set_tenant_scope(db, tenant_id)
    start = now - timedelta(minutes=20)
    add_entry(db, tenant_id, queue, start, ended=start + timedelta(seconds=5), outcome=Outcome.abandoned)  # within 20 s: neither way
    add_entry(db, tenant_id, queue, start, ended=start + timedelta(seconds=45), outcome=Outcome.abandoned)  # after 20 s: missed
    add_entry(db, tenant_id, queue, start, ended=start + timedelta(seconds=120), outcome=Outcome.timed_out)  # missed
    db.commit()
    today = Period(date(2026, 12, 7), date(2026, 12, 7), TOKYO, "day")
    figures = queue_report(db, tenant_id, today, now=now).total(queue.id)
    assert figures.unanswered_past == 5  # 3 waiting + the late abandon + the time-out
    assert figures.service_level == pytest.approx(2 / 7)


def test_durations_and_moments_have_one_format():
    assert [hms(s) for s in (None, 0, 9.6, 96.7, 3599.4, 3600, 86399)] == ["", "0:00:00", "0:00:10", "0:01:37", "0:59:59", "1:00:00", "23:59:59"]
    moment = datetime(2026, 12, 7, 5, 5, tzinfo=timezone.utc)  # 14:05 in Tokyo, a Monday
    assert date_time(moment, TOKYO, make_localizer("ja", locale_dirs()).translate) == "2026/12/07（月）14:05"
    assert date_time(moment, TOKYO, make_localizer("en", locale_dirs()).translate) == "2026/12/07 (Mon) 14:05"


def test_the_wallboard_api_colours_each_figure_at_the_queues_thresholds(api, login, db, desk, make_user):
    # The three callers came 88 s before the real "now" of the API.
    for entry in db.scalars(select(QueueEntry).where(QueueEntry.status == EntryStatus.waiting)):
        entry.entered_at = utcnow() - timedelta(seconds=88)
    db.commit()
    admin = make_user(desk["tenant"], role="admin", email="admin@acme.example")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    queue_id = desk["queue"].id
    board = api.get("/api/v1/reports/wallboard").json
    assert [q["name"] for q in board["queues"]] == ["窓口"]  # not the other company's
    tile = board["queues"][0]
    assert tile["thresholds"] == {"waiting": {"amber": 3, "red": 6}, "wait": {"amber": 30, "red": 60},
                                  "service_level": {"amber": 80, "red": 60}}  # the defaults
    assert tile["waiting"] == 3 and tile["levels"]["waiting"] == "amber"  # 3 >= amber 3
    assert 88 <= tile["longest_wait_seconds"] < 120 and tile["levels"]["wait"] == "red"  # 88 s >= red 60 s
    assert tile["levels"]["tile"] == "red"
    assert board["at_label"].startswith(datetime.now(TOKYO).strftime("%Y/%m/%d（"))
    # The admin moves the thresholds: 3 waiting is now red, the wait green.
    saved = api.patch(f"/api/v1/acd/queues/{queue_id}", headers=headers, json={
        "wallboard_waiting_amber": 2, "wallboard_waiting_red": 3, "wallboard_wait_amber": 3000, "wallboard_wait_red": 6000,
        "wallboard_service_level_amber": 90, "wallboard_service_level_red": 0})
    assert saved.status_int == 200 and saved.json["wallboard_waiting_red"] == 3
    tile = api.get("/api/v1/reports/wallboard").json["queues"][0]
    assert (tile["levels"]["waiting"], tile["levels"]["wait"]) == ("red", "green")


@pytest.mark.parametrize("change, code, words", [
    ({"wallboard_waiting_amber": 0}, "bad_wallboard_threshold", "ウォールボードの色「待ち呼数」: 黄色のしきい値は 1 から 1000 までの整数"),
    ({"wallboard_wait_red": 10, "wallboard_wait_amber": 30}, "wallboard_thresholds_order", "ウォールボードの色「最長待ち時間 (秒)」: 赤のしきい値は黄色のしきい値以上にしてください (黄色 30、赤 10)"),
    ({"wallboard_service_level_red": 90}, "wallboard_thresholds_order", "ウォールボードの色「サービスレベル (%)」: 赤のしきい値は黄色のしきい値以下"),
    ({"wallboard_service_level_amber": 101}, "bad_wallboard_threshold", "黄色のしきい値は 0 から 100 までの整数"),
    # null is refused field by field (the API's PatchModel: "send no null, leave the field out").
    ({"wallboard_waiting_red": None}, "validation_failed", "入力内容に誤りがあります"),
])
def test_bad_thresholds_get_a_specific_error_and_nothing_is_saved(api, login, db, desk, make_user, change, code, words):
    admin = make_user(desk["tenant"], role="admin", email="admin@acme.example")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    queue_id = desk["queue"].id
    bad = api.patch(f"/api/v1/acd/queues/{queue_id}", headers=headers, json={"name": "改名", "wallboard_waiting_amber": 4, **change})
    assert bad.status_int == 422, bad.json
    assert bad.json["error"]["code"] == code and words in bad.json["error"]["message"], bad.json
    after = api.get(f"/api/v1/acd/queues/{queue_id}").json
    assert (after["name"], after["wallboard_waiting_amber"]) == ("窓口", 3)  # nothing half-saved


def stored(db, queue_id, *names):
    """What the app committed (a fresh transaction, not the session's cached row)."""
    db.rollback()
    queue = db.get(Queue, queue_id)
    db.refresh(queue)
    return tuple(getattr(queue, name) for name in names)


def test_thresholds_are_set_in_the_queue_form_and_checked_there(webtest, login, db, desk, make_user):
    admin = make_user(desk["tenant"], role="admin", email="admin@acme.example")
    login(webtest, admin)
    queue_id = desk["queue"].id
    form = webtest.get(f"/admin/queues/{queue_id}").forms["queue-options"]
    assert form["wallboard_waiting_amber"].value == "3" and form["wallboard_service_level_red"].value == "60"
    form["wallboard_wait_amber"] = "45"
    form["wallboard_wait_red"] = "40"
    refused = form.submit(status=422)
    assert "赤のしきい値は黄色のしきい値以上にしてください (黄色 45、赤 40)" in refused.text
    assert stored(db, queue_id, "wallboard_wait_amber", "wallboard_wait_red") == (30, 60)
    form = refused.forms["queue-options"]
    form["wallboard_wait_red"] = "90"
    form.submit(status=303)
    assert stored(db, queue_id, "wallboard_wait_amber", "wallboard_wait_red") == (45, 90)


def test_another_company_neither_sees_nor_sets_these_thresholds(api, login, db, desk, make_user):
    admin = make_user(desk["other"], role="admin", email="admin@beta.example")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    assert api.patch(f"/api/v1/acd/queues/{desk['queue'].id}", headers=headers, json={"wallboard_waiting_red": 99}).status_int == 404
    board = api.get("/api/v1/reports/wallboard").json
    assert [q["name"] for q in board["queues"]] == ["ベータ窓口"] and board["queues"][0]["waiting"] == 0
    assert stored(db, desk["queue"].id, "wallboard_waiting_red") == (6,)


def test_agents_get_no_wallboard(webtest, login, desk, make_user):
    agent = make_user(desk["tenant"], role="agent", email="agent@acme.example")
    login(webtest, agent)
    assert webtest.get("/reports/wallboard", expect_errors=True).status_int == 403
    assert webtest.get("/api/v1/reports/wallboard", expect_errors=True).status_int == 403
