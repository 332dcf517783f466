"""Whole calls through the Twilio simulator: ECTI's webhooks, signatures, TwiML and REST."""
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ecti.calls.models import Call, CallEvent, CallStatus, Direction, EventKind
from ecti.messaging.models import Message
from ecti.telephony.models import PhoneNumber
from ecti_twilio.models import TwilioAccount
from ecti_twilio.provisioning import sync_tenant
from ecti_twilio.testing import ACCOUNT_SID, AUTH_TOKEN, CALLER, MAIN_NUMBER


def calls(db):
    db.expire_all()
    return db.scalars(select(Call).order_by(Call.id)).all()


def kinds(db, call):
    return [e.kind for e in db.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id))]


def test_an_inbound_call_reaches_ecti_and_hears_its_answer(telephony, db):
    call = telephony.dial()
    assert "お電話ありがとうございます。この番号は現在準備中です。" in " ".join(call.said())
    assert call.status == "completed"
    [record] = calls(db)
    assert (record.direction, record.from_number, record.to_number) == (Direction.inbound, CALLER, MAIN_NUMBER)
    assert record.status is CallStatus.completed  # from the status callback
    assert kinds(db, record)[:2] == [EventKind.started, EventKind.refused]
    assert kinds(db, record)[-1] is EventKind.completed
    assert telephony.sim.errors_for(ACCOUNT_SID) == []


def test_the_twiml_uses_a_japanese_voice(telephony):
    call = telephony.dial()
    said = [h for h in call.heard if h["verb"] == "Say"]
    assert said and said[0]["language"] == "ja-JP" and said[0]["voice"].startswith("Polly.")


def test_a_forged_webhook_is_refused_and_changes_nothing(telephony, db):
    url = telephony.base_url + "/twilio/voice/incoming"
    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "f" * 32, "From": CALLER, "To": MAIN_NUMBER, "CallStatus": "ringing"}
    forged = RequestValidator("not the auth token").compute_signature(url, params)
    response = telephony.webtest.post("/twilio/voice/incoming", params, headers={"X-Twilio-Signature": forged}, expect_errors=True)
    assert response.status_int == 403
    unsigned = telephony.webtest.post("/twilio/voice/incoming", params, expect_errors=True)
    assert unsigned.status_int == 403
    tampered = RequestValidator(AUTH_TOKEN).compute_signature(url, {**params, "From": "+819099999999"})
    assert telephony.webtest.post("/twilio/voice/incoming", params, headers={"X-Twilio-Signature": tampered}, expect_errors=True).status_int == 403
    assert calls(db) == []


def test_a_call_for_an_unknown_account_gets_a_polite_rejection(telephony, db):
    url = telephony.base_url + "/twilio/voice/incoming"
    params = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "e" * 32, "From": CALLER, "To": MAIN_NUMBER}
    signature = RequestValidator("whatever").compute_signature(url, params)
    response = telephony.webtest.post("/twilio/voice/incoming", params, headers={"X-Twilio-Signature": signature})
    assert response.status_int == 200
    assert "<Say" in response.text and "<Hangup" in response.text
    assert calls(db) == []


def test_a_suspended_tenants_caller_hears_an_apology(telephony, db):
    from ecti.tenancy.models import Tenant, TenantStatus

    db.get(Tenant, telephony.tenant.id).status = TenantStatus.suspended
    db.commit()
    call = telephony.dial()
    assert any("ただいまこのサービスはご利用いただけません" in s for s in call.said())


