"""Disposition codes and the wrap-up of a call (issue 18): the company's list (API, console,
configuration file), the disposition and note saved on a call, the call list and the reports."""
import copy
import csv
import io

import pytest
from sqlalchemy import func, select

from ecti.calls.events import record_event
from ecti.calls.models import Call, CallStatus, Direction, EventKind
from ecti.dispositions.models import DispositionCode
from ecti.jobs import in_transaction
from ecti.tenancy.models import Tenant
from ecti.tenant_config import ConfigRefused, export_document, import_document


@pytest.fixture
def company(db, make_tenant, make_user):
    tenant, other = make_tenant(), make_tenant(slug="other", name="他社")
    return type("Company", (), dict(
        tenant=tenant, other=other,
        admin=make_user(tenant, role="admin", email="admin@acme.example"),
        agent=make_user(tenant, role="agent", email="agent@acme.example", name="青木 一郎"),
        agent2=make_user(tenant, role="agent", email="agent2@acme.example"),
        other_admin=make_user(other, role="admin", email="admin@other.example"),
    ))


@pytest.fixture
def session_for(app, login):
    import webtest as wt

    from ecti.testing import CheckedTestApp, OpenAPIChecker, _with_base

    def make(user):
        testapp = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
        checker = OpenAPIChecker(_with_base(testapp.get("/api/v1/openapi.json").json))
        token = login(testapp, user)
        return CheckedTestApp(testapp, checker), {"X-CSRF-Token": token}

    return make


def add_codes(client, headers, *codes):
    out = []
    for code, label in codes:
        response = client.post("/api/v1/dispositions", json={"code": code, "label": label}, headers=headers)
        assert response.status_int == 201, response.json
        out.append(response.json)
    return out


def make_call(app, tenant, *, user_id, direction=Direction.inbound, sid="CA1"):
    with in_transaction(app.registry, tenant.id) as request:
        call = Call(tenant_id=tenant.id, carrier_call_id=sid, direction=direction, from_number="+819011112222",
                    to_number="+815012345678", status=CallStatus.in_progress, user_id=user_id if direction is Direction.outbound else None)
        request.db.add(call)
        request.db.flush()
        record_event(request, call, EventKind.started)
        if direction is Direction.inbound:
            record_event(request, call, EventKind.connected, agent=user_id)
        return call.id


def test_admins_keep_the_list_and_agents_read_the_active_codes(session_for, company):
    admin, h = session_for(company.admin)
    sale, info = add_codes(admin, h, ("sale", "成約"), ("info", "資料送付"))
    assert (sale["position"], info["position"]) == (1, 2)
    renamed = admin.patch(f"/api/v1/dispositions/{info['id']}", json={"label": "資料を送付", "active": False}, headers=h)
    assert renamed.status_int == 200 and (renamed.json["label"], renamed.json["active"]) == ("資料を送付", False)
    agent, ah = session_for(company.agent)
    assert [d["code"] for d in agent.get("/api/v1/dispositions").json["dispositions"]] == ["sale"]
    assert [d["code"] for d in agent.get("/api/v1/dispositions?all=1").json["dispositions"]] == ["sale"]  # admins only
    assert [d["code"] for d in admin.get("/api/v1/dispositions?all=1").json["dispositions"]] == ["sale", "info"]
    assert agent.post("/api/v1/dispositions", json={"code": "x", "label": "X"}, headers=ah).status_int == 403
    assert admin.delete(f"/api/v1/dispositions/{info['id']}", headers=h).status_int == 204
    assert [d["code"] for d in admin.get("/api/v1/dispositions?all=1").json["dispositions"]] == ["sale"]


