"""The IVR in the console and the JSON API, as an admin uses them; other tenants see nothing."""
import json

import pytest
from sqlalchemy import select

from ecti.ivr.models import Closure, Flow, Schedule
from ecti.telephony.models import PhoneNumber


@pytest.fixture
def admin(ivr_app, login, make_user, tenant):
    login(ivr_app, make_user(tenant, role="admin"))
    return ivr_app


@pytest.fixture
def other_admin(ivr_app, login, make_user, make_tenant):
    """An admin of another company, signed in on their own browser."""
    import webtest

    browser = webtest.TestApp(ivr_app.app, extra_environ={"HTTP_HOST": "localhost"})
    login(browser, make_user(make_tenant(slug="other", name="他社"), role="admin"))
    return browser


def test_an_admin_builds_a_flow_in_the_editor_and_assigns_the_number(admin, db):
    page = admin.get("/admin/ivr/flows")
    form = page.forms["new-flow"]
    form["name"] = "代表"
    editor = form.submit().follow()
    assert "代表" in editor.text
    assert editor.html.select_one("#flow-editor-data") is not None  # the visual editor
    editor = admin.get(editor.request.path + "/form")  # its accessible fallback, one form

    # Add an announcement, fill it in, make it the start and lead it to the starter hang-up node.
    form = editor.forms["flow-editor"]
    form["new.type"], form["new.id"] = "announcement", "welcome"
    editor = form.submit("action", value="add")
    # Added, not saved yet: the page says so (and flow-form.js asks before leaving).
    assert editor.html.select_one("#flow-editor").has_attr("data-unsaved")
    state = editor.html.select_one("#flow-form-state")
    assert state.text == "未保存の変更があります" and not state.has_attr("hidden")
    form = editor.forms["flow-editor"]
    form["start"] = "welcome"
    form["nodes-1.settings.prompt"] = "お電話ありがとうございます。"
    form["nodes-1.next.next"] = "start"
    saved = form.submit("action", value="save").follow()
    assert "保存しました" in saved.text
    db.commit()
    db.expire_all()  # see what the app committed, not what this session remembers
    flow = db.scalars(select(Flow)).one()
    assert flow.start == "welcome"
    assert flow.node("welcome") == {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": "お電話ありがとうございます。"}}, "next": {"next": "start"}}

    numbers = admin.get("/admin/ivr/flows").forms["numbers"]
    number = db.scalars(select(PhoneNumber)).one()
    numbers[f"number-{number.id}"] = str(flow.id)
    numbers.submit().follow()
    db.commit()
    db.expire_all()
    assert db.get(PhoneNumber, number.id).flow_id == flow.id


def test_the_editor_names_the_node_and_the_problem_and_saves_nothing(admin, db, company):
    editor = admin.get(f"/admin/ivr/flows/{company.flow.id}/form")
    form = editor.forms["flow-editor"]
    form["nodes-2.settings.digits"] = "1, 2, 2, 3"  # the menu
    form["nodes-4.settings.destinations"] = "0570-000-000, 03-1234-567x"  # the forward
    answer = form.submit("action", value="save", status=422)
    alerts = [p.text for p in answer.html.select("#node-menu [role=alert]")]
    assert alerts == ["番号 2 が 2 回使われています。"]
    support = [p.text for p in answer.html.select("#node-support [role=alert]")]
    assert "0570（ナビダイヤル）" in support[0] and "050 の発信者番号からは" in support[0]  # the softphone's message
    assert "03-1234-567x" in support[1]
    assert "何も保存していません" in answer.text or "保存していません" in answer.text
    db.commit()
    db.expire_all()
    assert db.get(Flow, company.flow.id).node("menu")["settings"]["digits"] == ["1", "2", "3"]


def test_removing_a_node_that_others_lead_to_is_refused(admin, company):
    form = admin.get(f"/admin/ivr/flows/{company.flow.id}/form").forms["flow-editor"]
    form["nodes-7.delete"] = True  # the voicemail node many exits lead to
    answer = form.submit("action", value="save", status=422)
    alerts = [p.text for p in answer.html.select("#node-menu [role=alert]")]
    assert "出口 3 の行き先 message というノードはありません。" in alerts
    assert "出口 fallback の行き先 message というノードはありません。" in alerts


def test_schedule_editor_and_the_what_happens_at_preview(admin, db, company):
    page = admin.get(f"/admin/ivr/schedules/{company.schedule.id}")
    form = page.forms["schedule-editor"]
    assert form["mon"].value == "09:00-12:00, 13:00-18:00"
    form["sat"] = "10:00-15:00"
    form["sun"] = "18:00-09:00"
    refused = form.submit("action", value="save", status=422)
    assert "日曜日: 時間帯 18:00–09:00 は終了が開始より前です" in refused.text
    form = refused.forms["schedule-editor"]
    form["sun"] = ""
    form.submit("action", value="save").follow()
    db.commit()
    db.expire_all()
    assert db.get(Schedule, company.schedule.id).weekly["sat"] == [["10:00", "15:00"]]

    for at, branch, shown, why in [
        ("2025-06-14T11:00", "open", "営業時間内", "営業時間内（10:00-15:00）"),
        ("2025-01-13T10:00", "holiday", "休業日", "成人の日（日本の祝日）のため休業日"),
        ("2025-12-31T10:00", "holiday", "休業日", "会社の休業日（年末年始休業）"),
        ("2025-06-15T11:00", "closed", "営業時間外", "この曜日は営業していません"),
    ]:
        status = admin.get(f"/admin/ivr/schedules/{company.schedule.id}", {"at": at}).html.select_one("#preview [role=status]")
        assert status.select_one(".branch")["data-branch"] == branch
        assert status.text.startswith(shown + ":") and why in status.text, status.text


def test_holiday_calendar_view_and_company_closures(admin, db, company):
    page = admin.get("/admin/ivr/holidays", {"year": "2026"})
    rows = [[td.text for td in tr.select("td")] for tr in page.html.select("#holiday-calendar tbody tr")]
    assert ["2026-01-01", "元日", "日本の祝日"] in rows
    assert ["2026-01-02", "年末年始休業", "会社の休業日"] in rows
    form = page.forms["add-closure"]
    form["name"], form["start"], form["end"] = "創立記念日", "2026-04-01", ""
    form.submit().follow()
    form = admin.get("/admin/ivr/holidays").forms["add-closure"]
    form["name"], form["start"], form["end"] = "逆", "2026-05-02", "2026-05-01"
    assert "休業の終了日が開始日より前です" in form.submit(status=422).text
    db.commit()
    db.expire_all()
    assert [(c.name, str(c.start_date), str(c.end_date)) for c in db.scalars(select(Closure).order_by(Closure.start_date))] == [
        ("年末年始休業", "2025-12-29", "2026-01-03"), ("創立記念日", "2026-04-01", "2026-04-01"),
    ]


def test_the_configuration_file_downloads_and_a_bad_upload_lists_errors(admin, db, company):
    download = admin.get("/admin/config/download")
    assert download.content_disposition == 'attachment; filename="ivr-config.json"'
    doc = json.loads(download.body)
    doc["flows"][0]["nodes"][0]["next"]["open"] = "nowhere"
    form = admin.get("/admin/config").forms["upload"]
    form["file"] = ("config.json", json.dumps(doc).encode("utf-8"))
    refused = form.submit(status=422)
    assert "$.flows[0].nodes[0].next.open" in refused.text and "nowhere というノードはありません" in refused.text
    doc["flows"][0]["nodes"][0]["next"]["open"] = "welcome"
    doc["flows"][0]["nodes"][1]["settings"]["prompt"]["text"] = "毎度ありがとうございます。"
    form = admin.get("/admin/config").forms["upload"]
    form["file"] = ("config.json", json.dumps(doc).encode("utf-8"))
    form.submit().follow()
    db.commit()
    db.expire_all()
    assert db.get(Flow, company.flow.id).node("welcome")["settings"]["prompt"] == {"text": "毎度ありがとうございます。"}


def test_another_companys_admin_gets_404_for_everything(other_admin, company):
    flow, schedule = company.flow, company.schedule
    token = other_admin.get("/api/v1/me").json["csrf_token"]
    assert other_admin.get(f"/admin/ivr/flows/{flow.id}", expect_errors=True).status_int == 404
    assert other_admin.post(f"/admin/ivr/flows/{flow.id}/form", {"csrf_token": token, "node_count": "0"}, expect_errors=True).status_int == 404
    assert other_admin.post(f"/admin/ivr/flows/{flow.id}/delete", {"csrf_token": token}, expect_errors=True).status_int == 404
    assert other_admin.get(f"/admin/ivr/schedules/{schedule.id}", expect_errors=True).status_int == 404
    assert other_admin.get(f"/api/v1/ivr/flows/{flow.id}", expect_errors=True).status_int == 404
    assert other_admin.get(f"/api/v1/ivr/schedules/{schedule.id}/preview?at=2025-06-11T10:00", expect_errors=True).status_int == 404
    assert "代表番号" not in other_admin.get("/admin/ivr/flows").text
    assert json.loads(other_admin.get("/admin/config/download").body)["flows"] == []


def test_agents_cannot_open_the_ivr_pages(ivr_app, login, make_user, tenant):
    login(ivr_app, make_user(tenant, role="agent"))
    assert ivr_app.get("/admin/ivr/flows", expect_errors=True).status_int == 403


def test_the_api_validates_flows_before_saving(ivr_app, login, make_user, tenant, company, db):
    from ecti.testing import CheckedTestApp, OpenAPIChecker, _with_base

    api = CheckedTestApp(ivr_app, OpenAPIChecker(_with_base(ivr_app.get("/api/v1/openapi.json").json)))
    headers = {"X-CSRF-Token": login(ivr_app, make_user(tenant, role="admin"))}
    listed = api.get("/api/v1/ivr/flows").json["flows"]
    assert [f["name"] for f in listed] == ["代表番号"]
    bad = {"name": "夜間", "start": "a", "nodes": [{"id": "a", "type": "announcement", "settings": {"prompt": {"text": "夜間です"}}, "next": {"next": "a"}}]}
    refused = api.post("/api/v1/ivr/flows", json=bad, headers=headers)
    assert refused.status_int == 422
    assert refused.json["error"]["fields"] == [
        {"field": "nodes[0]", "code": "flow_invalid", "message": "ノード a：ノード a がメニューを含まないループになっています。発信者が抜け出せません。"}
    ]
    bad["nodes"][0]["next"] = {}
    created = api.post("/api/v1/ivr/flows", json=bad, headers=headers)
    assert created.status_int == 201
    flow_id = created.json["id"]
    bad["nodes"][0]["settings"]["prompt"]["text"] = "本日の受付は終了しました"
    assert api.get(f"/api/v1/ivr/flows/{flow_id}").status_int == 200
    assert api.put(f"/api/v1/ivr/flows/{flow_id}", json=bad, headers=headers).json["nodes"][0]["settings"]["prompt"]["text"] == "本日の受付は終了しました"
    preview = api.get(f"/api/v1/ivr/schedules/{company.schedule.id}/preview?at=2025-12-30T10:00").json
    assert preview == {"branch": "holiday", "reason": "closure", "explanation": "2025-12-30 10:00：会社の休業日（年末年始休業）です。"}
    assert api.get(f"/api/v1/ivr/schedules/{company.schedule.id}/preview?at=tomorrow").status_int == 422