def test_repeated_and_late_status_callbacks_do_not_move_a_call_backwards(telephony, db):
    call = telephony.dial()
    [record] = calls(db)
    url = telephony.base_url + "/twilio/voice/status"
    for status in ("completed", "in-progress", "ringing"):
        params = {"AccountSid": ACCOUNT_SID, "CallSid": call.sid, "CallStatus": status, "CallDuration": "7"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        assert telephony.webtest.post("/twilio/voice/status", params, headers={"X-Twilio-Signature": signature}).status_int == 204
    [again] = calls(db)
    assert again.status is CallStatus.completed
    assert kinds(db, again).count(EventKind.completed) == 1


def test_provisioning_configures_the_numbers_and_a_second_run_changes_nothing(telephony, db):
    numbers = telephony.sim.account_numbers(ACCOUNT_SID)
    assert {n.phone_number for n in numbers} == {MAIN_NUMBER, "+81120123456"}
    for number in numbers:
        assert number.voice_url == telephony.base_url + "/twilio/voice/incoming"
        assert number.status_callback == telephony.base_url + "/twilio/voice/status"
        assert number.voice_fallback_url == telephony.base_url + "/twilio/voice/fallback"
    known = db.scalars(select(PhoneNumber.e164).where(PhoneNumber.tenant_id == telephony.tenant.id)).all()
    assert sorted(known) == ["+81120123456", MAIN_NUMBER]
    account = db.scalar(select(TwilioAccount))
    assert account.twiml_app_sid.startswith("AP") and account.api_key_sid.startswith("SK")
    again = sync_tenant(db, telephony.registry, telephony.tenant, telephony.base_url)
    assert not again.changed


def test_a_softphone_call_to_an_allowed_number_connects_with_the_chosen_caller_id(telephony, make_user, db):
    agent = make_user(telephony.tenant, role="agent")
    phone = telephony.sim.phone("+81312345678")
    phone.behaviour = "answer"
    device = telephony.softphone(agent)
    leg = device.connect({"To": "03-1234-5678", "CallerId": MAIN_NUMBER})
    assert phone.active is not None
    assert phone.active.from_ == MAIN_NUMBER
    device.hangup()
    [record] = calls(db)
    assert (record.direction, record.to_number, record.user_id) == (Direction.outbound, "+81312345678", agent.id)
    assert leg.sid == record.carrier_call_id


@pytest.mark.parametrize(
    "destination, caller_id, reason",
    [
        ("0570-000-123", "+81120123456", "0570（ナビダイヤル）"),
        ("0120-444-444", MAIN_NUMBER, "フリーダイヤル"),
        ("+1 415 555 0100", MAIN_NUMBER, "日本の電話番号ではありません"),
        ("110", MAIN_NUMBER, "緊急通報"),
    ],
)
def test_a_softphone_call_to_a_refused_number_is_stopped_with_the_reason(telephony, make_user, db, destination, caller_id, reason):
    agent = make_user(telephony.tenant, role="agent")
    device = telephony.softphone(agent)
    leg = device.connect({"To": destination, "CallerId": caller_id})
    assert any(reason in s for s in leg.said()), leg.said()
    assert leg.peer is None  # nothing was dialled
    [record] = calls(db)
    assert EventKind.refused in kinds(db, record)


def test_a_softphone_cannot_use_another_companys_number_as_caller_id(telephony, make_user):
    agent = make_user(telephony.tenant, role="agent")
    leg = telephony.softphone(agent).connect({"To": "03-1234-5678", "CallerId": "+815099990000"})
    assert any("自社の番号ではありません" in s for s in leg.said())
    assert leg.peer is None


def test_inbound_sms_is_stored_once(telephony, db):
    telephony.sim.add_number(ACCOUNT_SID, "+14155550100", voice=False, sms=True)
    sync_tenant(db, telephony.registry, telephony.tenant, telephony.base_url)
    db.commit()
    telephony.sim.send_sms(from_="+14155550199", to="+14155550100", body="明日の予約を変更したいです")
    telephony.sim.settle()
    db.expire_all()
    [message] = db.scalars(select(Message)).all()
    assert (message.body, message.direction, message.from_number) == ("明日の予約を変更したいです", Direction.inbound, "+14155550199")
    assert telephony.sim.errors_for(ACCOUNT_SID) == []


def test_the_console_button_synchronises_and_says_what_changed(telephony, make_user, login, db):
    app = telephony.webtest
    admin = make_user(telephony.tenant, role="admin")
    token = login(app, admin)
    page = app.get("/twilio/account")
    assert "AC7777…7777" in page.text and "050-1234-5678" in page.text
    telephony.sim.add_number(ACCOUNT_SID, "+815055556666", voice=True)
    done = app.post("/twilio/account", {"csrf_token": token}, status=303).follow()
    assert "1 件の番号を追加" in done.text
    assert telephony.sim.number_by_phone("+815055556666").voice_url == telephony.base_url + "/twilio/voice/incoming"
    again = app.post("/twilio/account", {"csrf_token": token}, status=303).follow()
    assert "変更はありませんでした" in again.text


def test_agents_do_not_see_the_twilio_page(telephony, make_user, login):
    login(telephony.webtest, make_user(telephony.tenant, role="agent"))
    assert telephony.webtest.get("/twilio/account", expect_errors=True).status_int == 403


def test_a_repeated_incoming_webhook_and_another_companys_number(telephony, db, make_tenant):
    """The incoming webhook loads tenant, number, flow and an already recorded call in one
    query: Twilio repeating the webhook records one call, and a number of another company is
    not this account's (not in service), as with separate look-ups."""
    url = telephony.base_url + "/twilio/voice/incoming"
    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "a" * 32, "From": CALLER, "To": MAIN_NUMBER, "CallStatus": "ringing"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    first = telephony.webtest.post("/twilio/voice/incoming", params, headers={"X-Twilio-Signature": signature})
    again = telephony.webtest.post("/twilio/voice/incoming", params, headers={"X-Twilio-Signature": signature})
    assert first.text == again.text and "準備中" in first.text
    [record] = calls(db)
    assert kinds(db, record).count(EventKind.started) == 1

    other = make_tenant(slug="other", name="他社")
    db.add(PhoneNumber(tenant_id=other.id, e164="+815099998888"))
    db.commit()
    theirs = {**params, "CallSid": "CA" + "b" * 32, "To": "+815099998888"}
    answer = telephony.webtest.post("/twilio/voice/incoming", theirs, headers={"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, theirs)})
    assert "おかけになった電話番号は、現在使われておりません。" in answer.text
    call = [c for c in calls(db) if c.carrier_call_id == "CA" + "b" * 32][0]
    assert call.tenant_id == telephony.tenant.id and kinds(db, call)[-1] is EventKind.refused
    refused = db.scalars(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.kind == EventKind.refused)).one()
    assert refused.data == {"reason": "unknown_number"}