@pytest.mark.parametrize("body, status, code, words", [
    ({"code": "sale", "label": "もう一つ"}, 409, "duplicate_code", "コード sale はすでにあります"),
    ({"code": "成約", "label": "成約"}, 422, "bad_code", "英数字"),
    ({"code": "ok", "label": "   "}, 422, "bad_label", "表示名"),
    ({"code": "ok", "label": "x" * 101}, 422, "validation_failed", None),
])
def test_bad_codes_are_refused_with_the_reason_and_nothing_is_saved(session_for, company, db, body, status, code, words):
    admin, h = session_for(company.admin)
    add_codes(admin, h, ("sale", "成約"))
    response = admin.post("/api/v1/dispositions", json=body, headers=h)
    assert (response.status_int, response.json["error"]["code"]) == (status, code)
    if words:
        assert words in response.json["error"]["message"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(DispositionCode)) == 1


def test_another_company_never_sees_or_changes_the_codes(session_for, company):
    admin, h = session_for(company.admin)
    [sale] = add_codes(admin, h, ("sale", "成約"))
    other, oh = session_for(company.other_admin)
    assert other.get("/api/v1/dispositions?all=1").json["dispositions"] == []
    assert other.patch(f"/api/v1/dispositions/{sale['id']}", json={"label": "乗っ取り"}, headers=oh).status_int == 404
    assert other.delete(f"/api/v1/dispositions/{sale['id']}", headers=oh).status_int == 404
    # The same code is free for the other company.
    assert add_codes(other, oh, ("sale", "他社の成約"))[0]["code"] == "sale"


def test_an_agent_saves_the_disposition_and_note_on_their_call_and_the_list_shows_it(app, session_for, company, db):
    admin, h = session_for(company.admin)
    add_codes(admin, h, ("sale", "成約"), ("info", "資料送付"))
    mine = make_call(app, company.tenant, user_id=company.agent.id, sid="CA1")
    not_mine = make_call(app, company.tenant, user_id=company.agent2.id, sid="CA2")
    agent, ah = session_for(company.agent)
    saved = agent.put(f"/api/v1/calls/{mine}/wrap-up", json={"disposition": "sale", "note": "見積書を送付"}, headers=ah)
    assert saved.status_int == 200
    assert (saved.json["disposition"], saved.json["disposition_label"], saved.json["note"]) == ("sale", "成約", "見積書を送付")
    refused = agent.put(f"/api/v1/calls/{not_mine}/wrap-up", json={"disposition": "sale"}, headers=ah)
    assert (refused.status_int, refused.json["error"]["code"]) == (403, "not_your_call")
    unknown = agent.put(f"/api/v1/calls/{mine}/wrap-up", json={"disposition": "nope"}, headers=ah)
    assert (unknown.status_int, unknown.json["error"]["code"]) == (422, "unknown_disposition")
    too_long = agent.put(f"/api/v1/calls/{mine}/wrap-up", json={"note": "あ" * 2001}, headers=ah)
    assert too_long.status_int == 422
    # Renaming the code later does not rewrite the call.
    code_id = admin.get("/api/v1/dispositions").json["dispositions"][0]["id"]
    admin.patch(f"/api/v1/dispositions/{code_id}", json={"label": "受注"}, headers=h)
    listed = admin.get("/api/v1/calls?disposition=sale").json["calls"]
    assert [(c["id"], c["disposition_label"], c["wrap_up_note"]) for c in listed] == [(mine, "成約", "見積書を送付")]
    assert [c["id"] for c in admin.get("/api/v1/calls?disposition=-").json["calls"]] == [not_mine]
    page = admin.testapp.get("/calls?disposition=sale")
    assert "見積書を送付" in page.text and f'data-call="{not_mine}"' not in page.text
    assert "見積書を送付" in admin.testapp.get(f"/calls/{mine}").text
    # A supervisor or admin may correct it; clearing is allowed.
    cleared = admin.put(f"/api/v1/calls/{mine}/wrap-up", json={"disposition": None, "note": ""}, headers=h)
    assert (cleared.json["disposition"], cleared.json["note"]) == (None, None)


def test_another_company_cannot_wrap_up_the_call(app, session_for, company):
    call_id = make_call(app, company.tenant, user_id=company.agent.id)
    other, oh = session_for(company.other_admin)
    assert other.put(f"/api/v1/calls/{call_id}/wrap-up", json={"note": "x"}, headers=oh).status_int == 404


