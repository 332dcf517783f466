"""The built-in contact directory: console CRUD, CSV import (encodings, per-row errors, all or
nothing), the JSON API, the caller's name on the softphone, and tenant isolation."""
import pytest

from ecti.contacts.services import decode_csv

CSV_HEADER = "氏名,会社名,電話番号,電話番号2,メモ\r\n"


@pytest.fixture
def supervisor(make_tenant, make_user, webtest, login):
    tenant = make_tenant(slug="acme")
    user = make_user(tenant, role="supervisor")
    login(webtest, user)
    return user


def add(webtest, **fields):
    form = webtest.get("/contacts").forms["add-contact"]
    for key, value in fields.items():
        form[key] = value
    return form.submit(expect_errors=True)


def upload(webtest, data: bytes):
    form = webtest.get("/contacts").forms["import-contacts"]
    form["file"] = ("contacts.csv", data, "text/csv")
    return form.submit(expect_errors=True)


def names(webtest, q=""):
    page = webtest.get("/contacts", {"q": q} if q else {})
    return [a.text for a in page.html.select("table.grid tbody a")]


def test_a_contact_is_added_found_edited_and_deleted(supervisor, webtest):
    assert add(webtest, name="山田 太郎", company="山田商事", numbers="03-1234-5678, ０９０（１１１１）２２２２").status_int == 303
    page = webtest.get("/contacts")
    row = page.html.select_one("table.grid tbody tr").text
    assert "山田 太郎" in row and "03-1234-5678" in row and "090-1111-2222" in row
    assert names(webtest, "山田商") == ["山田 太郎"]
    assert names(webtest, "0312345678") == ["山田 太郎"]
    assert names(webtest, "鈴木") == []

    edit = webtest.get(page.html.select_one("table.grid tbody a")["href"])
    form = edit.forms["edit-contact"]
    form["name"] = "山田 花子"
    form["numbers"] = "03-1234-5678"
    assert form.submit().status_int == 303
    assert "090-1111-2222" not in webtest.get("/contacts").html.select_one("table.grid tbody tr").text
    edit = webtest.get(webtest.get("/contacts").html.select_one("table.grid tbody a")["href"])
    assert edit.forms["delete-contact"].submit().status_int == 303
    assert names(webtest) == []


def test_bad_contacts_are_refused_with_the_reason(supervisor, webtest):
    add(webtest, name="山田 太郎", numbers="03-1234-5678")
    page = add(webtest, name="", numbers="12")
    assert page.status_int == 400
    errors = " ".join(e.text for e in page.html.select("#add-contact .error"))
    assert "名前" in errors and "12" in errors
    assert "NUL" in add(webtest, name="山田\x00", numbers="03-1111-2222").html.select_one("#add-contact .error").text
    page = add(webtest, name="鈴木 一郎", numbers="03 1234 5678")
    assert "山田 太郎" in page.html.select_one("#add-contact .error").text  # the number is already his
    assert names(webtest) == ["山田 太郎"]


def test_csv_import_reads_utf8_with_bom_and_shift_jis_from_excel(supervisor, webtest):
    utf8 = (CSV_HEADER + "山田 太郎,山田商事,03-1234-5678,090-1111-2222,VIP\r\n").encode("utf-8-sig")
    assert upload(webtest, utf8).status_int == 303
    sjis = (CSV_HEADER + "髙橋 ①子,株式会社髙橋,06-1111-2222,,\r\n").encode("cp932")
    assert upload(webtest, sjis).status_int == 303
    assert sorted(names(webtest)) == ["山田 太郎", "髙橋 ①子"]
    plain = "name,company,phone,note\n鈴木 一郎,,045-123-4567,\n".encode()
    assert upload(webtest, plain).status_int == 303
    assert "鈴木 一郎" in names(webtest)


def test_a_csv_with_errors_imports_nothing_and_names_every_bad_row(supervisor, webtest):
    add(webtest, name="既存 顧客", numbers="03-9999-0000")
    data = (CSV_HEADER
            + "良い 行,,03-1111-1111,,\r\n"
            + ",名前なし,03-2222-2222,,\r\n"
            + "番号誤り,,12-34,,\r\n"
            + "重複,,03-1111-1111,,\r\n"
            + "既存と同じ,,03-9999-0000,,\r\n").encode("utf-8")
    page = upload(webtest, data)
    assert page.status_int == 400
    errors = [li.text for li in page.html.select("ul.error li")]
    assert any(e.startswith("3行目") for e in errors)
    assert any(e.startswith("4行目") and "12-34" in e for e in errors)
    assert any(e.startswith("5行目") and "2行目" in e for e in errors)
    assert any(e.startswith("6行目") and "既存 顧客" in e for e in errors)
    assert not any(e.startswith("2行目") for e in errors)
    assert names(webtest) == ["既存 顧客"]  # nothing imported


