"""Every configuration change appears in the company's audit log with what it was before and after.

Each case drives the real console page or API endpoint an admin uses; the entry is then read the
way the admin reads it: on the audit page, filtered by kind, changed fields only, in Japanese.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ecti.audit.models import AuditEntry
from ecti.telephony.models import PhoneNumber

NUMBER = "+815012345678"


@pytest.fixture
def company(make_tenant, make_user, db, api, login):
    tenant = make_tenant(slug="acme", name="株式会社アクメ")
    db.add(PhoneNumber(tenant_id=tenant.id, e164=NUMBER, label="代表", sms_capable=True))
    db.commit()
    admin = make_user(tenant, role="admin", email="boss@acme.example", name="管理 一郎")
    agent = make_user(tenant, role="agent", email="hana@acme.example", name="応対 花子")
    token = login(api.testapp, admin)
    return SimpleNamespace(tenant=tenant, admin=admin, agent=agent, api=api, web=api.testapp, token=token,
                           headers={"X-CSRF-Token": token}, db=db)


def _flow(text="お電話ありがとうございます。"):
    return {"name": "代表", "start": "welcome", "nodes": [
        {"id": "welcome", "type": "announcement", "settings": {"prompt": {"text": text}}, "next": {"next": "bye"}},
        {"id": "bye", "type": "hangup", "settings": {}, "next": {}},
    ]}


def change_flow(c):
    created = c.api.post("/api/v1/ivr/flows", json=_flow(), headers=c.headers)
    assert created.status_int == 201, created.json
    c.api.put(f"/api/v1/ivr/flows/{created.json['id']}", json=_flow("ようこそ。"), headers=c.headers)
    return "flow.update", "ステップ welcome › 発信者に読み上げる文章", "お電話ありがとうございます。", "ようこそ。"


def change_number(c):
    flow = c.api.post("/api/v1/ivr/flows", json=_flow(), headers=c.headers).json
    number = c.db.scalar(select(PhoneNumber))
    c.web.post("/admin/ivr/numbers", {"csrf_token": c.token, f"number-{number.id}": str(flow["id"])}, status=303)
    return "phone_number.update", "着信フロー", "—", "代表"


def change_schedule(c):
    page = c.web.post("/admin/ivr/schedules", {"csrf_token": c.token, "name": "平日"}, status=303).follow()
    form = page.forms["schedule-editor"]
    form["sat"] = "10:00-15:00"
    form.submit("action", value="save", status=303)
    return "schedule.update", "曜日ごとの営業時間 (土曜日)", "—", "10:00, 15:00"


def change_closure(c):
    c.web.post("/admin/ivr/holidays", {"csrf_token": c.token, "name": "創立記念日", "start": "2026-04-01", "end": ""}, status=303)
    return "closure.create", "初日", "—", "2026-04-01"


def change_prompt(c):
    created = c.api.post("/api/v1/prompts", json={"name": "挨拶", "text": "こんにちは。", "provider": "twilio"}, headers=c.headers)
    assert created.status_int == 201, created.json
    c.api.patch(f"/api/v1/prompts/{created.json['id']}", json={"text": "こんばんは。"}, headers=c.headers)
    return "prompt.update", "テキスト", "こんにちは。", "こんばんは。"


def change_queue(c):
    created = c.api.post("/api/v1/acd/queues", json={"name": "サポート", "strategy": "round_robin"}, headers=c.headers)
    assert created.status_int == 201, created.json
    c.api.patch(f"/api/v1/acd/queues/{created.json['id']}", json={"strategy": "longest_idle"}, headers=c.headers)
    return "queue.update", "振り分け方法", "ラウンドロビン", "最長待機"


def change_queue_members(c):
    created = c.api.post("/api/v1/acd/queues", json={"name": "サポート"}, headers=c.headers)
    c.api.put(f"/api/v1/acd/queues/{created.json['id']}/members", json={"members": [{"user_id": c.agent.id, "level": 2}]}, headers=c.headers)
    return "queue.update", "メンバー", "—", "hana@acme.example"


def change_voicemail_box(c):
    c.web.post("/admin/ivr/voicemail", {"csrf_token": c.token, "name": "総務"}, status=303)
    box = c.db.scalar(select(AuditEntry.target_id).where(AuditEntry.action == "voicemail_box.create"))
    c.db.commit()
    form = c.web.get(f"/voicemail/boxes/{box}").forms["box-settings"]
    form["recipient_emails"] = "soumu@acme.example"
    form.submit(status=303)
    return "voicemail_box.update", "通知するアドレス", "—", "soumu@acme.example"


def change_dialing_list(c):
    body = {"name": "11月キャンペーン", "caller_id": NUMBER, "weekly": {"mon": [["09:00", "18:00"]]}, "agent_ids": [c.agent.id]}
    created = c.api.post("/api/v1/dialer/lists", json=body, headers=c.headers)
    assert created.status_int == 201, created.json
    return "dialing_list.create", "発信者番号", "—", "050-1234-5678"


def change_recording_settings(c):
    form = c.web.get("/recordings/settings").forms["recording-settings"]
    form["record_queue_calls"] = True
    form["retention"] = "days"
    form["retention_days"] = "90"
    form.submit(status=303)
    return "recording_settings.create", "録音の保存期間（日）", "—", "90"


def change_salesforce(c):
    form = c.web.get("/salesforce").forms["salesforce-settings"]
    form["domains"] = "mycompany.my.salesforce.com"
    form.submit(status=303)
    return "salesforce.create", "Salesforce のドメイン", "—", "https://mycompany.my.salesforce.com"


def change_contacts_import(c):
    csv = "氏名,会社名,電話番号\n山田 太郎,山田商店,03-1234-5678\n".encode("utf-8")
    form = c.web.get("/contacts").forms["import-contacts"]
    form["file"] = ("contacts.csv", csv)
    form.submit(status=303)
    return "contacts.import", "追加した件数", "—", "1"


def change_sms_settings(c):
    c.web.post("/sms/settings", {"csrf_token": c.token, "user": [str(c.agent.id)]}, status=303)
    return "sms.update", "受信 SMS の通知先", "—", "hana@acme.example"


def change_config_file(c):
    doc = json.loads(c.web.get("/admin/config/download").body)
    doc["schedules"] = [{"name": "土日", "weekly": {"sat": [["10:00", "16:00"]]}, "calendars": []}]
    form = c.web.get("/admin/config").forms["upload"]
    form["file"] = ("config.json", json.dumps(doc).encode("utf-8"))
    form.submit()
    assert c.db.scalar(select(AuditEntry).where(AuditEntry.action == "schedule.create")).details["via"] == "config_file"
    return "config_file.import", "セクション", "—", "営業時間"


CASES = [
    change_flow, change_number, change_schedule, change_closure, change_prompt, change_queue, change_queue_members,
    change_voicemail_box, change_dialing_list, change_recording_settings, change_salesforce, change_contacts_import,
    change_sms_settings, change_config_file,
]


@pytest.mark.parametrize("change", CASES, ids=[c.__name__[len("change_"):] for c in CASES])
def test_a_configuration_change_is_in_the_audit_log_with_before_and_after(company, change):
    action, label, before, after = change(company)
    company.db.commit()
    entry = company.db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())).first()
    assert entry is not None, f"no {action} entry"
    assert (entry.tenant_id, entry.actor_email) == (company.tenant.id, "boss@acme.example")

    kind = action.split(".")[0]
    page = company.web.get("/admin/audit", {"kind": kind})
    assert page.html.select_one(f"#audit-filter option[value='{kind}']").has_attr("selected")
    rows = page.html.select("#audit-entries > tbody > tr")
    assert {tr["data-action"].split(".")[0] for tr in rows} == {kind}, "the filter shows one kind only"
    row = next(tr for tr in rows if int(tr["data-entry"]) == entry.id)
    diff = {th.text: (tr.select_one(".audit-before").text, tr.select_one(".audit-after").text)
            for tr in row.select(".audit-diff tbody tr") for th in tr.select("th")}
    assert label in diff, diff
    old, new = diff[label]
    assert before in old and after in new, diff[label]


def test_a_save_that_changes_nothing_leaves_no_entry_and_a_refused_one_neither(company):
    created = company.api.post("/api/v1/acd/queues", json={"name": "サポート"}, headers=company.headers).json
    company.api.patch(f"/api/v1/acd/queues/{created['id']}", json={"name": "サポート"}, headers=company.headers)
    company.api.patch(f"/api/v1/acd/queues/{created['id']}", json={"ring_timeout": 2, "name": "変更"}, headers=company.headers)
    company.db.commit()
    assert company.db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("queue.%"))).all() == ["queue.create"]


def test_deleting_shows_what_was_deleted(company):
    created = company.api.post("/api/v1/acd/queues", json={"name": "サポート", "ring_timeout": 25}, headers=company.headers).json
    company.api.delete(f"/api/v1/acd/queues/{created['id']}", headers=company.headers)
    page = company.web.get("/admin/audit", {"kind": "queue"})
    summaries = [s.text for s in page.html.select(".audit-summary")]
    assert summaries == ["キュー「サポート」を削除しました", "キュー「サポート」を作成しました"]


def test_secrets_are_masked(company, db):
    from ecti.audit.tracking import MASK
    from ecti_twilio.models import TwilioAccount

    from ecti.db import set_tenant_scope
    from ecti.db import make_session_factory

    session = make_session_factory(db.get_bind())()
    set_tenant_scope(session, company.tenant.id)
    session.add(TwilioAccount(tenant_id=company.tenant.id, api_key_sid="SK" + "1" * 32, api_key_secret_encrypted="very-secret-one"))
    session.commit()
    account = session.scalar(select(TwilioAccount))
    account.api_key_secret_encrypted = "very-secret-two"
    session.commit()
    session.close()
    db.commit()  # a new transaction: see what the other session committed
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action.like("twilio_account.%")).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["twilio_account.create", "twilio_account.update"]
    assert "very-secret" not in json.dumps([e.details for e in entries])
    assert entries[1].details["before"]["api_key_secret_encrypted"] == MASK
    assert entries[1].details["secrets_changed"] == ["api_key_secret_encrypted"]
    page = company.web.get("/admin/audit", {"kind": "twilio_account"})
    assert "very-secret" not in page.text
    [row] = [tr for tr in page.html.select("#audit-entries > tbody > tr") if tr["data-action"] == "twilio_account.update"]
    assert [[c.text for c in tr.select("th, td")] for tr in row.select(".audit-diff tbody tr")] == [["API キーのシークレット", MASK, "（変更あり）"]]
    assert row.select("td")[1].text == "（システム）"


def test_another_company_sees_none_of_these_changes(company, make_tenant, make_user, login, webtest):
    company.api.post("/api/v1/acd/queues", json={"name": "アクメの秘密のキュー"}, headers=company.headers)
    other = make_tenant(slug="beta", name="ベータ株式会社")
    import webtest as wt

    browser = wt.TestApp(webtest.app, extra_environ={"HTTP_HOST": "localhost"})
    login(browser, make_user(other, role="admin", email="admin@beta.example"))
    page = browser.get("/admin/audit")
    assert "アクメの秘密のキュー" not in page.text
    assert not page.html.select("#audit-entries > tbody > tr")
    mine = company.db.scalar(select(AuditEntry.id).where(AuditEntry.action == "queue.create"))
    company.db.commit()
    assert browser.get(f"/api/v1/audit/{mine}", expect_errors=True).status_int == 404


def test_cli_changes_are_audited_as_the_cli(company, tmp_path, app_settings):
    import subprocess
    import sys
    from pathlib import Path

    doc = json.loads(company.web.get("/admin/config/download").body)
    doc["closures"] = [{"name": "夏季休業", "start": "2026-08-13", "end": "2026-08-16"}]
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    ini = tmp_path / "test.ini"
    ini.write_text("[app:main]\nuse = egg:ecti\n" + "".join(f"{k} = {v}\n" for k, v in app_settings.items()), encoding="utf-8")
    ecti = str(Path(sys.executable).with_name("ecti"))
    result = subprocess.run([ecti, "-c", str(ini), "tenant", "import", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    page = company.web.get("/admin/audit", {"kind": "closure"})
    [row] = page.html.select("#audit-entries > tbody > tr")
    assert row.select("td")[1].text == "CLI（コマンドライン）"
    assert row.select_one(".audit-summary").text == "会社の休業日「夏季休業」を作成しました（設定ファイルから）"


def _plugin_that_records_its_own_changes():
    """A plugin as docs/plugins.md shows it: a kind of its own, and record_change in its view."""
    import sys
    import types

    from pyramid.httpexceptions import HTTPSeeOther

    from ecti import hookimpl
    from ecti.audit import Audited, audit_kind, record_change
    from ecti.i18n import _

    module = types.ModuleType("acme_crm_plugin")
    sys.modules["acme_crm_plugin"] = module
    audit_kind(Audited(kind="acme_crm_sync", label=_("Contacts"), title=None,
                       labels={"contacts": _("Contacts added"), "api_token": _("API key secret")}))

    def sync(request):
        record_change(request, "acme_crm_sync", op="import", before={"api_token": "old-token"},
                      after={"contacts": 12, "api_token": "new-token"})
        return HTTPSeeOther("/admin/audit")

    @hookimpl
    def ecti_config(config):
        config.add_route("acme_crm.sync", "/acme-crm/sync")
        config.add_view(sync, route_name="acme_crm.sync", request_method="POST", permission="manage")

    module.ecti_config = ecti_config
    return module


def test_a_plugin_writes_its_own_audit_entries(app_settings, engine, make_tenant, make_user, login, db):
    from ecti.config import configure
    from ecti.plugins import get_plugin_manager

    app = configure(dict(app_settings), plugin_manager=get_plugin_manager(plugins=[_plugin_that_records_its_own_changes()]),
                    engine=engine).make_wsgi_app()
    browser = wt_app(app)
    token = login(browser, make_user(make_tenant(), role="admin", email="boss@acme.example"))
    page = browser.post("/acme-crm/sync", {"csrf_token": token}, status=303).follow()
    [row] = page.html.select("#audit-entries > tbody > tr[data-action='acme_crm_sync.import']")
    assert row.select_one(".audit-summary").text == "連絡先を取り込みました"
    assert row.select("td")[1].text == "boss@acme.example"
    diff = [[c.text for c in tr.select("th, td")] for tr in row.select(".audit-diff tbody tr")]
    assert diff == [["追加した件数", "—", "12"], ["API キーのシークレット", "********", "（変更あり）"]]
    assert "old-token" not in json.dumps(db.scalar(select(AuditEntry.details))) and "new-token" not in page.text


def wt_app(app):
    import webtest

    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
