"""The JSON API: its OpenAPI document, and errors in one shape, never a 500 for bad input."""
from openapi_spec_validator import validate


def test_the_openapi_document_is_valid_and_lists_the_operations(webtest):
    document = webtest.get("/api/v1/openapi.json").json
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert {"get", "post"} <= set(document["paths"]["/api/v1/users"])
    assert {"get", "patch"} <= set(document["paths"]["/api/v1/users/{id}"])
    assert "/api/v1/me" in document["paths"]


def test_the_core_operations_answer_as_documented(api, login, make_tenant, make_user, db):
    """Walk the core's operations; the ``api`` fixture checks each answer against the document.

    (Every other operation is walked by its subsystem's tests; a complete run fails when an
    operation was never exercised — see the ``conftest.py`` at the root of the repository.)"""
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
    api.delete(f"/api/v1/users/{new.json['id']}/sessions", headers=headers)
    api.get("/api/v1/users")
    numbers = api.get("/api/v1/numbers").json["numbers"]
    assert numbers[0]["display"] == "050-1111-2222"
    api.get(f"/api/v1/numbers/{numbers[0]['id']}")
    not_provisioned = api.post("/api/v1/softphone/token", headers=headers)
    assert not_provisioned.json["error"]["code"] == "carrier_not_provisioned"
    # The softphone's own operations (tests/functional/test_softphone_api.py covers the behaviour)
    assert api.get("/api/v1/softphone/caller-ids").json["caller_ids"][0]["display"] == "050-1111-2222"
    checked = api.post("/api/v1/softphone/check-number", json={"caller_id": "+815011112222", "number": "0120-000-000"}, headers=headers)
    assert checked.json["code"] == "blocked_free_dial"
    api.get("/api/v1/softphone/log")
    api.get("/api/v1/softphone/lookup?number=%2B819011112222")
    # ACD (tests/functional/test_acd.py covers the behaviour; here: every operation answers as documented)
    queue = api.post("/api/v1/acd/queues", json={"name": "サポート"}, headers=headers).json
    api.get("/api/v1/acd/queues")
    api.get(f"/api/v1/acd/queues/{queue['id']}")
    api.patch(f"/api/v1/acd/queues/{queue['id']}", json={"wrap_up_seconds": 0}, headers=headers)
    api.put(f"/api/v1/acd/queues/{queue['id']}/members", json={"members": [{"user_id": admin.id}]}, headers=headers)
    api.put("/api/v1/acd/me/presence", json={"presence": "available"}, headers=headers)
    api.put(f"/api/v1/acd/agents/{new.json['id']}/presence", json={"presence": "away"}, headers=headers)
    for path in ("me", "me/offer", "agents", "waiting"):
        api.get(f"/api/v1/acd/{path}")
    for action in ("offer/accept", "offer/decline", "call/hold", "call/resume", "call/hangup", "call/transfer/cancel", "wrap-up/end"):
        assert api.post(f"/api/v1/acd/me/{action}", headers=headers).status_int == 409
    assert api.post("/api/v1/acd/me/call/transfer", json={"kind": "number", "number": "0312345678"}, headers=headers).status_int == 409
    assert api.delete(f"/api/v1/acd/queues/{queue['id']}", headers=headers).status_int == 204
    core_tags = {"session", "users", "numbers", "softphone"}
    documented = {
        (method.upper(), path)
        for path, ops in api.checker.document["paths"].items()
        for method, op in ops.items()
        if core_tags & set(op["tags"])
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


def test_query_parameters_are_in_the_openapi_document(webtest):
    """Operations declared with ``api_view(query=…)`` list each query parameter with its type."""
    document = webtest.get("/api/v1/openapi.json").json
    validate(document)

    def params(path):
        return {p["name"]: p for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    for report in ("queues", "agents", "center"):
        period = params(f"/api/v1/reports/{report}")
        assert set(period) == {"from", "to", "bucket", "preset"}
        assert period["bucket"]["schema"] == {"default": "day", "enum": ["day", "week", "month"], "type": "string"}
        assert "this_month" in str(period["preset"]["schema"]) and "date" in str(period["from"]["schema"])
        assert not any(p["required"] for p in period.values()) and period["from"]["description"]
        assert {"400", "422"} <= set(document["paths"][f"/api/v1/reports/{report}"]["get"]["responses"])
    calls = params("/api/v1/calls")
    assert set(calls) == {"from", "to", "direction", "agent", "queue", "number", "outcome", "disposition", "after", "before", "limit"}
    assert calls["limit"]["schema"]["minimum"] == 1 and "abandoned" in str(calls["outcome"]["schema"])
    assert "parameters" not in document["paths"]["/api/v1/reports/wallboard"]["get"]  # no query declared: none listed


def test_the_api_fixture_rejects_a_query_parameter_the_document_does_not_list():
    import pytest

    from ecti.testing import OpenAPIChecker

    document = {"paths": {"/api/v1/things": {"get": {
        "parameters": [{"name": "from", "in": "query", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "OK"}}}}}}
    checker = OpenAPIChecker(document)
    checker.check("GET", "/api/v1/things", 200, None, query="from=2026-05-01")
    with pytest.raises(AssertionError, match="frm"):
        checker.check("GET", "/api/v1/things", 200, None, query="frm=2026-05-01")