def test_a_csv_without_the_needed_columns_or_not_text_is_refused(supervisor, webtest):
    assert "電話番号" in upload(webtest, "名前,住所\n山田,東京\n".encode()).html.select_one("ul.error").text
    assert upload(webtest, b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x81").status_int == 400
    assert decode_csv("氏名".encode("cp932")) == "氏名"
    nul = upload(webtest, "氏名,電話番号\n山田\x00,03-1234-5678\n".encode())
    assert nul.status_int == 400
    assert "CSV" in nul.html.select_one("ul.error").text


def test_the_caller_name_comes_from_the_directory(make_tenant, make_user, webtest, login, api):
    tenant = make_tenant(slug="acme")
    login(webtest, make_user(tenant, role="supervisor"))
    add(webtest, name="山田 太郎", company="山田商事", numbers="090-1111-2222")
    found = api.get("/api/v1/softphone/lookup?number=%2B819011112222").json
    assert found["name"] == "山田 太郎（山田商事）"
    assert found["record_url"].endswith("/contacts/" + found["record_url"].rsplit("/", 1)[1])
    assert api.get("/api/v1/softphone/lookup?number=%2B819099998888").json["name"] is None


def test_contacts_json_api(make_tenant, make_user, api, login):
    csrf = login(api.testapp, make_user(make_tenant(slug="acme"), role="admin"))
    headers = {"X-CSRF-Token": csrf}
    created = api.post("/api/v1/contacts", json={"name": "山田 太郎", "company": "山田商事", "numbers": ["03-1234-5678"]}, headers=headers)
    assert created.status_int == 201
    assert created.json["numbers"] == ["+81312345678"]
    contact_id = created.json["id"]
    assert api.get(f"/api/v1/contacts/{contact_id}").json["company"] == "山田商事"
    assert [c["name"] for c in api.get("/api/v1/contacts", params={"q": "山田"}).json["contacts"]] == ["山田 太郎"]
    updated = api.put(f"/api/v1/contacts/{contact_id}", json={"name": "山田 花子", "numbers": ["090-1111-2222", "03-1234-5678"]}, headers=headers)
    assert updated.json["numbers"] == ["+819011112222", "+81312345678"]
    bad = api.post("/api/v1/contacts", json={"name": "鈴木", "numbers": ["0312345678"]}, headers=headers)
    assert bad.status_int == 422 and "山田 花子" in bad.json["error"]["message"]
    assert api.post("/api/v1/contacts", json={"name": "鈴木", "numbers": ["abc"]}, headers=headers).status_int == 422
    assert api.delete(f"/api/v1/contacts/{contact_id}", headers=headers).status_int == 204
    assert api.get(f"/api/v1/contacts/{contact_id}").status_int == 404


def test_one_company_never_sees_anothers_contacts(make_tenant, make_user, webtest, app, login, api):
    import webtest as wt

    acme, other = make_tenant(slug="acme"), make_tenant(slug="other", name="他社")
    csrf = login(api.testapp, make_user(acme, role="admin"))
    mine = api.post("/api/v1/contacts", json={"name": "山田 太郎", "numbers": ["090-1111-2222"]}, headers={"X-CSRF-Token": csrf}).json
    theirs = wt.TestApp(app)
    their_csrf = login(theirs, make_user(other, role="admin"))
    assert theirs.get("/api/v1/contacts").json["contacts"] == []
    assert theirs.get(f"/api/v1/contacts/{mine['id']}", expect_errors=True).status_int == 404
    assert theirs.get(f"/contacts/{mine['id']}", expect_errors=True).status_int == 404
    assert theirs.delete(f"/api/v1/contacts/{mine['id']}", headers={"X-CSRF-Token": their_csrf}, expect_errors=True).status_int == 404
    assert theirs.get("/api/v1/softphone/lookup?number=%2B819011112222").json["name"] is None
    # The same number may be a contact of each company.
    created = theirs.post_json("/api/v1/contacts", {"name": "他社の 山田", "numbers": ["090-1111-2222"]}, headers={"X-CSRF-Token": their_csrf})
    assert created.status_int == 201
    assert api.get("/api/v1/softphone/lookup?number=%2B819011112222").json["name"] == "山田 太郎"


def test_agents_cannot_edit_the_directory(make_tenant, make_user, webtest, login):
    login(webtest, make_user(make_tenant(), role="agent"))
    assert webtest.get("/contacts", expect_errors=True).status_int == 403
    assert webtest.get("/api/v1/contacts", expect_errors=True).status_int == 403


def test_hook_ecti_crm_connectors_directory_is_registered(app):
    assert app.registry.ecti.crm_connectors["directory"].name == "directory"
