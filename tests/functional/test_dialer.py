"""Dialing lists (issue 11): CSV import, the progressive dialer's rules, the API, the console.

On SQLite and PostgreSQL. The rules that depend on the clock (retries, calling hours, holidays)
run the dialer's own functions with a fixed ``now`` in their own transactions, like a request
would; everything else goes through the JSON API (checked against the OpenAPI document) or the
console pages. The calls themselves go through the Twilio simulator in
``plugins/twilio/tests/test_dialer_e2e.py``.
"""
import base64
import types
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ecti import jobs
from ecti.dialer import services
from ecti.dialer.models import (
    AttemptStatus, DialingAttempt, DialingImport, DialingList, DialingListAgent, DialingRow, DoNotCall, ListStatus, Outcome, RowStatus,
)
from ecti.telephony.models import PhoneNumber
from ecti.tenancy.models import User

CALLER_ID = "+815011112222"  # 050-1111-2222, the company's number shown to the people called
WEEKDAYS_9_TO_20 = {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
JST = timezone(timedelta(hours=9))


def csv_bytes(lines, encoding="utf-8", bom=False):
    data = "\r\n".join(lines).encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


GOOD_AND_BAD = [
    "電話番号,氏名,会社名,備考",
    "090-1234-5678,山田 太郎,山田商事,午前中希望",  # 2 good
    "03-5555-1234,佐藤 花子,佐藤工業,",  # 3 good
    "03-12,鈴木 一郎,,",  # 4 invalid
    "+1 415 555 0100,John Smith,ACME US,",  # 5 overseas
    "0570-000-000,ナビダイヤル,,",  # 6 blocked service number
    "09012345678,山田 太郎(重複),,",  # 7 duplicate of row 2
    ",名前だけ,,",  # 8 empty number
    "080-9999-0000,配信停止さん,,",  # 9 on the do-not-call list
    "06-6666-7777,田中 次郎,田中物産,折り返し希望",  # 10 good
]


@pytest.fixture
def company(make_tenant, make_user, db):
    tenant = make_tenant(slug="acme", name="株式会社アクメ")
    other = make_tenant(slug="other", name="他社株式会社")
    db.add_all([
        PhoneNumber(tenant_id=tenant.id, e164=CALLER_ID, label="代表", voice_capable=True),
        PhoneNumber(tenant_id=other.id, e164="+81311112222", label="他社", voice_capable=True),
        PhoneNumber(tenant_id=tenant.id, e164="+81355550000", label="本社 (固定)", voice_capable=True),
        DoNotCall(tenant_id=tenant.id, number="+818099990000", reason="苦情"),
    ])
    db.commit()
    return types.SimpleNamespace(
        tenant=tenant, other=other,
        admin=make_user(tenant, role="admin", email="admin@acme.example", name="管理 者"),
        agent_a=make_user(tenant, role="agent", email="a@acme.example", name="エージェント A"),
        agent_b=make_user(tenant, role="agent", email="b@acme.example", name="エージェント B"),
        other_admin=make_user(other, role="admin", email="admin@other.example"),
        other_agent=make_user(other, role="agent", email="agent@other.example"),
    )


@pytest.fixture
def session_for(app, login):
    """``session_for(user)`` → (api, headers): a separate signed-in API client per user."""
    import webtest as wt

    from ecti.testing import CheckedTestApp, OpenAPIChecker, _with_base

    def make(user):
        testapp = wt.TestApp(app)
        checker = OpenAPIChecker(_with_base(testapp.get("/api/v1/openapi.json").json))
        token = login(testapp, user)
        return CheckedTestApp(testapp, checker), {"X-CSRF-Token": token}

    return make


def create_list(api, headers, company, **fields):
    body = {"name": "11月キャンペーン", "caller_id": CALLER_ID, "weekly": {d: [["00:00", "24:00"]] for d in
            ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, "agent_ids": [company.agent_a.id, company.agent_b.id],
            "retry": {"no_answer": {"count": 1, "delay_minutes": 30}, "busy": {"count": 1, "delay_minutes": 10},
                      "failed": {"count": 0, "delay_minutes": 0}}} | fields
    response = api.post("/api/v1/dialer/lists", json=body, headers=headers)
    assert response.status_int == 201, response.json
    return response.json


def upload(api, headers, list_id, data, filename="list.csv"):
    return api.post(f"/api/v1/dialer/lists/{list_id}/imports", headers=headers,
                    json={"filename": filename, "content_base64": base64.b64encode(data).decode()})


def rows(db, list_id):
    db.commit()
    db.expire_all()
    return db.scalars(select(DialingRow).where(DialingRow.list_id == list_id).order_by(DialingRow.row_number)).all()


def set_available(api, headers):
    assert api.put("/api/v1/acd/me/presence", json={"presence": "available"}, headers=headers).status_int == 200


@pytest.fixture
def running_list(session_for, company, db):
    """A running list of three numbers worked by agents A and B (both available)."""
    admin, admin_h = session_for(company.admin)
    lst = create_list(admin, admin_h, company)
    imp = upload(admin, admin_h, lst["id"], csv_bytes(["番号,名前", "090-1111-0001,一郎", "090-1111-0002,二郎", "090-1111-0003,三郎"]))
    assert admin.post(f"/api/v1/dialer/imports/{imp.json['id']}/confirm", headers=admin_h).status_int == 200
    assert admin.put(f"/api/v1/dialer/lists/{lst['id']}/status", json={"status": "running"}, headers=admin_h).json["status"] == "running"
    agents = {}
    for key, user in (("a", company.agent_a), ("b", company.agent_b)):
        client, h = session_for(user)
        set_available(client, h)
        assert client.post(f"/api/v1/dialer/me/lists/{lst['id']}/join", headers=h).status_int == 200
        agents[key] = (client, h)
    return types.SimpleNamespace(id=lst["id"], admin=(admin, admin_h), agents=agents)


# --- CSV import ------------------------------------------------------------------------------

def test_a_shift_jis_csv_imports_the_good_rows_and_reports_the_bad_ones(session_for, company, db):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    preview = upload(api, headers, lst["id"], csv_bytes(GOOD_AND_BAD, "cp932"), "顧客リスト.csv")
    assert preview.status_int == 201, preview.json
    report = preview.json
    assert (report["encoding"], report["good"], report["columns"]) == ("Shift_JIS", 3, ["電話番号", "氏名", "会社名", "備考"])
    refused = {r["row"]: (r["code"], r["reason"]) for r in report["refused"]}
    assert sorted(refused) == [4, 5, 6, 7, 8, 9]
    assert refused[4][0] == "invalid_number" and "有効な電話番号ではありません" in refused[4][1]
    assert refused[5][0] == "not_domestic" and "日本の電話番号ではありません" in refused[5][1]
    assert refused[6][0] == "blocked_service_number"
    assert refused[7] == ("duplicate", "同じ番号が 2 行目にあります。")
    assert refused[8] == ("empty_number", "電話番号が空です。")
    assert refused[9] == ("do_not_call", "発信禁止リストにある番号です。")
    assert rows(db, lst["id"]) == [], "nothing is imported before the admin confirms"

    confirmed = api.post(f"/api/v1/dialer/imports/{report['id']}/confirm", headers=headers)
    assert confirmed.status_int == 200 and confirmed.json["progress"]["total"] == 3
    imported = rows(db, lst["id"])
    assert [(r.row_number, r.number, r.name) for r in imported] == [
        (2, "+819012345678", "山田 太郎"), (3, "+81355551234", "佐藤 花子"), (10, "+81666667777", "田中 次郎")]
    assert imported[0].extra == [["会社名", "山田商事"], ["備考", "午前中希望"]]
    again = api.post(f"/api/v1/dialer/imports/{report['id']}/confirm", headers=headers)
    assert again.status_int == 409 and again.json["error"]["code"] == "already_imported"
    assert len(rows(db, lst["id"])) == 3


@pytest.mark.parametrize("bom", [True, False], ids=["utf8-bom", "utf8"])
def test_utf8_files_with_and_without_bom_are_read(session_for, company, db, bom):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    preview = upload(api, headers, lst["id"], csv_bytes(["phone,name,メモ", "090-2222-3333,高橋 三郎,ｶﾅ混在"], bom=bom)).json
    assert preview["encoding"] == ("UTF-8 (BOM)" if bom else "UTF-8")
    assert (preview["good"], preview["refused"], preview["columns"]) == (1, [], ["phone", "name", "メモ"])
    api.post(f"/api/v1/dialer/imports/{preview['id']}/confirm", headers=headers)
    [row] = rows(db, lst["id"])
    assert (row.name, row.extra) == ("高橋 三郎", [["メモ", "ｶﾅ混在"]])


@pytest.mark.parametrize(
    "data, code, words",
    [
        (b"", "empty_file", "ファイルが空です"),
        (b"  \r\n", "empty_file", "ファイルが空です"),
        ("電話番号,名前".encode("utf-16"), "unknown_encoding", "文字コード"),
        (csv_bytes(["名前,住所", "山田,東京"]), "no_number_column", "列が見つかりません。"),
        (csv_bytes(["電話番号,名前"]), "no_rows", "番号がありません"),
        (csv_bytes(['電話番号,名前', '"090-1111-2222,"山田']) + b'\x00', "not_csv", "CSV"),
    ],
    ids=["empty", "blank", "utf16", "no-number-column", "header-only", "binary"],
)
def test_bad_files_are_refused_with_a_specific_message_and_nothing_is_kept(session_for, company, db, data, code, words):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    response = upload(api, headers, lst["id"], data)
    assert response.status_int == 422, response.json
    assert response.json["error"]["code"] == code and words in response.json["error"]["message"], response.json
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingImport)) == 0
    assert rows(db, lst["id"]) == []


