"""The report figures of the fixed scenario (conftest.py), computed by hand, on SQLite and PostgreSQL."""
from datetime import date, datetime, timezone

import pytest

from ecti.db import set_tenant_scope
from ecti.reports.periods import Period
from ecti.reports.queries import agent_report, center_report, queue_report

from .conftest import TOKYO


def day(first, last=None, bucket="day"):
    return Period(first, last or first, TOKYO, bucket)


NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


@pytest.fixture
def scoped(db, center):
    set_tenant_scope(db, center.tenant_id)
    return db


def test_the_queue_figures_of_may_31st(scoped, center):
    report = queue_report(scoped, center.tenant_id, day(date(2026, 5, 31)))
    f = report.total(center.support.id)
    # E1..E7 entered on 05-31 JST (E1 at 00:30 JST is 05-30 in UTC)
    assert f.offered == 7
    assert (f.answered, f.abandoned, f.overflowed, f.timed_out, f.in_progress) == (3, 2, 1, 1, 0)  # E1 E2 E7 | E3 E4 | E6 | E5
    assert f.offered == f.answered + f.abandoned + f.overflowed + f.timed_out + f.in_progress
    assert f.short_abandoned == 1  # E3 (3 s <= 5 s)
    assert round(f.abandonment_rate * 100, 1) == 28.6  # 2 / 7
    assert f.answered_within == 2  # E1 (10 s), E7 (15 s); E2 waited 25 s > 20 s
    assert round(f.service_level_answered * 100, 1) == 66.7  # 2 / 3 (Asterisk)
    assert round(f.service_level_offered * 100, 1) == 42.9  # (2 answered + 1 abandoned (E3, 3 s) within 20 s) / 7 (Amazon Connect)
    assert f.unanswered_past == 2  # E4 (abandoned after 45 s), E5 (timed out after 120 s); E3 (3 s) and E6 (0 s) left within 20 s
    assert round(f.service_level * 100, 1) == 40.0  # 2 answered within 20 s / (3 answered + 2 not answered past 20 s)
    assert round(f.average_speed_of_answer, 1) == 16.7  # (10 + 25 + 15) / 3
    assert round(f.average_wait, 1) == 31.1  # (10 + 25 + 3 + 45 + 120 + 0 + 15) / 7 = 218 / 7
    assert f.longest_wait == 120  # E5
    assert f.average_time_to_abandon == 24  # (3 + 45) / 2
    assert f.voicemails == 1  # E6
    assert report.total(center.sales.id).offered == 0  # 営業's entries are on June 1st (JST)


def test_the_night_across_midnight_and_the_month_end(scoped, center):
    report = queue_report(scoped, center.tenant_id, day(date(2026, 5, 1), date(2026, 6, 30), "month"))
    assert [b.label for b in report.buckets] == ["2026-05", "2026-06"]
    may, june = report.figures(center.support.id, 0), report.figures(center.support.id, 1)
    assert (may.offered, june.offered) == (7, 0)  # E7 entered at 23:59:50 on May 31st, answered in June: May's
    sales_june = report.figures(center.sales.id, 1)
    # E9 (00:00:30 JST = May 31st 15:00:30 UTC) and E8 (the transferred E7, waiting)
    assert (sales_june.offered, sales_june.overflowed, sales_june.in_progress, sales_june.answered) == (2, 1, 1, 0)
    assert sales_june.offered == sales_june.answered + sales_june.abandoned + sales_june.overflowed + sales_june.timed_out + sales_june.in_progress
    assert report.figures(center.sales.id, 0).offered == 0
    by_day = queue_report(scoped, center.tenant_id, day(date(2026, 5, 30), date(2026, 6, 1)))
    assert [by_day.by_bucket(i).offered for i in range(3)] == [0, 7, 2]  # nothing on 05-30 JST though E1 is 05-30 in UTC


