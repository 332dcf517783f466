"""Input no view can read gets a clear 400/413/422, never a 500 (issue 19): query strings and
bodies that are not UTF-8, JSON nested thousands deep, bodies over the size limit, null for a
field that cannot be emptied, integers no column holds."""
from __future__ import annotations

import pytest


@pytest.fixture
def admin_api(api, login, make_tenant, make_user):
    tenant = make_tenant()
    admin = make_user(tenant, role="admin", email="admin@acme.example")
    return api, {"X-CSRF-Token": login(api.testapp, admin)}


@pytest.mark.parametrize("path", ["/login?next=%ff", "/login?tenant=%ff", "/salesforce/standby?tenant=%ff", "/login?%ff=1"])
def test_an_undecodable_query_string_is_400_for_anybody(webtest, path):
    response = webtest.get(path, status=400)
    assert response.text.startswith("リクエストに UTF-8 として読めない文字")
    assert "not valid UTF-8" in response.text


def test_an_undecodable_query_string_on_the_api_is_400_in_its_error_shape(admin_api):
    api, headers = admin_api
    response = api.testapp.get("/api/v1/calls?number=%ff", status=400)
    assert response.json["error"]["code"] == "invalid_encoding"
    assert response.json["error"]["message"].startswith("リクエストに")


def test_an_undecodable_json_body_is_400(admin_api):
    api, headers = admin_api
    response = api.testapp.post("/api/v1/acd/queues", b'{"name": "\xff"}', headers={**headers, "Content-Type": "application/json"},
                                status=400)
    assert response.json["error"]["code"] == "invalid_encoding"


def test_json_nested_five_thousand_deep_is_400(admin_api):
    api, headers = admin_api
    deep = "[" * 5000 + "]" * 5000
    response = api.testapp.post("/api/v1/acd/queues", deep, headers={**headers, "Content-Type": "application/json"}, status=400)
    assert response.json["error"]["code"] == "json_too_deep"
    assert "JSON の入れ子が深すぎます" in response.json["error"]["message"]


def test_a_body_over_the_limit_is_413_before_it_is_read(webtest):
    body = b"From=" + b"9" * (1024 * 1024 + 10)
    response = webtest.post("/twilio/voice/incoming", body, headers={"Content-Type": "application/x-www-form-urlencoded"}, status=413)
    assert response.text.startswith("リクエストが大きすぎます（上限 1 MiB）")


def test_null_for_a_setting_that_cannot_be_emptied_is_422_and_changes_nothing(admin_api):
    api, headers = admin_api
    queue = api.post("/api/v1/acd/queues", json={"name": "サポート", "max_wait_seconds": 300}, headers=headers).json
    for field in ("join_when_empty", "leave_when_empty", "announce_wait", "ring_timeout", "name", "overflow"):
        bad = api.patch(f"/api/v1/acd/queues/{queue['id']}", json={field: None}, headers=headers)
        assert bad.status_int == 422, (field, bad.text)
        assert bad.json["error"]["fields"][0]["field"] == field
    emptied = api.patch(f"/api/v1/acd/queues/{queue['id']}", json={"max_wait_seconds": None}, headers=headers)
    assert emptied.status_int == 200 and emptied.json["max_wait_seconds"] is None
    assert emptied.json["join_when_empty"] == queue["join_when_empty"]


def test_the_document_says_which_patch_fields_may_be_null(webtest):
    schemas = webtest.get("/api/v1/openapi.json").json["components"]["schemas"]
    patch = schemas["QueuePatch"]["properties"]
    assert patch["join_when_empty"] == {"title": "Join When Empty", "type": "boolean"}
    assert {"type": "null"} in patch["max_wait_seconds"]["anyOf"]


def test_an_integer_no_column_holds_is_422(admin_api):
    api, headers = admin_api
    response = api.testapp.get("/api/v1/calls?agent=99999999999999999999", status=422)
    assert response.json["error"]["fields"][0] == {"field": "agent", "code": "too_large", "message": "数値が大きすぎます。"}
    response = api.testapp.post_json("/api/v1/acd/queues", {"name": "大", "ring_timeout": 10**20}, headers=headers, status=422)
    assert response.json["error"]["fields"][0]["field"] == "ring_timeout"
    api.testapp.get("/api/v1/acd/queues/99999999999999999999", status=404)


def test_the_suite_notices_a_request_that_ended_in_an_unhandled_exception(app_settings, engine, clean_database, no_request_tracebacks):
    """The guard of the whole suite (``no_request_tracebacks``): an API operation that raises
    is answered with the 500 error shape and its traceback is collected, failing the test."""
    import webtest as wt
    from pyramid.interfaces import IRouteRequest, IViewClassifier, IView
    from zope.interface import Interface

    from ecti.config import configure

    # An app of its own, never served before (the shared ``app`` has its view lookups cached).
    app = configure(dict(app_settings), engine=engine).make_wsgi_app()
    webtest = wt.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})

    route = app.registry.getUtility(IRouteRequest, name="api.me")
    original = app.registry.adapters.lookup((IViewClassifier, route, Interface), IView, name="")

    def failing(context, request):
        raise RuntimeError("boom")

    app.registry.registerAdapter(failing, (IViewClassifier, route, Interface), IView, name="")
    try:
        response = webtest.get("/api/v1/me", status=500)
    finally:
        app.registry.registerAdapter(original, (IViewClassifier, route, Interface), IView, name="")
    assert response.json["error"]["code"] == "internal_error"
    assert len(no_request_tracebacks.found) == 1 and "RuntimeError: boom" in no_request_tracebacks.found[0]
    no_request_tracebacks.found.clear()  # seen: this test is about it