def test_the_column_names_found_are_named_when_no_number_column_exists(session_for, company):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    message = upload(api, headers, lst["id"], csv_bytes(["名前,住所", "山田,東京"])).json["error"]["message"]
    assert "名前、住所" in message


def test_content_that_is_not_base64_is_refused(session_for, company):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    response = api.post(f"/api/v1/dialer/lists/{lst['id']}/imports", json={"content_base64": "***"}, headers=headers)
    assert response.status_int == 422 and response.json["error"]["code"] == "not_base64"


def test_a_list_is_checked_before_it_is_saved(session_for, company, db):
    api, headers = session_for(company.admin)
    for fields, code in (
        ({"caller_id": "+81311112222"}, "caller_id_not_owned"),
        ({"caller_id": "+81355550000"}, "unsupported_caller_id"),
        ({"name": " "}, "name_required"),
        ({"weekly": {"mon": [["18:00", "09:00"]]}}, "invalid_time_range"),
        ({"calendars": ["mars"]}, "unknown_calendar"),
        ({"agent_ids": [company.other_agent.id]}, "unknown_agent"),
    ):
        body = {"name": "リスト", "caller_id": CALLER_ID} | fields
        response = api.post("/api/v1/dialer/lists", json=body, headers=headers)
        assert (response.status_int, response.json["error"]["code"]) == (422, code)
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingList)) == 0


def test_an_admin_changes_a_list_and_reads_it_back(session_for, company):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company)
    changed = api.put(f"/api/v1/dialer/lists/{lst['id']}", headers=headers, json={
        "name": "12月キャンペーン", "caller_id": CALLER_ID, "weekly": WEEKDAYS_9_TO_20, "calendars": ["jp_national"],
        "agent_ids": [company.agent_a.id], "preview_seconds": 5,
        "retry": {"no_answer": {"count": 3, "delay_minutes": 60}, "busy": {"count": 0, "delay_minutes": 0}, "failed": {"count": 1, "delay_minutes": 5}},
    })
    assert changed.status_int == 200
    read = api.get(f"/api/v1/dialer/lists/{lst['id']}").json
    assert (read["name"], read["agent_ids"], read["calendars"], read["preview_seconds"]) == ("12月キャンペーン", [company.agent_a.id], ["jp_national"], 5)
    assert read["retry"]["no_answer"] == {"count": 3, "delay_minutes": 60}
    assert [l["name"] for l in api.get("/api/v1/dialer/lists").json["lists"]] == ["12月キャンペーン"]


