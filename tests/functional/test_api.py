"""The JSON API: its OpenAPI document, and errors in one shape, never a 500 for bad input."""
from openapi_spec_validator import validate


def test_the_openapi_document_is_valid_and_lists_the_operations(webtest):
    document = webtest.get("/api/v1/openapi.json").json
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert {"get", "post"} <= set(document["paths"]["/api/v1/users"])
    assert {"get", "patch"} <= set(document["paths"]["/api/v1/users/{id}"])
    assert "/api/v1/me" in document["paths"]


def test_every_documented_operation_answers_as_documented(api, login, make_tenant, make_user, db):
    """Walk every operation once; the ``api`` fixture checks each answer against the document."""
    from ecti.telephony.models import PhoneNumber

    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    db.add(PhoneNumber(tenant_id=tenant.id, e164="+815011112222", label="代表"))
    db.commit()
    anonymous = api.get("/api/v1/me")
    assert anonymous.status_int == 401
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    assert api.get("/api/v1/me").json["tenant"]["slug"] == "acme"
    new = api.post("/api/v1/users", json={"email": "a@acme.example", "display_name": "A", "role": "agent", "password": "long enough pw"}, headers=headers)
    api.get(f"/api/v1/users/{new.json['id']}")
    api.patch(f"/api/v1/users/{new.json['id']}", json={"display_name": "B"}, headers=headers)
    api.get("/api/v1/users")
    numbers = api.get("/api/v1/numbers").json["numbers"]
    assert numbers[0]["display"] == "050-1111-2222"
    api.get(f"/api/v1/numbers/{numbers[0]['id']}")
    not_provisioned = api.post("/api/v1/softphone/token", headers=headers)
    assert not_provisioned.json["error"]["code"] == "carrier_not_provisioned"
    prompt = api.post("/api/v1/prompts", json={"text": "お電話ありがとうございます。", "provider": "twilio"}, headers=headers).json
    api.get("/api/v1/prompts"), api.get(f"/api/v1/prompts/{prompt['id']}"), api.get("/api/v1/prompts/providers")
    api.patch(f"/api/v1/prompts/{prompt['id']}", json={"emotion": "joy"}, headers=headers)
    api.post("/api/v1/prompts/audio", json={"filename": "a.wav", "content_base64": "AAAA"}, headers=headers)  # refused: not audio
    api.delete(f"/api/v1/prompts/{prompt['id']}", headers=headers)
    documented = {
        (method.upper(), path) for path, ops in api.checker.document["paths"].items() for method in ops
    }
    exercised = {(method, path) for method, path, _status in api.checker.seen}
    assert documented <= exercised, f"not exercised: {sorted(documented - exercised)}"


def test_malformed_json_gets_400_with_the_error_shape(api, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin), "Content-Type": "application/json"}
    response = api.post("/api/v1/users", params="{not json", headers=headers)
    assert response.status_int == 400
    assert response.json["error"]["code"] == "invalid_json"
    assert response.json["error"]["message"] == "リクエストの本文が正しい JSON ではありません。"


def test_invalid_fields_get_422_with_each_field_named(api, login, make_tenant, make_user):
    admin = make_user(make_tenant(), role="admin")
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    response = api.post("/api/v1/users", json={"email": "x@acme.example", "role": "boss", "password": "short", "extra": 1}, headers=headers)
    assert response.status_int == 422
    fields = {f["field"]: f for f in response.json["error"]["fields"]}
    assert fields["display_name"]["message"] == "この項目は必須です。"
    assert fields["password"]["message"] == "10 文字以上で入力してください。"
    assert fields["role"]["code"] == "literal_error"
    assert fields["extra"]["code"] == "extra_forbidden"


def test_errors_are_in_english_for_english_users(api, login, make_tenant, make_user, db):
    from ecti.tenancy.models import User

    admin = make_user(make_tenant(), role="admin")
    db.get(User, admin.id).locale = "en"
    db.commit()
    headers = {"X-CSRF-Token": login(api.testapp, admin)}
    response = api.post("/api/v1/users", json={"email": "x@acme.example"}, headers=headers)
    fields = {f["field"]: f["message"] for f in response.json["error"]["fields"]}
    assert fields["display_name"] == "This field is required."


def test_an_unknown_api_path_is_a_json_404(webtest):
    response = webtest.get("/api/v1/nothing-here", expect_errors=True)
    assert response.status_int == 404
    assert response.json["error"]["code"] == "not_found"


def test_an_agent_gets_403_from_admin_operations(api, login, make_tenant, make_user):
    agent = make_user(make_tenant(), role="agent")
    login(api.testapp, agent)
    response = api.get("/api/v1/users")
    assert response.status_int == 403
    assert response.json["error"]["code"] == "forbidden"


def test_health_check_reports_the_database(webtest):
    assert webtest.get("/healthz").json == {"status": "ok", "database": "ok"}
