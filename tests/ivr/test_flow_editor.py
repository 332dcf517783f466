"""The visual flow editor's server side: the page, and the JSON save that checks the whole flow
(numbers with the softphone's dialing rules, prompts of the company's library) and saves all of
it or nothing."""
import copy
import json

import pytest
from sqlalchemy import select

from ecti.ivr.models import Flow
from ecti.prompts.models import Prompt, PromptKind
from ecti.telephony.models import PhoneNumber

NUMBER = "+815012340000"  # the tenant fixture's 050 number


@pytest.fixture
def admin(ivr_app, login, make_user, tenant):
    token = login(ivr_app, make_user(tenant, role="admin"))
    ivr_app.token = token
    return ivr_app


def save(app, flow_id, doc, saved=True):
    answer = app.post_json(f"/admin/ivr/flows/{flow_id}/document", doc, headers={"X-CSRF-Token": app.token}, status=200)
    assert answer.json["saved"] is saved, answer.json
    return answer


def editor_doc(company, **support):
    """The main flow as the editor posts it, the forward node's settings changed."""
    doc = copy.deepcopy(company.flow.document())
    node = next(n for n in doc["nodes"] if n["id"] == "support")
    node["settings"].update(support)
    return doc


def stored(db, flow_id):
    db.commit()
    db.expire_all()
    return db.get(Flow, flow_id)


def test_the_page_carries_the_flow_as_data_and_no_inline_code(admin, company):
    page = admin.get(f"/admin/ivr/flows/{company.flow.id}")
    data = page.html.select_one("script#flow-editor-data")
    assert data["type"] == "application/json"
    assert [s.get("src") for s in page.html.select("script") if s.get("type") != "application/json" and not s.get("src")] == []
    assert page.html.select("[style]") == [] and page.html.select("style") == []
    assert not [a for tag in page.html.find_all(True) for a in tag.attrs if a.startswith("on")]
    payload = json.loads(page.html.select_one("#flow-editor-data").string)
    support = next(n for n in payload["flow"]["nodes"] if n["id"] == "support")
    assert support["settings"]["destinations"] == ["03-1234-5678"]  # as people write it
    assert {t["name"]: t["label"] for t in payload["types"]}["announcement"] == "アナウンス"
    for src in [s["src"] for s in page.html.select("script[src]")]:
        assert admin.get(src.replace("http://localhost", "")).status_int == 200
    assert payload["texts"]["unsaved"] == "未保存の変更があります"
    assert admin.get(f"/admin/ivr/flows/{company.flow.id}/form").html.select_one("#flow-editor") is not None


def test_saving_converts_typed_numbers_and_library_prompts(admin, company, scoped, db):
    prompt = Prompt(name="挨拶（喜び）", kind=PromptKind.tts, text="お電話ありがとうございます。", provider="twilio", emotion="joy")
    scoped.add(prompt)
    scoped.commit()
    doc = editor_doc(company, destinations=["03-1234-5678", "090-1111-2222"])
    doc["nodes"][1]["settings"]["prompt"] = {"prompt_id": prompt.id}
    answer = save(admin, company.flow.id, doc).json
    assert answer["problems"] == [] and "保存しました" in answer["message"]
    assert answer["flow"]["nodes"][4]["settings"]["destinations"] == ["03-1234-5678", "090-1111-2222"]
    flow = stored(db, company.flow.id)
    assert flow.node("support")["settings"]["destinations"] == ["+81312345678", "+819011112222"]
    assert flow.node("welcome")["settings"]["prompt"] == {"prompt_id": prompt.id}
    # The library knows the flow plays it, and keeps it.
    refused = admin.delete(f"/api/v1/prompts/{prompt.id}", headers={"X-CSRF-Token": admin.token}, status=409)
    assert "代表番号" in refused.json["error"]["message"]


@pytest.mark.parametrize("typed", ["0570-123-456", "0120-123-456", "+1 415-555-0100", "110"])
def test_a_number_the_dialing_rules_refuse_is_refused_with_the_softphones_message(admin, company, db, typed):
    before = copy.deepcopy(company.flow.nodes)
    answer = save(admin, company.flow.id, editor_doc(company, destinations=[typed]), saved=False).json
    softphone = admin.post_json("/api/v1/softphone/check-number", {"caller_id": NUMBER, "number": typed}, headers={"X-CSRF-Token": admin.token}).json
    assert softphone["allowed"] is False
    assert answer["message"] == "フローに問題があるため、保存していません。" or "保存していません" in answer["message"]
    assert answer["problems"] == [{"index": 4, "part": "settings", "field": "destinations", "message": softphone["message"]}]
    assert stored(db, company.flow.id).nodes == before