# --- working a list through the API ----------------------------------------------------------

def work_one(client, headers, outcome="connected"):
    state = client.post("/api/v1/dialer/me/next", headers=headers).json
    attempt = state["attempt"]
    if attempt is None:
        return state, None
    dialed = client.post(f"/api/v1/dialer/me/attempts/{attempt['id']}/dial", headers=headers)
    assert dialed.status_int == 200, dialed.json
    result = client.post(f"/api/v1/dialer/me/attempts/{attempt['id']}/result", json={"outcome": outcome, "note": "メモ"}, headers=headers)
    assert result.status_int == 200, result.json
    return state, attempt


def test_two_agents_work_a_list_to_the_end_and_no_number_is_dialed_twice(running_list, db):
    a, b = running_list.agents["a"], running_list.agents["b"]
    first_a = a[0].post("/api/v1/dialer/me/next", headers=a[1]).json["attempt"]
    first_b = b[0].post("/api/v1/dialer/me/next", headers=b[1]).json["attempt"]
    assert first_a["number"] != first_b["number"], "two free agents get two different rows at once"
    assert (first_a["name"], first_a["display"], first_a["caller_id"]) == ("一郎", "090-1111-0001", CALLER_ID)
    # Asking again shows the same row, not another one.
    assert a[0].post("/api/v1/dialer/me/next", headers=a[1]).json["attempt"]["id"] == first_a["id"]
    dialed = []
    for client, h in (a, b, a, b, a, b):
        _state, attempt = work_one(client, h)
        if attempt:
            dialed.append(attempt["number"])
    assert sorted(dialed) == ["+819011110001", "+819011110002", "+819011110003"]
    end = a[0].post("/api/v1/dialer/me/next", headers=a[1]).json
    assert (end["attempt"], end["reason"], end["list"]["status"]) == (None, "finished", "finished")
    progress = running_list.admin[0].get(f"/api/v1/dialer/lists/{running_list.id}").json["progress"]
    assert (progress["done"], progress["remaining"], progress["outcomes"]) == (3, 0, {"connected": 3})
    assert sorted(p["calls"] for p in progress["per_agent"]) == [1, 2]
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingAttempt)) == 3


def test_an_agent_who_is_away_gets_no_row_and_a_skipped_row_goes_to_the_end(running_list):
    client, h = running_list.agents["a"]
    client.put("/api/v1/acd/me/presence", json={"presence": "away", "reason": "休憩"}, headers=h)
    away = client.post("/api/v1/dialer/me/next", headers=h).json
    assert (away["attempt"], away["reason"]) == (None, "not_available")
    set_available(client, h)
    shown = client.post("/api/v1/dialer/me/next", headers=h).json["attempt"]
    assert shown["row_number"] == 2
    skipped = client.post(f"/api/v1/dialer/me/attempts/{shown['id']}/skip", headers=h).json
    assert skipped["attempt"]["row_number"] == 3, "the next row comes at once, the skipped one went to the end"
    result = client.post(f"/api/v1/dialer/me/attempts/{skipped['attempt']['id']}/result", json={"outcome": "connected"}, headers=h)
    assert (result.status_int, result.json["error"]["code"]) == (409, "not_dialed")


def test_leaving_gives_the_shown_row_back_and_an_agent_not_assigned_cannot_join(running_list, session_for, company, make_user, db):
    client, h = running_list.agents["a"]
    shown = client.post("/api/v1/dialer/me/next", headers=h).json["attempt"]
    left = client.post(f"/api/v1/dialer/me/lists/{running_list.id}/leave", headers=h)
    assert left.status_int == 200 and left.json["joined"] is False
    other, oh = running_list.agents["b"]
    assert other.post("/api/v1/dialer/me/next", headers=oh).json["attempt"]["number"] == shown["number"]
    assert client.post("/api/v1/dialer/me/next", headers=h).json["reason"] == "not_joined"
    stranger = make_user(company.tenant, role="agent", email="c@acme.example")
    c, ch = session_for(stranger)
    refused = c.post(f"/api/v1/dialer/me/lists/{running_list.id}/join", headers=ch)
    assert (refused.status_int, refused.json["error"]["code"]) == (403, "not_assigned")
    mine = client.get("/api/v1/dialer/me/lists").json["lists"]
    assert [(l["id"], l["joined"]) for l in mine] == [(running_list.id, False)]


def test_pausing_stops_new_calls_at_once_and_calls_in_progress_finish(running_list, db):
    (a, ah), (b, bh) = running_list.agents["a"], running_list.agents["b"]
    admin, admin_h = running_list.admin
    in_call = a.post("/api/v1/dialer/me/next", headers=ah).json["attempt"]
    assert a.post(f"/api/v1/dialer/me/attempts/{in_call['id']}/dial", headers=ah).status_int == 200
    shown = b.post("/api/v1/dialer/me/next", headers=bh).json["attempt"]
    paused = admin.put(f"/api/v1/dialer/lists/{running_list.id}/status", json={"status": "paused"}, headers=admin_h)
    assert paused.json["status"] == "paused"
    refused = b.post(f"/api/v1/dialer/me/attempts/{shown['id']}/dial", headers=bh)
    assert (refused.status_int, refused.json["error"]["code"]) == (404, "no_such_row"), "the shown row was given back"
    waiting = b.post("/api/v1/dialer/me/next", headers=bh).json
    assert (waiting["attempt"], waiting["reason"]) == (None, "paused") and "一時停止" in waiting["message"]
    # The call in progress finishes and its result is recorded.
    assert a.post("/api/v1/dialer/me/next", headers=ah).json["attempt"]["id"] == in_call["id"]
    done = a.post(f"/api/v1/dialer/me/attempts/{in_call['id']}/result", json={"outcome": "connected"}, headers=ah)
    assert done.status_int == 200
    assert a.post("/api/v1/dialer/me/next", headers=ah).json["reason"] == "paused"
    stopped = admin.put(f"/api/v1/dialer/lists/{running_list.id}/status", json={"status": "stopped"}, headers=admin_h)
    assert stopped.json["status"] == "stopped"
    assert b.post("/api/v1/dialer/me/next", headers=bh).json["reason"] == "stopped"
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingAttempt).where(DialingAttempt.status == AttemptStatus.dialing)) == 0