def test_the_agent_figures_of_may_31st(scoped, center):
    report = agent_report(scoped, center.tenant_id, day(date(2026, 5, 31)), now=NOW)
    a, b = {x.user_id: x for x in report.agents}[center.a], {x.user_id: x for x in report.agents}[center.b]
    assert (a.name, b.name) == ("佐藤", "鈴木")
    # A: answered E1 and E2, declined E7; one outbound call of 60 s
    assert (a.handled_inbound, a.handled_outbound, a.no_answer, a.declined) == (2, 1, 0, 1)
    assert a.hold == 30  # E1
    assert a.talk == 510  # (300 + 180 connected) - 30 hold + 60 outbound
    assert a.wrap_up == 60  # 30 + 30 s of wrap-up
    assert a.average_talk == 170  # 510 / 3
    assert a.average_handle_time == 200  # (510 + 30 + 60) / 3
    # A's day: available since 05-30 23:00, so from midnight: 1802 (00:00:00-00:30:02) + 37481 (00:35:40-11:00:21)
    # + 46557 (11:03:55-23:59:52) + 5 (23:59:55-24:00:00) = 85845
    assert a.status_seconds == {"available": 85845, "ringing": 15, "on_call": 480, "wrap_up": 60}  # ringing 8 + 4 + 3
    assert sum(a.status_seconds.values()) == 86400
    assert round(a.occupancy * 100, 2) == 0.64  # (15 + 480 + 60) / 86400
    # B: missed E2 (no answer); answered E7 (offered 23:59:56, talk 00:00:05-00:02:05 = 120 s); its hold and wrap-up are June's
    assert (b.handled_inbound, b.handled_outbound, b.no_answer, b.declined) == (1, 0, 1, 0)
    assert (b.talk, b.hold, b.wrap_up, b.average_handle_time) == (120, 0, 0, 120)
    # offline (never signed in before) 00:00-10:55 (39300); available 10:55:00-11:00:01 (301) + 11:00:21-23:59:56 (46775);
    # ringing 20 + 4 (until midnight)
    assert b.status_seconds == {"offline": 39300, "available": 47076, "ringing": 24}
    assert sum(b.status_seconds.values()) == 86400
    assert b.missed_offers == 1


def test_the_agent_figures_of_june_1st_start_in_the_status_held_at_midnight(scoped, center):
    report = agent_report(scoped, center.tenant_id, day(date(2026, 6, 1)), now=NOW)
    a, b = {x.user_id: x for x in report.agents}[center.a], {x.user_id: x for x in report.agents}[center.b]
    # A: available from midnight to 00:10 (600), away 00:10-00:20 (600), then offline for the rest of the day
    assert (a.status("available"), a.status("away"), a.status("offline")) == (600, 600, 86400 - 1200)
    # B: ringing since 23:59:56 → 5 s into June; on call 120; wrap-up 30; available 00:02:35-00:30:00 = 1645
    assert (b.status("ringing"), b.status("on_call"), b.status("wrap_up"), b.status("available")) == (5, 120, 30, 1645)
    assert b.hold == 0 and b.handled_inbound == 0  # E7's offer rang on May 31st


def test_the_whole_center_of_may_31st(scoped, center):
    report = center_report(scoped, center.tenant_id, day(date(2026, 5, 31)))
    total = report.total()
    assert (total.inbound, total.outbound, total.outbound_answered) == (10, 1, 1)  # E1-E7 + 3 IVR-only calls | A's call
    assert (total.after_hours, total.holiday) == (1, 1)  # 22:00 closed | 21:00 holiday
    assert (total.ivr_calls, total.ivr_abandoned) == (10, 1)  # every inbound call ran the flow | 20:00 hung up in the menu
    assert total.ivr_abandonment_rate == 0.1
    [number] = report.numbers
    assert (number.number, number.inbound, number.outbound) == ("+815011112222", 10, 1)
    sunday = report.by_hour[6]  # 2026-05-31 is a Sunday
    # E1 started 00:29:50 JST (hour 0, though 15:29 UTC); E2-E6 at 10:59:50 .. 14:59:50; outbound 16:00; IVR 20, 21, 22; E7 23:59:40
    assert {h: n for h, n in enumerate(sunday) if n} == {0: 1, 10: 1, 11: 1, 12: 1, 13: 1, 14: 1, 16: 1, 20: 1, 21: 1, 22: 1, 23: 1}
    assert sum(report.weekdays) == 11 and report.weekdays[6] == 11


def test_another_company_sees_none_of_it(db, center, make_tenant):
    other = make_tenant(slug="beta", name="ベータ")
    set_tenant_scope(db, other.id)
    assert queue_report(db, other.id, day(date(2026, 5, 31))).cells == {}
    assert center_report(db, other.id, day(date(2026, 5, 31))).total().inbound == 0
    assert agent_report(db, other.id, day(date(2026, 5, 31)), now=NOW).agents == []
