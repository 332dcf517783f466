"""The softphone's JSON API: caller IDs, the number check before dialing, the agent log, lookup;
and its pages (the panel and the browser check)."""
from ecti.calls.events import apply_status, record_event
from ecti.calls.models import Call, CallStatus, Direction, EventKind
from ecti.jobs import in_transaction
from ecti.telephony.models import PhoneNumber


def _tenant_with_numbers(db, make_tenant):
    tenant = make_tenant()
    db.add_all([
        PhoneNumber(tenant_id=tenant.id, e164="+815012345678", label="代表"),
        PhoneNumber(tenant_id=tenant.id, e164="+81120123456", label="フリーダイヤル"),
        PhoneNumber(tenant_id=tenant.id, e164="+447700900123", label="UK SMS", voice_capable=False, sms_capable=True),
    ])
    db.commit()
    return tenant


def test_caller_ids_are_the_companys_voice_numbers(api, db, make_tenant, make_user, login):
    agent = make_user(_tenant_with_numbers(db, make_tenant), role="agent")
    login(api.testapp, agent)
    body = api.get("/api/v1/softphone/caller-ids").json
    assert body["caller_ids"] == [
        {"e164": "+81120123456", "display": "0120-123-456", "label": "フリーダイヤル"},
        {"e164": "+815012345678", "display": "050-1234-5678", "label": "代表"},
    ]


def test_the_number_check_gives_the_exact_reason_before_any_call(api, db, make_tenant, make_user, login):
    agent = make_user(_tenant_with_numbers(db, make_tenant), role="agent")
    headers = {"X-CSRF-Token": login(api.testapp, agent)}
    ok = api.post("/api/v1/softphone/check-number", json={"caller_id": "+815012345678", "number": "090-1234-5678"}, headers=headers).json
    assert ok == {"allowed": True, "e164": "+819012345678", "display": "090-1234-5678", "code": None, "message": None}
    free_dial = api.post("/api/v1/softphone/check-number", json={"caller_id": "+815012345678", "number": "0120-444-555"}, headers=headers).json
    assert free_dial["allowed"] is False and free_dial["code"] == "blocked_free_dial"
    assert "0120" in free_dial["message"] and "050" in free_dial["message"]  # in Japanese, naming both
    navi = api.post("/api/v1/softphone/check-number", json={"caller_id": "+81120123456", "number": "0570-000-111"}, headers=headers).json
    assert navi["code"] == "blocked_service_number"
    foreign = api.post("/api/v1/softphone/check-number", json={"caller_id": "+815012345678", "number": "+1 415 555 0100"}, headers=headers).json
    assert foreign["code"] == "not_domestic"
    not_ours = api.post("/api/v1/softphone/check-number", json={"caller_id": "+815099990000", "number": "0312345678"}, headers=headers).json
    assert not_ours["code"] == "caller_id_not_owned" and not_ours["message"]
    sms_only = api.post("/api/v1/softphone/check-number", json={"caller_id": "+447700900123", "number": "0312345678"}, headers=headers).json
    assert sms_only["code"] == "caller_id_not_owned"
    assert api.post("/api/v1/softphone/check-number", json={"caller_id": "+815012345678"}, headers=headers).status_int == 422


def test_the_agent_log_lists_my_calls_only(app, api, db, make_tenant, make_user, login):
    tenant = _tenant_with_numbers(db, make_tenant)
    me, other = make_user(tenant, role="agent"), make_user(tenant, role="agent")
    # Events go through record_event, the one way (it keeps the call records the log reads).
    with in_transaction(app.registry, tenant.id) as request:
        def call(sid, direction, from_, to, user_id=None):
            row = Call(tenant_id=tenant.id, carrier_call_id=sid, direction=direction, from_number=from_, to_number=to,
                       status=CallStatus.in_progress, user_id=user_id)
            request.db.add(row)
            request.db.flush()
            record_event(request, row, EventKind.started)
            return row

        placed = call("CA1", Direction.outbound, "+815012345678", "+819012345678", me.id)
        answered = call("CA2", Direction.inbound, "+819011112222", "+815012345678")
        transferred = call("CA3", Direction.inbound, "+819033334444", "+815012345678")
        theirs = call("CA4", Direction.outbound, "+815012345678", "+81311112222", other.id)
        record_event(request, answered, EventKind.connected, agent=me.id)
        record_event(request, transferred, EventKind.connected, agent=me.id)
        record_event(request, transferred, EventKind.transferred, to_kind="agent", agent=other.id, from_agent=me.id)
        for row in (placed, answered, transferred, theirs):
            apply_status(request, row, CallStatus.completed, duration=42 if row is placed else None)
        placed, answered, transferred, theirs = (c.id for c in (placed, answered, transferred, theirs))
    login(api.testapp, me)
    calls = api.get("/api/v1/softphone/log").json["calls"]
    by_id = {c["call_id"]: c for c in calls}
    assert set(by_id) == {placed, answered, transferred}
    assert by_id[placed]["direction"] == "outbound" and by_id[placed]["display"] == "090-1234-5678"
    assert by_id[placed]["duration_seconds"] == 42
    assert by_id[answered]["outcome"] == "answered" and by_id[answered]["display"] == "090-1111-2222"
    assert by_id[transferred]["outcome"] == "transferred"
    api.testapp.reset()
    login(api.testapp, other)
    assert {c["call_id"] for c in api.get("/api/v1/softphone/log").json["calls"]} == {theirs, transferred}