def test_a_list_cannot_start_without_hours_numbers_or_agents(session_for, company):
    api, headers = session_for(company.admin)
    lst = create_list(api, headers, company, weekly={})
    refused = api.put(f"/api/v1/dialer/lists/{lst['id']}/status", json={"status": "running"}, headers=headers)
    assert (refused.status_int, refused.json["error"]["code"]) == (409, "no_calling_hours")
    lst2 = create_list(api, headers, company, name="空のリスト")
    refused = api.put(f"/api/v1/dialer/lists/{lst2['id']}/status", json={"status": "running"}, headers=headers)
    assert refused.json["error"]["code"] == "list_empty" and "CSV" in refused.json["error"]["message"]


def test_do_not_call_again_and_a_callback(running_list, db, company):
    client, h = running_list.agents["a"]
    _s, first = work_one(client, h, "do_not_call")
    db.commit()
    assert db.scalar(select(DoNotCall.number).where(DoNotCall.number == first["number"])) == first["number"]
    shown = client.post("/api/v1/dialer/me/next", headers=h).json["attempt"]
    client.post(f"/api/v1/dialer/me/attempts/{shown['id']}/dial", headers=h)
    missing = client.post(f"/api/v1/dialer/me/attempts/{shown['id']}/result", json={"outcome": "callback"}, headers=h)
    assert (missing.status_int, missing.json["error"]["code"]) == (422, "callback_time_required")
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    ok = client.post(f"/api/v1/dialer/me/attempts/{shown['id']}/result", json={"outcome": "callback", "callback_at": at.isoformat()}, headers=h)
    assert ok.status_int == 200
    row = next(r for r in rows(db, running_list.id) if r.number == shown["number"])
    assert (row.status, row.next_attempt_at, row.callback_at) == (RowStatus.pending, at, at)


# --- the rules with a fixed clock ------------------------------------------------------------

def in_tx(app, tenant_id, work):
    return jobs.run_with_retry(app.registry, tenant_id, work)


def make_list(db, company, *, weekly=None, calendars=(), retry=None, numbers=("+819011110001",), status=ListStatus.running, at=None):
    from ecti.acd.models import Agent, AgentState, Presence

    lst = DialingList(tenant_id=company.tenant.id, name=f"list-{datetime.now().timestamp()}", caller_id=CALLER_ID,
                      weekly=weekly or WEEKDAYS_9_TO_20, calendars=list(calendars), retry=retry or services.DEFAULT_RETRY,
                      status=status, preview_seconds=0, columns=["電話番号"])
    db.add(lst)
    db.flush()
    for i, number in enumerate(numbers, start=2):
        db.add(DialingRow(tenant_id=company.tenant.id, list_id=lst.id, row_number=i, number=number, name=f"顧客{i}", extra=[],
                          next_attempt_at=at or datetime(2026, 1, 1, tzinfo=timezone.utc)))
    for user in (company.agent_a, company.agent_b):
        db.add(DialingListAgent(tenant_id=company.tenant.id, list_id=lst.id, user_id=user.id, joined_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        if db.get(Agent, user.id) is None:
            db.add(Agent(tenant_id=company.tenant.id, user_id=user.id, presence=Presence.available, state=AgentState.idle,
                         status="available", available_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    db.commit()
    return lst.id


def claim(app, company, user, now):
    def work(r):
        state = services.next_for_agent(r, r.db.get(User, user.id), now)
        return (state.attempt.id, state.attempt.attempt_no, r.db.get(DialingRow, state.attempt.row_id).number) if state.attempt else state.reason

    return in_tx(app, company.tenant.id, work)


def call_and_record(app, company, user, attempt_id, outcome, now):
    def work(r):
        me = r.db.get(User, user.id)
        services.start_dialing(r, me, attempt_id, now)
        services.record_result(r, me, attempt_id, outcome, now=now)

    in_tx(app, company.tenant.id, work)


def test_no_answer_is_retried_after_the_delay_up_to_the_count(app, company, db):
    retry = {"no_answer": {"count": 2, "delay_minutes": 30}, "busy": {"count": 0, "delay_minutes": 0}, "failed": {"count": 0, "delay_minutes": 0}}
    list_id = make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, retry=retry)
    t0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Tokyo
    for attempt_no, start in enumerate((t0, t0 + timedelta(minutes=31), t0 + timedelta(minutes=62)), start=1):
        attempt_id, number_of_attempt, number = claim(app, company, company.agent_a, start)
        assert (number_of_attempt, number) == (attempt_no, "+819011110001")
        call_and_record(app, company, company.agent_a, attempt_id, Outcome.no_answer, start)
        # Before the delay is over the row is not offered again.
        assert claim(app, company, company.agent_b, start + timedelta(minutes=29)) in ("nothing_due", "finished")
    [row] = rows(db, list_id)
    assert (row.status, row.attempts, row.last_outcome) == (RowStatus.done, 3, Outcome.no_answer)
    assert claim(app, company, company.agent_a, t0 + timedelta(days=1)) == "finished"


def test_busy_with_no_retries_is_done_at_once(app, company, db):
    list_id = make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                        retry={"no_answer": {"count": 1, "delay_minutes": 1}, "busy": {"count": 0, "delay_minutes": 0}, "failed": {"count": 0, "delay_minutes": 0}})
    t0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    attempt_id, _n, _num = claim(app, company, company.agent_a, t0)
    call_and_record(app, company, company.agent_a, attempt_id, Outcome.busy, t0)
    assert [r.status for r in rows(db, list_id)] == [RowStatus.done]


@pytest.mark.parametrize(
    "local, expected",
    [
        (datetime(2026, 11, 24, 8, 59, tzinfo=JST), "outside_hours"),  # Tuesday before 9:00
        (datetime(2026, 11, 24, 9, 0, tzinfo=JST), "row"),
        (datetime(2026, 11, 24, 19, 59, tzinfo=JST), "row"),
        (datetime(2026, 11, 24, 20, 0, tzinfo=JST), "outside_hours"),
        (datetime(2026, 11, 28, 10, 0, tzinfo=JST), "outside_hours"),  # Saturday
        (datetime(2026, 11, 23, 10, 0, tzinfo=JST), "outside_hours"),  # Monday, 勤労感謝の日
    ],
)
def test_calling_hours_are_honoured_in_the_tenants_zone_with_holidays(app, company, db, local, expected):
    make_list(db, company, calendars=["jp_national"])
    got = claim(app, company, company.agent_a, local.astimezone(timezone.utc))
    assert (got if isinstance(got, str) else "row") == expected


def test_the_holiday_is_named_and_a_row_shown_before_the_hours_end_is_not_dialed_after(app, company, db):
    make_list(db, company, calendars=["jp_national"])

    def reason(r):
        return r.localizer.translate(services.next_for_agent(r, r.db.get(User, company.agent_a.id), datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)).message)

    assert "勤労感謝の日" in in_tx(app, company.tenant.id, reason)
    attempt_id, _n, _number = claim(app, company, company.agent_a, datetime(2026, 11, 24, 10, 59, tzinfo=timezone.utc))  # 19:59 JST
    late = datetime(2026, 11, 24, 11, 0, tzinfo=timezone.utc)  # 20:00 JST

    def dial(r):
        services.start_dialing(r, r.db.get(User, company.agent_a.id), attempt_id, late)

    with pytest.raises(services.DialerError) as refused:
        in_tx(app, company.tenant.id, dial)
    assert refused.value.code == "outside_hours"
    assert claim(app, company, company.agent_a, late) == "outside_hours"
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingAttempt).where(DialingAttempt.status == AttemptStatus.released)) == 1