def test_free_dial_is_allowed_when_a_free_dial_number_answers(admin, company, scoped, db):
    scoped.query(PhoneNumber).filter(PhoneNumber.e164 == NUMBER).one().flow_id = None
    scoped.add(PhoneNumber(tenant_id=company.flow.tenant_id, e164="+81120123456", label="フリーダイヤル", flow_id=company.flow.id))
    scoped.commit()
    save(admin, company.flow.id, editor_doc(company, destinations=["0120-987-654"]))
    assert stored(db, company.flow.id).node("support")["settings"]["destinations"] == ["+81120987654"]
    # …and a 050 number cannot take that flow over: its forwards would be refused.
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == NUMBER))
    form = admin.get("/admin/ivr/flows").forms["numbers"]
    form[f"number-{number.id}"] = str(company.flow.id)
    page = form.submit().follow()
    assert "050-1234-0000" in page.text and "0120-987-654 は 0120 のフリーダイヤル" in page.text
    assert stored(db, company.flow.id) and db.get(PhoneNumber, number.id).flow_id is None


def test_a_flow_without_a_number_is_checked_with_the_050_rules(admin, make_tenant, db, ivr_config):
    flows = admin.get("/admin/ivr/flows").forms["new-flow"]
    flows["name"] = "未割り当て"
    flow_id = int(flows.submit().follow().request.path.rsplit("/", 1)[1])
    doc = {"name": "未割り当て", "start": "out", "nodes": [{"id": "out", "type": "forward", "settings": {"destinations": ["0800-123-4567"]}, "next": {}}]}
    [problem] = save(admin, flow_id, doc, saved=False).json["problems"]
    assert "050 の発信者番号" in problem["message"]


def test_a_prompt_of_another_company_is_refused(admin, company, make_tenant, db):
    other = make_tenant(slug="other", name="他社")
    theirs = Prompt(tenant_id=other.id, name="他社の挨拶", kind=PromptKind.tts, text="他社です。", provider="twilio")
    db.add(theirs)
    db.commit()
    doc = editor_doc(company)
    doc["nodes"][1]["settings"]["prompt"] = {"prompt_id": theirs.id}
    [problem] = save(admin, company.flow.id, doc, saved=False).json["problems"]
    assert (problem["index"], problem["field"]) == (1, "prompt") and str(theirs.id) in problem["message"]


def test_broken_bodies_and_other_companies_get_no_save(admin, company, other_admin_app, db):
    assert admin.post(f"/admin/ivr/flows/{company.flow.id}/document", "not json", headers={"X-CSRF-Token": admin.token, "Content-Type": "application/json"}, status=400)
    assert admin.post_json(f"/admin/ivr/flows/{company.flow.id}/document", editor_doc(company), status=403)  # no CSRF token
    other, token = other_admin_app
    other.post_json(f"/admin/ivr/flows/{company.flow.id}/document", editor_doc(company), headers={"X-CSRF-Token": token}, status=404)
    other.get(f"/admin/ivr/flows/{company.flow.id}/form", status=404)


@pytest.fixture
def other_admin_app(ivr_app, login, make_user, make_tenant):
    import webtest

    browser = webtest.TestApp(ivr_app.app, extra_environ={"HTTP_HOST": "localhost"})
    token = login(browser, make_user(make_tenant(slug="other2", name="他社2"), role="admin"))
    return browser, token


def test_the_form_view_offers_the_library_too(admin, company, scoped, db):
    prompt = Prompt(name="時間外（録音）", kind=PromptKind.tts, text="本日の営業は終了しました。", provider="twilio", emotion="sadness")
    scoped.add(prompt)
    scoped.commit()
    page = admin.get(f"/admin/ivr/flows/{company.flow.id}/form")
    assert page.html.select_one("input[pattern]")["pattern"] == "[A-Za-z0-9_\\-]{1,40}"  # valid with the v flag
    form = page.forms["flow-editor"]
    form["nodes-5.settings.prompt.prompt_id"] = str(prompt.id)  # the after-hours announcement
    form.submit("action", value="save").follow()
    # The text stays, spoken should the prompt be deleted.
    assert stored(db, company.flow.id).node("after_hours")["settings"]["prompt"] == {"prompt_id": prompt.id, "text": "本日の営業は終了しました。"}


def test_the_editor_asks_about_a_number_while_the_admin_types(admin, company):
    url = f"/admin/ivr/flows/{company.flow.id}/check-number"
    refused = admin.post_json(url, {"number": "0120-123-456"}, headers={"X-CSRF-Token": admin.token}).json
    softphone = admin.post_json("/api/v1/softphone/check-number", {"caller_id": NUMBER, "number": "0120-123-456"}, headers={"X-CSRF-Token": admin.token}).json
    assert refused == {"allowed": False, "display": None, "message": softphone["message"]}
    assert admin.post_json(url, {"number": "０３ー１２３４ー５６７８"}, headers={"X-CSRF-Token": admin.token}).json == {"allowed": True, "display": "03-1234-5678", "message": None}