def test_lookup_shows_the_number_when_no_crm_knows_it(api, db, make_tenant, make_user, login):
    login(api.testapp, make_user(make_tenant(), role="agent"))
    assert api.get("/api/v1/softphone/lookup?number=%2B819011112222").json == {
        "number": "+819011112222", "display": "090-1111-2222", "name": None, "record_url": None}
    assert api.get("/api/v1/softphone/lookup").status_int == 422


def test_hook_ecti_crm_connectors_are_asked_with_e164_after_the_directory(make_app, db, make_tenant, make_user, login):
    """A plugin's CRM is given the E.164 number whatever the agent typed, after the core's own
    directory; a short number is looked up nowhere."""
    from ecti import hookimpl
    from ecti.interfaces import CRMContact

    asked = []

    class Rolodex:
        name, label = "rolodex", "Rolodex"

        def lookup(self, request, tenant, number):
            asked.append(number)
            return CRMContact(display_name="山田 太郎", record_id="42") if number == "+819011112222" else None

    class Plugin:
        __name__ = "rolodex_plugin"

        @hookimpl
        def ecti_crm_connectors(self):
            return [Rolodex()]

    app = make_app(Plugin())
    assert list(app.app.registry.ecti.crm_connectors) == ["directory", "rolodex"]
    login(app, make_user(make_tenant(), role="agent"))
    found = app.get("/api/v1/softphone/lookup", {"number": "０９０−１１１１−２２２２"}).json
    assert found["name"] == "山田 太郎" and found["number"] == "+819011112222"
    assert app.get("/api/v1/softphone/lookup", {"number": "110"}).json["name"] is None
    assert asked == ["+819011112222"]


def test_the_pages_are_for_agents_and_may_be_framed(webtest, db, make_tenant, make_user, login):
    tenant = _tenant_with_numbers(db, make_tenant)
    login(webtest, make_user(tenant, role="agent"))
    page = webtest.get("/softphone")
    # Framed by the company's own pages only ('self' here: no CRM domain configured); a CRM's
    # domains would come in frame-ancestors, which is why X-Frame-Options never says DENY here.
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers.get("X-Frame-Options", "SAMEORIGIN") == "SAMEORIGIN"
    assert 'data-device="twilio"' in page.text  # no simulator configured: the real SDK
    assert "050-1234-5678" in page.text and "発信者番号" in page.text
    assert "salesforce-lightning-design-system.min.css" in page.text
    check = webtest.get("/softphone/check")
    assert "マイク" in check.text


def test_signed_out_people_are_sent_to_sign_in(webtest):
    assert webtest.get("/softphone", expect_errors=True).status_int in (302, 303, 403)


def test_the_phones_heartbeat_its_closing_beacon_and_the_push_grant_answer_as_documented(api, make_tenant, make_user, login):
    """The three calls a phone page makes in the background, through the OpenAPI-checked client."""
    headers = {"X-CSRF-Token": login(api.testapp, make_user(make_tenant(), role="agent"))}
    beat = api.post("/api/v1/acd/me/heartbeat", json={"device": "registered", "page": "p1"}, headers=headers)
    assert beat.status_int == 200
    assert api.post("/api/v1/push/token", headers=headers).json["enabled"] is False  # no push server configured
    gone = api.post("/api/v1/acd/me/heartbeat/gone", params={"csrf_token": headers["X-CSRF-Token"]})
    assert gone.status_int == 200 and gone.json["presence_changed"] in (None, "disconnected")