def test_a_number_added_to_the_do_not_call_list_after_the_import_is_never_dialed(app, company, db):
    list_id = make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                        numbers=("+819011110001", "+819011110002"))
    db.add(DoNotCall(tenant_id=company.tenant.id, number="+819011110001", reason="電話で依頼"))
    db.commit()
    _id, _n, number = claim(app, company, company.agent_a, datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc))
    assert number == "+819011110002"
    assert [(r.number, r.status, r.last_outcome) for r in rows(db, list_id)][0] == ("+819011110001", RowStatus.done, Outcome.do_not_call)


# --- tenant isolation ------------------------------------------------------------------------

def test_another_company_sees_nothing_of_the_list(running_list, session_for, company):
    other, oh = session_for(company.other_admin)
    assert other.get(f"/api/v1/dialer/lists/{running_list.id}").status_int == 404
    assert other.get("/api/v1/dialer/lists").json["lists"] == []
    assert other.put(f"/api/v1/dialer/lists/{running_list.id}/status", json={"status": "paused"}, headers=oh).status_int == 404
    assert other.testapp.get(f"/dialer/{running_list.id}", expect_errors=True).status_int == 404
    assert other.testapp.get(f"/dialer/{running_list.id}/results.csv", expect_errors=True).status_int == 404
    agent, ah = session_for(company.other_agent)
    assert agent.post(f"/api/v1/dialer/me/lists/{running_list.id}/join", headers=ah).status_int == 404
    shown = running_list.agents["a"][0].post("/api/v1/dialer/me/next", headers=running_list.agents["a"][1]).json["attempt"]
    for action in ("dial", "skip"):
        assert agent.post(f"/api/v1/dialer/me/attempts/{shown['id']}/{action}", headers=ah).status_int == 404
    assert agent.get("/api/v1/dialer/me/lists").json["lists"] == []


def test_agents_cannot_manage_lists(running_list):
    client, h = running_list.agents["a"]
    assert client.get("/api/v1/dialer/lists").status_int == 403
    assert client.put(f"/api/v1/dialer/lists/{running_list.id}/status", json={"status": "paused"}, headers=h).status_int == 403


# --- concurrency -----------------------------------------------------------------------------

