"""The conversation list (会話一覧) and a call's page: filters, keyset paging, who sees what.

Calls are made through the entry points and record_event, so their records are what the
summary updater wrote (the simulator's end-to-end calls are in plugins/twilio/tests/test_call_records_e2e.py).
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from ecti.acd.models import Queue
from ecti.calls.events import apply_status, record_event
from ecti.calls.models import Call, CallStatus, Direction, EventKind, Recording
from ecti.calls.summary import set_crm_record
from ecti.jobs import in_transaction
from ecti.telephony.models import PhoneNumber

MAIN = "+815012345678"
T0 = datetime(2026, 4, 1, 15, 30, tzinfo=timezone.utc)  # 2026-04-02 00:30 in Tokyo


class Calls:
    """Makes calls of one tenant the way the voice entry points and the ACD record them."""

    def __init__(self, app, tenant):
        self.registry, self.tenant = app.registry, tenant

    def make(self, sid, *, direction=Direction.inbound, remote="+819011112222", at=T0, user=None, queue=None,
             agent=None, abandoned=False, refused=False, recorded=False):
        with in_transaction(self.registry, self.tenant.id) as request:
            inbound = direction is Direction.inbound
            call = Call(tenant_id=self.tenant.id, carrier_call_id=sid, direction=direction, from_number=remote if inbound else MAIN,
                        to_number=MAIN if inbound else remote, status=CallStatus.ringing, started_at=at, user_id=user)
            request.db.add(call)
            request.db.flush()
            record_event(request, call, EventKind.started, at=at)
            apply_status(request, call, CallStatus.in_progress, at=at)
            if refused:
                record_event(request, call, EventKind.refused, at=at, reason="unknown_number")
            if queue is not None:
                record_event(request, call, EventKind.entered_queue, at=at + timedelta(seconds=5), queue=queue)
                if agent is not None:
                    record_event(request, call, EventKind.offered, at=at + timedelta(seconds=10), queue=queue, agent=agent)
                    record_event(request, call, EventKind.connected, at=at + timedelta(seconds=25), queue=queue, agent=agent)
                    record_event(request, call, EventKind.queue_completed, at=at + timedelta(seconds=85), queue=queue, agent=agent,
                                 hold_seconds=7, by="caller")
                elif abandoned:
                    record_event(request, call, EventKind.abandoned, at=at + timedelta(seconds=45), queue=queue, wait_seconds=40)
            if recorded:
                recording = Recording(tenant_id=self.tenant.id, call=call, carrier_recording_id="RE" + sid, status="completed",
                                      duration_seconds=60, purpose="call")
                request.db.add(recording)
                request.db.flush()
                record_event(request, call, EventKind.recording, at=at + timedelta(seconds=86), recording_id=recording.id, purpose="call")
            if direction is Direction.outbound:
                record_event(request, call, EventKind.dial_ended, at=at + timedelta(seconds=90), status="completed", duration=60)
            apply_status(request, call, CallStatus.completed, at=at + timedelta(seconds=90), duration=90)
            return call.id


@pytest.fixture
def company(app, db, make_tenant, make_user):
    tenant = make_tenant()
    db.add(PhoneNumber(tenant_id=tenant.id, e164=MAIN, label="代表"))
    sales, support = Queue(tenant_id=tenant.id, name="営業", overflow={}, hold_audio={}), Queue(tenant_id=tenant.id, name="サポート", overflow={}, hold_audio={})
    db.add_all([sales, support])
    db.commit()
    admin = make_user(tenant, role="admin")
    aoki = make_user(tenant, role="agent", name="青木")
    baba = make_user(tenant, role="agent", name="馬場")
    return tenant, Calls(app, tenant), admin, aoki, baba, sales.id, support.id


def ids(api, query="", status=200):
    response = api.get("/api/v1/calls" + (f"?{query}" if query else ""))
    assert response.status_int == status, response.text
    return [c["id"] for c in response.json["calls"]]


def test_each_filter_narrows_the_list(api, login, company):
    tenant, calls, admin, aoki, baba, sales, support = company
    answered = calls.make("CA1", queue=sales, agent=aoki.id, recorded=True)
    abandoned = calls.make("CA2", remote="+81355556666", at=T0 + timedelta(days=1), queue=support, abandoned=True)
    outbound = calls.make("CA3", direction=Direction.outbound, remote="+819077778888", at=T0 + timedelta(days=1, hours=1), user=baba.id)
    refused = calls.make("CA4", remote="+819099990000", at=T0 - timedelta(hours=1), refused=True)  # 04-01 23:30 in Tokyo
    login(api.testapp, admin)
    assert ids(api) == [outbound, abandoned, answered, refused]  # newest first
    assert ids(api, "from=2026-04-02&to=2026-04-02") == [answered]  # days of the company's zone
    assert ids(api, "to=2026-04-01") == [refused]
    assert ids(api, "direction=outbound") == [outbound]
    assert ids(api, "direction=inbound") == [abandoned, answered, refused]
    assert ids(api, f"agent={aoki.id}") == [answered]
    assert ids(api, f"agent={baba.id}") == [outbound]
    assert ids(api, f"queue={sales}") == [answered]
    assert ids(api, f"queue={support}&outcome=abandoned") == [abandoned]
    assert ids(api, "outcome=answered") == [outbound, answered]
    assert ids(api, "outcome=refused") == [refused]
    assert ids(api, "number=090-1111") == [answered]  # domestic, from its start
    assert ids(api, "number=%2B8190777") == [outbound]  # E.164, from its start
    assert ids(api, "number=5555-6666") == [abandoned]  # digits anywhere
    assert ids(api, urlencode({"number": "０９０"})) == [outbound, answered, refused]  # full-width digits too

    one = api.get("/api/v1/calls?number=090-1111").json["calls"][0]
    assert (one["outcome"], one["queue_name"], one["agent_name"], one["from_display"]) == ("answered", "営業", "青木", "090-1111-2222")
    assert (one["wait_seconds"], one["talk_seconds"], one["hold_seconds"], one["has_recording"]) == (20, 60, 7, True)
    assert ids(api, "number=5555-6666&outcome=answered") == []


def test_the_console_list_shows_domestic_numbers_local_times_and_translated_outcomes(webtest, login, company):
    tenant, calls, admin, aoki, baba, sales, support = company
    calls.make("CA1", queue=sales, agent=aoki.id)
    calls.make("CA2", remote="+81355556666", at=T0 + timedelta(days=1), queue=support, abandoned=True)
    login(webtest, admin)
    page = webtest.get("/calls")
    rows = page.html.select("#calls tbody tr")
    assert len(rows) == 2
    first = rows[1].get_text(" ", strip=True)
    assert "2026/04/02（木）00:30" in first and "090-1111-2222" in first and "050-1234-5678" in first
    assert "応答" in first and "青木" in first and "営業" in first and "0:20" in first and "1:00" in first
    assert "放棄" in rows[0].get_text(" ", strip=True)
    filtered = webtest.get("/calls?" + urlencode({"outcome": "abandoned"}))
    assert len(filtered.html.select("#calls tbody tr")) == 1


def test_keyset_paging_visits_every_call_exactly_once(api, webtest, login, company):
    tenant, calls, admin, *_ = company
    made = []
    for i in range(23):
        # groups of three calls that started in the same microsecond
        made.append(calls.make(f"CA{i:03d}", remote=f"+8190{i:08d}", at=T0 + timedelta(minutes=i // 3)))
    login(api.testapp, admin)
    expected = sorted(made, key=lambda i: (made.index(i) // 3, i), reverse=True)
    pages, bodies, cursor = [], [], None
    while True:
        body = api.get("/api/v1/calls?limit=5" + (f"&after={cursor}" if cursor else "")).json
        bodies.append(body)
        pages.append([c["id"] for c in body["calls"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [i for page in pages for i in page] == expected
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert bodies[0]["previous_cursor"] is None
    # and back: "newer" from the last page gives the same pages in reverse, up to the first
    back, cursor = [], bodies[-1]["previous_cursor"]
    while cursor:
        body = api.get(f"/api/v1/calls?limit=5&before={cursor}").json
        back.append([c["id"] for c in body["calls"]])
        cursor = body["previous_cursor"]
    assert back == list(reversed(pages[:-1]))
    # the console's links page the same way
    seen, url = [], "/calls?limit=5"
    while url:
        page = webtest.get(url)
        seen += [int(tr["data-call"]) for tr in page.html.select("#calls tbody tr")]
        link = page.html.select_one("a[rel=next]")
        url = link["href"] if link else None
    assert seen == expected


@pytest.mark.parametrize("query, code, words", [
    ("from=2026-13-01", "bad_date", "日付ではありません"),
    ("from=2026-04-05&to=2026-04-01", "bad_period", "期間の終わり"),
    ("outcome=lost", "bad_outcome", "通話結果ではありません"),
    ("direction=sideways", "bad_direction", "方向"),
    ("agent=aoki", "bad_agent", "オペレーター"),
    ("number=abc", "bad_number", "2 桁以上"),
    ("after=not-a-cursor", "bad_cursor", "ページのリンク"),
])
def test_bad_filters_get_a_specific_message_not_a_500(api, webtest, login, company, query, code, words):
    tenant, calls, admin, *_ = company
    login(api.testapp, admin)
    response = api.get(f"/api/v1/calls?{query}")
    assert response.status_int == 422
    assert response.json["error"]["code"] == code and words in response.json["error"]["message"], response.json
    page = webtest.get(f"/calls?{query}", status=422)  # the same browser session (api wraps webtest)
    assert words in page.html.select_one("#filter-error").get_text()


def test_a_call_page_shows_its_timeline_and_recordings(api, webtest, login, company):
    tenant, calls, admin, aoki, baba, sales, support = company
    call_id = calls.make("CA1", queue=sales, agent=aoki.id, recorded=True)
    with in_transaction(calls.registry, tenant.id) as request:  # what a CRM connector does after logging the call
        set_crm_record(request.db.get(Call, call_id), "salesforce", "00T5g00000AbCdE")
    login(api.testapp, admin)
    body = api.get(f"/api/v1/calls/{call_id}").json
    assert body["crm_record_ids"] == {"salesforce": "00T5g00000AbCdE"}
    assert [e["kind"] for e in body["events"]] == [
        "started", "status", "entered_queue", "offered", "connected", "queue_completed", "recording", "status", "completed"]
    assert body["events"][4]["label"] == "オペレーターが応答"
    assert [(a["name"], a["answered"]) for a in body["agents"]] == [("青木", True)]
    [recording] = body["recordings"]
    assert recording["duration_seconds"] == 60
    page = webtest.get(f"/calls/{call_id}")
    timeline = [tr.select("td")[1].get_text() for tr in page.html.select("#timeline tbody tr")]
    assert "キューに入った" in timeline and "オペレーターが応答" in timeline and "通話終了" in timeline
    assert "2026/04/02（木）00:30" in page.html.select_one("#timeline").get_text()
    assert page.html.select_one("#call-summary .agent").get_text() == "青木"
    [player] = page.html.select("#recordings li audio")
    assert player["src"].endswith(f"/recordings/{recording['id']}/media")
    assert recording["media_url"].endswith(f"/recordings/{recording['id']}/media")
    assert "00T5g00000AbCdE" in page.html.select_one("#call-summary").get_text()
    # The agent who answered sees the call, but agents do not hear conversation recordings (docs/recordings.md).
    webtest.reset()
    login(webtest, aoki)
    page = webtest.get(f"/calls/{call_id}")
    assert not page.html.select("#recordings li audio")
    assert "この録音を聞く権限がありません" in page.html.select_one("#recordings").get_text()


def test_another_companys_call_is_not_found(api, webtest, login, company, make_tenant, make_user, app):
    tenant, calls, admin, *_ = company
    mine = calls.make("CA1")
    other = make_tenant(slug="other", name="他社")
    theirs = Calls(app, other).make("CA9")
    login(api.testapp, make_user(other, role="admin"))
    assert api.get(f"/api/v1/calls/{mine}").status_int == 404
    assert ids(api) == [theirs]
    api.testapp.reset()
    login(webtest, admin)
    webtest.get(f"/calls/{theirs}", status=404)
    assert webtest.get(f"/calls/{mine}").status_int == 200


def test_an_agent_sees_only_their_own_calls(api, webtest, login, company):
    tenant, calls, admin, aoki, baba, sales, support = company
    answered = calls.make("CA1", queue=sales, agent=aoki.id)
    placed = calls.make("CA2", direction=Direction.outbound, remote="+819077778888", user=aoki.id, at=T0 + timedelta(hours=1))
    others = calls.make("CA3", queue=sales, agent=baba.id, at=T0 + timedelta(hours=2))
    waiting = calls.make("CA4", queue=sales, abandoned=True, at=T0 + timedelta(hours=3))
    login(api.testapp, aoki)
    assert ids(api) == [placed, answered]
    assert ids(api, f"agent={baba.id}") == []  # naming another agent does not widen the list
    assert api.get(f"/api/v1/calls/{others}").status_int == 404
    assert api.get(f"/api/v1/calls/{answered}").status_int == 200
    page = webtest.get("/calls")
    assert {int(tr["data-call"]) for tr in page.html.select("#calls tbody tr")} == {placed, answered}
    assert page.html.select_one("select[name=agent]") is None
    webtest.get(f"/calls/{waiting}", status=404)
    api.testapp.reset()
    login(api.testapp, admin)
    assert ids(api) == [waiting, others, placed, answered]


def test_the_list_needs_a_signed_in_user(api):
    assert api.get("/api/v1/calls").status_int == 401


@pytest.mark.parametrize("query, field, words", [
    ("limit=many", "limit", "整数"),
    ("limit=0", "limit", "1"),
])
def test_a_bad_page_size_in_the_api_names_the_parameter(api, login, company, query, field, words):
    tenant, calls, admin, *_ = company
    login(api.testapp, admin)
    response = api.get(f"/api/v1/calls?{query}")
    assert response.status_int == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed" and [f["field"] for f in error["fields"]] == [field]
    assert words in error["fields"][0]["message"]

