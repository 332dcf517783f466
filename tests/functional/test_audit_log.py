"""The audit log: who changed what, and when — the operator sees everything, a company's
administrators see their company's entries only."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from ecti.audit.models import AuditEntry
from ecti.audit.services import add_audit_entry


@pytest.fixture
def two_companies(make_tenant, make_user):
    acme = make_tenant(slug="acme", name="株式会社アクメ")
    beta = make_tenant(slug="beta", name="ベータ株式会社")
    return {
        "acme": acme,
        "beta": beta,
        "acme_admin": make_user(acme, role="admin", email="boss@acme.example"),
        "beta_admin": make_user(beta, role="admin", email="boss@beta.example"),
        "operator": make_user(None, role="operator", email="op@ecti.example"),
    }


def actions(db, tenant_id=None):
    query = select(AuditEntry.action, AuditEntry.actor_email, AuditEntry.details).order_by(AuditEntry.id)
    if tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == tenant_id)
    result = [tuple(row) for row in db.execute(query)]
    db.commit()  # end the read before the application writes again
    return result


def test_tenant_admin_user_actions_in_the_console_are_recorded(webtest, login, two_companies, db):
    acme, admin = two_companies["acme"], two_companies["acme_admin"]
    token = login(webtest, admin)
    form = webtest.get("/admin/users").forms["add-user"]
    form["display_name"], form["email"], form["role"] = "応対 三郎", "saburo@acme.example", "agent"
    form.submit()
    # A refused action leaves no entry.
    form = webtest.get("/admin/users").forms["add-user"]
    form["display_name"], form["email"], form["role"] = "重複", "saburo@acme.example", "agent"
    assert form.submit(expect_errors=True).status_int == 422
    saburo = db.scalar(select(AuditEntry.target_id).where(AuditEntry.action == "user.create"))
    db.commit()
    webtest.post(f"/admin/users/{saburo}/active", {"csrf_token": token, "active": "0"}, status=303)
    webtest.post(f"/admin/users/{saburo}/active", {"csrf_token": token, "active": "0"}, status=303)  # already inactive: nothing
    webtest.post(f"/admin/users/{saburo}/active", {"csrf_token": token, "active": "1"}, status=303)

    assert actions(db, acme.id) == [
        ("user.create", "boss@acme.example", {"email": "saburo@acme.example", "role": "agent"}),
        ("user.deactivate", "boss@acme.example", {"email": "saburo@acme.example"}),
        ("user.activate", "boss@acme.example", {"email": "saburo@acme.example"}),
    ]
    page = webtest.get("/admin/audit")
    rows = [tr.find_all("td", recursive=False) for tr in page.html.select("#audit-entries > tbody > tr")]
    # Newest first, as sentences in Japanese, with who did it.
    assert [cells[-1].select_one(".audit-summary").text for cells in rows] == [
        "ユーザー saburo@acme.example を再び有効にしました",
        "ユーザー saburo@acme.example を無効にしました",
        "ユーザー saburo@acme.example（オペレーター）を作成しました",
    ]
    assert {cells[-2].text for cells in rows} == {"boss@acme.example"}


def test_api_user_changes_are_recorded_with_what_changed(api, login, two_companies, db):
    acme = two_companies["acme"]
    headers = {"X-CSRF-Token": login(api.testapp, two_companies["acme_admin"])}
    created = api.post("/api/v1/users", json={"email": "hana@acme.example", "display_name": "応対 花子", "role": "agent", "password": "long enough pw"}, headers=headers)
    user_id = created.json["id"]
    api.patch(f"/api/v1/users/{user_id}", json={"role": "supervisor", "display_name": "応対 花子"}, headers=headers)
    api.patch(f"/api/v1/users/{user_id}", json={"role": "supervisor"}, headers=headers)  # no change: no entry
    api.patch(f"/api/v1/users/{user_id}", json={"is_active": False}, headers=headers)

    assert [(a, d) for a, _actor, d in actions(db, acme.id)] == [
        ("user.create", {"email": "hana@acme.example", "role": "agent"}),
        ("user.update", {"email": "hana@acme.example", "changes": {"role": ["agent", "supervisor"]}}),
        ("user.deactivate", {"email": "hana@acme.example"}),
    ]
    entries = api.get("/api/v1/audit").json["entries"]
    assert entries[1]["summary"] == "ユーザー hana@acme.example を変更しました: 役割 オペレーター → スーパーバイザー"
    assert entries[1]["target_type"] == "User" and entries[1]["target_id"] == user_id


def test_a_company_admin_sees_only_its_own_entries_and_404_for_others(api, login, two_companies, db):
    acme, beta = two_companies["acme"], two_companies["beta"]
    add_audit_entry(db, "user.create", tenant_id=acme.id, details={"email": "a@acme.example", "role": "agent"})
    add_audit_entry(db, "user.create", tenant_id=beta.id, details={"email": "b@beta.example", "role": "agent"})
    add_audit_entry(db, "tenant.create", details={"slug": "installation-wide"})  # concerns no company
    db.commit()
    beta_entry = db.scalar(select(AuditEntry.id).where(AuditEntry.tenant_id == beta.id))
    db.commit()

    login(api.testapp, two_companies["acme_admin"])
    listed = api.get("/api/v1/audit").json["entries"]
    assert [e["details"]["email"] for e in listed] == ["a@acme.example"]
    assert api.get(f"/api/v1/audit/{beta_entry}").status_int == 404
    # ?tenant_id= cannot widen the view.
    assert [e["tenant_id"] for e in api.get(f"/api/v1/audit?tenant_id={beta.id}").json["entries"]] == [acme.id]
    page = api.testapp.get("/admin/audit")
    assert "a@acme.example" in page.text and "b@beta.example" not in page.text and "installation-wide" not in page.text
    # The operator's log is not theirs.
    assert api.get("/api/v1/operator/audit").status_int == 403


def test_what_the_operator_does_to_a_company_is_in_that_companys_log(webtest, login, two_companies):
    acme = two_companies["acme"]
    token = login(webtest, two_companies["operator"])
    webtest.post(f"/operator/tenants/{acme.id}/suspend", {"csrf_token": token, "reason": "点検のため"}, status=303)
    webtest.post(f"/operator/tenants/{acme.id}/resume", {"csrf_token": token}, status=303)
    webtest.reset()
    login(webtest, two_companies["acme_admin"])
    page = webtest.get("/admin/audit")
    texts = [tr.select_one(".audit-summary").text for tr in page.html.select("#audit-entries > tbody > tr")]
    assert texts == ["企業 acme の利用を再開しました", "企業 acme の利用を停止しました。理由: 点検のため"]
    assert "op@ecti.example" in page.text


def test_operator_sees_every_entry_and_filters_by_company(webtest, api, login, two_companies, db):
    acme, beta = two_companies["acme"], two_companies["beta"]
    at = datetime(2026, 5, 20, 1, 2, tzinfo=timezone.utc)  # 10:02 in Tokyo
    add_audit_entry(db, "user.create", tenant_id=acme.id, details={"email": "a@acme.example", "role": "agent"}, at=at)
    add_audit_entry(db, "user.deactivate", tenant_id=beta.id, details={"email": "b@beta.example"}, at=at)
    db.commit()
    login(webtest, two_companies["operator"])
    page = webtest.get("/operator/audit")
    rows = page.html.select("#audit-entries > tbody > tr")
    assert [tr.select("td")[1].text for tr in rows] == ["ベータ株式会社", "株式会社アクメ"]
    assert rows[0].select("td")[0].text == "2026/05/20（水）10:02"
    filtered = webtest.get(f"/operator/audit?tenant={beta.id}")
    assert "b@beta.example" in filtered.text and "a@acme.example" not in filtered.text
    assert [e["tenant_id"] for e in api.get(f"/api/v1/operator/audit?tenant_id={acme.id}").json["entries"]] == [acme.id]


def test_a_long_log_is_paged(webtest, login, two_companies, db):
    acme = two_companies["acme"]
    for i in range(105):
        add_audit_entry(db, "user.deactivate", tenant_id=acme.id, details={"email": f"u{i:03d}@acme.example"})
    db.commit()
    login(webtest, two_companies["acme_admin"])
    first = webtest.get("/admin/audit")
    assert len(first.html.select("#audit-entries > tbody > tr")) == 100
    assert "u104@acme.example" in first.text and "u004@acme.example" not in first.text
    older = first.click(href="before=")
    assert len(older.html.select("#audit-entries > tbody > tr")) == 5
    assert "u004@acme.example" in older.text and "u000@acme.example" in older.text


def test_agents_have_no_audit_log(webtest, login, two_companies, make_user):
    agent = make_user(two_companies["acme"], role="agent")
    login(webtest, agent)
    assert webtest.get("/admin/audit", expect_errors=True).status_int == 403


def test_secrets_never_reach_the_log(webtest, login, two_companies, db):
    token = login(webtest, two_companies["acme_admin"])
    webtest.post("/admin/users", {"csrf_token": token, "display_name": "秘密", "email": "s@acme.example", "role": "agent", "password": "a secret password"})
    assert db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.details.is_not(None))) == 1
    assert all("a secret password" not in str(d) for _a, _b, d in actions(db))