def test_concurrent_claims_never_give_one_row_twice(app, company, db, make_user, database_url):
    """Several threads (each its own connection, like several app processes) claim rows of one
    list at the same time: every row is reserved once."""
    import threading

    from ecti.acd.models import Agent, AgentState, Presence

    numbers = tuple(f"+81901111{i:04d}" for i in range(40))
    list_id = make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, numbers=numbers)
    users = [make_user(company.tenant, role="agent", email=f"t{i}@acme.example") for i in range(6)]
    for user in users:
        db.add(DialingListAgent(tenant_id=company.tenant.id, list_id=list_id, user_id=user.id, joined_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        db.add(Agent(tenant_id=company.tenant.id, user_id=user.id, presence=Presence.available, state=AgentState.idle,
                     status="available", available_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    db.commit()
    now = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    got, errors = [], []
    start = threading.Barrier(len(users))

    def agent_loop(user):
        start.wait()
        try:
            while True:
                result = claim(app, company, user, now)
                if isinstance(result, str):
                    return
                attempt_id, _n, number = result
                got.append(number)
                call_and_record(app, company, user, attempt_id, Outcome.connected, now)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=agent_loop, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(got) == sorted(numbers), "every number dialed exactly once"
    assert all(r.status is RowStatus.done for r in rows(db, list_id))


# --- the console -----------------------------------------------------------------------------

def test_an_admin_creates_uploads_checks_confirms_and_starts_a_list_in_the_console(webtest, login, company, db):
    login(webtest, company.admin)
    page = webtest.get("/dialer")
    form = page.forms["new-list"]
    form["name"] = "年末キャンペーン"
    form["caller_id"] = CALLER_ID
    form["mon"] = "9:00-12:00, 13:00-20:00"
    form["calendars"] = True
    for box in form.fields["agent"]:
        box.checked = box._value == str(company.agent_a.id)
    created = form.submit().follow()
    assert "年末キャンペーン" in created.text and "番号をアップロードしてください" in created.text
    lst = db.scalar(select(DialingList).where(DialingList.name == "年末キャンペーン"))
    assert (lst.weekly, lst.calendars, [m.user_id for m in lst.agents]) == ({"mon": [["09:00", "12:00"], ["13:00", "20:00"]]}, ["jp_national"], [company.agent_a.id])

    upload_form = created.forms["upload"]
    upload_form["file"] = ("顧客.csv", csv_bytes(GOOD_AND_BAD + ["=HYPERLINK(\"x\"),＝式,", "080-7777-6666,-危険,=cmd|' /C calc'!A0,"], "cp932"), "text/csv")
    preview = upload_form.submit().follow()
    assert "文字コード: Shift_JIS。取り込める行: 4 件、除外される行: 7 件。" in preview.text
    refused = {tr["data-row"]: tr.text for tr in preview.html.select("#refused tbody tr")}
    assert sorted(map(int, refused)) == [4, 5, 6, 7, 8, 9, 11]
    assert "同じ番号が 2 行目にあります。" in refused["7"] and "発信禁止リストにある番号です。" in refused["9"]
    assert rows(db, lst.id) == []
    listed = preview.forms["confirm"].submit().follow()
    assert "4 件の番号を取り込みました。" in listed.text
    started = listed.forms["status-form"].submit("status", value="running").follow()
    assert started.html.select_one("#list-status").text == "実行中"
    assert "完了: 0 / 未完了: 4" in started.text

    export = webtest.get(f"/dialer/{lst.id}/results.csv")
    assert export.content_type == "text/csv" and export.body.startswith(b"\xef\xbb\xbf")
    text = export.body.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "行,電話番号,名前,会社名,備考,状態,結果,発信回数,オペレーター,最終通話,折り返し日時,メモ"
    assert lines[1].startswith("2,090-1234-5678,山田 太郎,山田商事,午前中希望,未完了")
    assert "'-危険" in text and "'=cmd|' /C calc'!A0" in text, "cells a spreadsheet would run are defused"


def test_console_forms_refuse_bad_input_with_the_reason(webtest, login, company, db):
    login(webtest, company.admin)
    form = webtest.get("/dialer").forms["new-list"]
    form["name"] = "リスト"
    form["tue"] = "9時から"
    refused = form.submit(status=422)
    assert "09:00-12:00, 13:00-18:00 のように" in refused.text or "時間帯" in refused.text
    db.commit()
    assert db.scalar(select(func.count()).select_from(DialingList)) == 0
    form["tue"] = ""
    created = form.submit().follow()
    upload_form = created.forms["upload"]
    upload_form["file"] = ("list.csv", b"", "text/csv")
    empty = upload_form.submit(status=422)
    assert "ファイルが空です" in empty.html.select_one("#upload-error").text
    status = created.forms["status-form"].submit("status", value="running").follow()
    assert "発信時間帯を設定してください" in status.html.select_one(".flash.error").text


def test_the_do_not_call_list_in_the_console(webtest, login, company, db):
    login(webtest, company.admin)
    page = webtest.get("/dialer/do-not-call")
    assert "080-9999-0000" in page.text
    form = page.forms["add-dnc"]
    form["number"] = "03-12"
    assert "有効な電話番号ではありません" in form.submit(status=422).text
    form = page.forms["add-dnc"]
    form["number"] = "090-5555-4444"
    form["reason"] = "本人の依頼"
    added = form.submit().follow()
    assert "090-5555-4444 を発信禁止リストに追加しました。" in added.text
    db.commit()
    assert db.scalar(select(DoNotCall.reason).where(DoNotCall.number == "+819055554444")) == "本人の依頼"
    entry = db.scalar(select(DoNotCall).where(DoNotCall.number == "+819055554444"))
    removed = added.forms[[k for k, f in added.forms.items() if f.fields.get("remove") and f.fields["remove"][0]._value == str(entry.id)][0]].submit("remove").follow()
    assert "090-5555-4444 を発信禁止リストから削除しました。" in removed.text


def test_agents_see_no_dialer_console_and_the_softphone_shows_the_panel(webtest, login, company):
    login(webtest, company.agent_a)
    assert webtest.get("/dialer", expect_errors=True).status_int == 403
    page = webtest.get("/softphone")
    assert page.html.select_one("section.dl h2").text == "発信リスト"
    assert "dialer.js" in page.text


def test_a_row_left_shown_by_an_agent_who_went_away_goes_back(app, company, db):
    from ecti.acd.models import Agent, Presence
    from ecti.dialer.jobs import tick_job

    list_id = make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                        numbers=("+819011110001", "+819011110002"))
    t0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    _id, _n, first = claim(app, company, company.agent_a, t0)
    db.get(Agent, company.agent_a.id).presence = Presence.away
    db.commit()
    # The agent's page asks again: the row they can no longer call goes back, keeping its place.
    assert claim(app, company, company.agent_a, t0) == "not_available"
    assert claim(app, company, company.agent_b, t0)[2] == first
    # The other agent closes the page: after 15 minutes the periodic job gives the row back.
    in_tx(app, company.tenant.id, lambda r: services.release_stale(r, t0 + timedelta(minutes=14)))
    assert [r.status for r in rows(db, list_id) if r.number == first] == [RowStatus.reserved]
    tick_job(app.registry)  # the wall clock: long after t0
    assert [r.status for r in rows(db, list_id) if r.number == first] == [RowStatus.pending]


# --- the agent's ACD status while working a row (issue 11 follow-up) --------------------------

def _agent_history(db, user_id):
    from ecti.acd.models import AgentStatusChange

    db.rollback()
    db.expire_all()
    return db.execute(
        select(AgentStatusChange.from_status, AgentStatusChange.to_status, AgentStatusChange.reason, AgentStatusChange.at)
        .where(AgentStatusChange.user_id == user_id).order_by(AgentStatusChange.at, AgentStatusChange.id)
    ).all()


def _status(db, user_id):
    from ecti.acd.agents import live_status
    from ecti.acd.models import Agent

    db.rollback()
    db.expire_all()
    agent = db.get(Agent, user_id)
    return live_status(agent, agent.updated_at), agent.available_at


def test_a_dialer_row_shows_the_agent_busy_on_a_call_then_in_wrap_up_and_the_history_adds_up(app, company, db):
    from ecti.calls.events import apply_status
    from ecti.calls.models import Call, CallStatus, Direction
    from ecti.models.meta import utcnow

    make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    t0 = utcnow().replace(microsecond=0) + timedelta(hours=1)
    user = company.agent_a
    attempt_id, _n, number = claim(app, company, user, t0)
    assert _status(db, user.id) == ("wrap_up", None), "row shown: busy with the list, not available"
    in_tx(app, company.tenant.id, lambda r: services.start_dialing(r, r.db.get(User, user.id), attempt_id, t0 + timedelta(seconds=10)))
    assert _status(db, user.id) == ("on_call", None)

    def the_call_ends(r):
        call = Call(tenant_id=company.tenant.id, carrier_call_id="CA-dialer-1", direction=Direction.outbound, from_number=CALLER_ID,
                    to_number=number, status=CallStatus.in_progress, started_at=t0 + timedelta(seconds=11), user_id=user.id)
        r.db.add(call)
        r.db.flush()
        apply_status(r, call, CallStatus.completed, at=t0 + timedelta(seconds=70))
        return call.id

    call_id = in_tx(app, company.tenant.id, the_call_ends)
    assert _status(db, user.id) == ("wrap_up", None), "after the call: wrap-up until the result is recorded"
    in_tx(app, company.tenant.id, lambda r: services.record_result(r, r.db.get(User, user.id), attempt_id, Outcome.connected,
                                                                  now=t0 + timedelta(seconds=100)))
    assert _status(db, user.id) == ("available", t0 + timedelta(seconds=100))
    history = [h for h in _agent_history(db, user.id) if h.at >= t0]
    assert [(h.to_status, h.reason) for h in history] == [
        ("wrap_up", "dialer_row"), ("on_call", "dialer_dial"), ("wrap_up", "dialer_call_ended"), ("available", "dialer_result")]
    assert [h.at - t0 for h in history] == [timedelta(0), timedelta(seconds=10), timedelta(seconds=70), timedelta(seconds=100)]
    everything = _agent_history(db, user.id)
    assert all(b.from_status == a.to_status for a, b in zip(everything, everything[1:])), "each change starts where the last ended"
    from ecti.calls.models import Call as C
    assert db.get(C, call_id).wrap_up_seconds == 30, "the call's wrap-up: from its end to the result"
    # The agent report counts the row's time: 60 s on a call, 10 s + 30 s of wrap-up.
    from zoneinfo import ZoneInfo

    from ecti.db import set_tenant_scope
    from ecti.reports.periods import Period
    from ecti.reports.queries import agent_report

    set_tenant_scope(db, company.tenant.id)
    local = t0.astimezone(ZoneInfo("Asia/Tokyo")).date()
    report = agent_report(db, company.tenant.id, Period(local - timedelta(days=1), local + timedelta(days=1), ZoneInfo("Asia/Tokyo")),
                          now=t0 + timedelta(seconds=160))
    figures = next(a for a in report.agents if a.user_id == user.id)
    assert (figures.status("on_call"), figures.status("wrap_up")) == (60.0, 40.0)
    assert figures.status("available") >= 60.0


def test_a_skipped_or_given_back_row_makes_the_agent_available_again(app, company, db):
    from ecti.models.meta import utcnow

    make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
              numbers=("+819011110001", "+819011110002"))
    t0 = utcnow().replace(microsecond=0) + timedelta(hours=1)
    user = company.agent_a
    attempt_id, *_rest = claim(app, company, user, t0)
    in_tx(app, company.tenant.id, lambda r: services.skip(r, r.db.get(User, user.id), attempt_id, t0 + timedelta(seconds=5)))
    assert _status(db, user.id) == ("available", t0 + timedelta(seconds=5))
    claim(app, company, user, t0 + timedelta(seconds=6))
    assert _status(db, user.id)[0] == "wrap_up"
    in_tx(app, company.tenant.id, lambda r: services.leave(r, r.db.get(User, user.id), r.db.get(DialingList, r.db.get(DialingAttempt, attempt_id).list_id),
                                                          t0 + timedelta(seconds=9)))
    assert _status(db, user.id) == ("available", t0 + timedelta(seconds=9))


def _queue_with_a_waiting_call(db, company, user):
    from ecti.acd.models import EntryStatus, Queue, QueueEntry, QueueMember
    from ecti.calls.models import Call, CallStatus, Direction

    queue = Queue(tenant_id=company.tenant.id, name="サポート", overflow={}, hold_audio={}, wrap_up_seconds=0, escalation_seconds=0)
    db.add(queue)
    db.flush()
    db.add(QueueMember(tenant_id=company.tenant.id, queue_id=queue.id, user_id=user.id, level=1, position=1))
    call = Call(tenant_id=company.tenant.id, carrier_call_id="CA-inbound-1", direction=Direction.inbound, from_number="+819033334444",
                to_number=CALLER_ID, status=CallStatus.in_progress)
    db.add(call)
    db.flush()
    db.add(QueueEntry(tenant_id=company.tenant.id, queue_id=queue.id, call_id=call.id, status=EntryStatus.waiting))
    db.commit()
    return queue.id


def _route(app, company, queue_id, now):
    from ecti.acd.models import Queue
    from ecti.acd.routing import route

    return in_tx(app, company.tenant.id, lambda r: route(r, r.db.get(Queue, queue_id), now))


def test_no_acd_call_is_offered_to_an_agent_with_an_open_row_even_after_away_and_back(app_settings, engine, company, db):
    from ecti.acd.agents import end_wrap_up, set_presence
    from ecti.acd.models import Agent, AgentState, Offer, Presence
    from ecti.acd.testing import RecordingCarrier, carrier_plugin
    from ecti.config import configure
    from ecti.errors import UserError
    from ecti.models.meta import utcnow
    from ecti.plugins import get_plugin_manager

    # The ACD's recording carrier double: ringing an agent's phone is not what this test is about.
    carrier = RecordingCarrier()
    config = configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[carrier_plugin(carrier)]), engine=engine)
    app = types.SimpleNamespace(registry=config.registry)
    company.tenant.carrier = "recording"
    user = company.agent_a
    make_list(db, company, weekly={d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    queue_id = _queue_with_a_waiting_call(db, company, user)
    t0 = utcnow().replace(microsecond=0) + timedelta(hours=1)
    attempt_id, *_rest = claim(app, company, user, t0)
    in_tx(app, company.tenant.id, lambda r: services.start_dialing(r, r.db.get(User, user.id), attempt_id, t0 + timedelta(seconds=5)))
    # The agent switches away and back while the call to the row is in progress.
    in_tx(app, company.tenant.id, lambda r: set_presence(r, r.db.get(User, user.id), Presence.away))
    in_tx(app, company.tenant.id, lambda r: set_presence(r, r.db.get(User, user.id), Presence.available))
    assert _status(db, user.id)[0] == "on_call"
    assert _route(app, company, queue_id, t0 + timedelta(seconds=30)) == 0
    # Even an agent row that looks free (as the ACD saw it before) is not routable while the row is open.
    agent = db.get(Agent, user.id)
    agent.state, agent.status, agent.available_at = AgentState.idle, "available", t0
    db.commit()
    assert _route(app, company, queue_id, t0 + timedelta(seconds=40)) == 0
    agent = db.get(Agent, user.id)
    agent.state, agent.status, agent.available_at = AgentState.wrap_up, "wrap_up", None
    db.commit()
    # Nor can the agent end "wrap-up" to become available before the result is recorded.
    with pytest.raises(UserError) as err:
        in_tx(app, company.tenant.id, lambda r: end_wrap_up(r, r.db.get(User, user.id)))
    assert err.value.code == "dialer_row_open"
    assert db.scalar(select(func.count()).select_from(Offer)) == 0
    in_tx(app, company.tenant.id, lambda r: services.record_result(r, r.db.get(User, user.id), attempt_id, Outcome.connected,
                                                                  now=t0 + timedelta(seconds=60)))
    # With the result recorded the waiting call is offered to the agent at once (their phone is
    # still there: it kept sending its heartbeat).
    db.rollback()  # a fresh snapshot: the app wrote since this session last read
    agent = db.get(Agent, user.id)
    agent.phone_seen_at = t0 + timedelta(seconds=60)
    db.commit()
    assert _route(app, company, queue_id, t0 + timedelta(seconds=61)) == 1
    db.rollback()
    assert db.scalar(select(Offer.user_id)) == user.id
    assert [op[0] for op in carrier.operations] == ["dial_agent"], "the agent's phone rings for the ACD call"


def test_the_tick_deletes_uploads_checked_but_not_confirmed_for_24_hours(app, company, db, make_tenant):
    from ecti.dialer.jobs import tick_job

    list_id = make_list(db, company, status=ListStatus.paused)
    t0 = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    def upload_at(age, confirmed=False, tenant_id=company.tenant.id, lst=list_id):
        imp = DialingImport(tenant_id=tenant_id, list_id=lst, filename=f"{age}.csv", encoding="utf-8", columns=["電話番号"],
                            good=[{"row": 2, "number": "+819011119999", "name": "", "extra": []}], refused=[],
                            created_at=t0 - age, confirmed_at=(t0 - age) if confirmed else None)
        db.add(imp)
        db.flush()
        return imp.filename

    old = upload_at(timedelta(hours=24, seconds=1))
    recent = upload_at(timedelta(hours=23, minutes=59))
    imported = upload_at(timedelta(days=3), confirmed=True)
    db.commit()
    tick_job(app.registry, now=t0)
    db.rollback()
    db.expire_all()
    assert sorted(db.scalars(select(DialingImport.filename))) == sorted([recent, imported])
    assert old not in db.scalars(select(DialingImport.filename)).all()
    # An hour later the other unconfirmed one is over 24 hours old too; the confirmed one stays (the list's history).
    tick_job(app.registry, now=t0 + timedelta(hours=1))
    db.rollback()
    assert db.scalars(select(DialingImport.filename)).all() == [imported]


def test_a_draft_list_never_reaches_agents(session_for, company):
    """Issue 18: a list an admin is still preparing is not in the agents' API nor their phone."""
    admin, admin_h = session_for(company.admin)
    draft = create_list(admin, admin_h, company, name="準備中のリスト")
    agent, h = session_for(company.agent_a)
    assert agent.get("/api/v1/dialer/me/lists").json["lists"] == []
    for action in ("join", "leave"):
        assert agent.post(f"/api/v1/dialer/me/lists/{draft['id']}/{action}", headers=h, expect_errors=True).status_int == 404
    assert agent.post("/api/v1/dialer/me/next", headers=h).json["reason"] == "not_joined"
    # Started, it appears.
    imp = upload(admin, admin_h, draft["id"], csv_bytes(["番号", "090-1111-0001"]))
    admin.post(f"/api/v1/dialer/imports/{imp.json['id']}/confirm", headers=admin_h)
    assert admin.put(f"/api/v1/dialer/lists/{draft['id']}/status", json={"status": "running"}, headers=admin_h).status_int == 200
    assert [l["name"] for l in agent.get("/api/v1/dialer/me/lists").json["lists"]] == ["準備中のリスト"]