def test_the_center_report_counts_calls_per_disposition_in_the_page_and_csv(app, session_for, company):
    admin, h = session_for(company.admin)
    add_codes(admin, h, ("sale", "成約"), ("info", "資料送付"))
    for i, code in enumerate(("sale", "sale", None)):
        call_id = make_call(app, company.tenant, user_id=company.agent.id, sid=f"CA{i}")
        if code:
            admin.put(f"/api/v1/calls/{call_id}/wrap-up", json={"disposition": code}, headers=h)
    page = admin.testapp.get("/reports/center?preset=today")
    assert page.status_int == 200 and "処理コード別" in page.text
    body = admin.testapp.get("/reports/center-dispositions.csv?preset=today&lang=ja").body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["処理コード", "コード", "通話", "着信", "発信数"]
    assert rows[1:] == [["成約", "sale", "2", "2", "0"], ["なし", "", "1", "1", "0"]]


def test_the_console_page_adds_changes_and_refuses_bad_codes(session_for, company, db):
    admin, h = session_for(company.admin)
    page = admin.testapp.get("/admin/dispositions")
    assert page.status_int == 200 and "処理コードはまだありません" in page.text
    form = page.forms["add-disposition"]
    form["code"], form["label"] = "sale", "成約"
    assert form.submit("action", value="add").status_int == 303
    page = admin.testapp.get("/admin/dispositions")
    assert 'value="成約"' in page.text
    form = page.forms["add-disposition"]
    form["code"], form["label"] = "sale", "重複"
    refused = form.submit("action", value="add", expect_errors=True)
    assert refused.status_int == 409 and "コード sale はすでにあります" in refused.text
    code_id = db.scalar(select(DispositionCode.id).where(DispositionCode.code == "sale"))
    db.rollback()
    assert f'form="disp-{code_id}" name="label" value="成約"' in page.text  # the row's cells belong to its form
    # The row's form as the browser sends it (its cells' inputs, the checkbox left unticked).
    saved = admin.testapp.post("/admin/dispositions", {"csrf_token": h["X-CSRF-Token"], "id": code_id, "action": "save",
                                                       "position": "1", "code": "sale", "label": "受注"})
    assert saved.status_int == 303
    db.expire_all()
    code = db.scalar(select(DispositionCode).where(DispositionCode.code == "sale"))
    assert (code.label, code.active) == ("受注", False)


def test_the_configuration_file_round_trips_and_reports_bad_codes_by_path(app, company, db):
    from ecti.db import make_session_factory, set_tenant_scope

    registry = app.registry
    session = make_session_factory(db.get_bind())()
    set_tenant_scope(session, company.tenant.id)
    try:
        tenant = session.get(Tenant, company.tenant.id)
        doc = export_document(session, registry, tenant)
        assert doc["dispositions"] == []
        doc["dispositions"] = [{"code": "sale", "label": "成約"}, {"code": "info", "label": "資料送付", "active": False}]
        import_document(session, registry, copy.deepcopy(doc), tenant=tenant)
        again = export_document(session, registry, tenant)
        assert again["dispositions"] == [{"code": "sale", "label": "成約", "active": True},
                                         {"code": "info", "label": "資料送付", "active": False}]
        bad = copy.deepcopy(again)
        bad["dispositions"] = [{"code": "new", "label": "新規"}, {"code": "sale", "label": "x"}, {"code": "sale", "label": "y"},
                               {"code": "bad code", "label": "z"}]
        with pytest.raises(ConfigRefused) as refused:
            import_document(session, registry, bad, tenant=tenant)
        paths = [path for path, _message in refused.value.errors]
        assert "$.dispositions[2].code" in paths and "$.dispositions[3].code" in paths
        # Nothing of the refused file was applied.
        assert export_document(session, registry, tenant)["dispositions"] == again["dispositions"]
        # The other company's file is its own.
        set_tenant_scope(session, company.other.id)
        assert export_document(session, registry, session.get(Tenant, company.other.id))["dispositions"] == []
    finally:
        session.rollback()
        session.close()
