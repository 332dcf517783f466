"""Sending SMS from the console and the API, with a stand-in carrier (F-PH-8).

The Twilio carrier itself, status callbacks and incoming messages are tested end to end through
the simulator in ``plugins/twilio/tests/test_sms_e2e.py``.
"""
import sys
import types

import pytest
from sqlalchemy import select

from ecti import hookimpl
from ecti.calls.models import Direction
from ecti.db import make_session_factory
from ecti.i18n import _
from ecti.interfaces import CarrierRefused, SentMessage
from ecti.messaging.models import Message, MessageStatus
from ecti.messaging.services import apply_message_status
from ecti.plugins import get_plugin_manager
from ecti.telephony.models import PhoneNumber

SMS_NUMBER = "+14155550100"
VOICE_ONLY = "+815011112222"
CUSTOMER = "+819012345678"


class StandInCarrier:
    """Records what it is asked to send; ``refuse`` / ``unreachable`` make it fail like a carrier."""

    name = "twilio"  # the tenants' default carrier
    label = "Stand-in"

    def __init__(self):
        self.sent = []
        self.refuse = None
        self.unreachable = False
        self.seen_in_database = []
        self.engine = None

    def check_credentials(self, *, registry, account_id, secret):
        pass

    def send_sms(self, *, request, tenant, from_number, to_number, body, reference):
        if self.engine is not None:  # what another connection sees while the carrier is asked
            session = make_session_factory(self.engine)()
            session.info["ecti.tenant_scope"] = tenant.id
            stored = session.get(Message, int(reference))
            self.seen_in_database.append(stored.status if stored else None)
            session.close()
        if self.unreachable:
            raise OSError("connection refused")
        if self.refuse:
            raise CarrierRefused(self.refuse, self.sms_error_message(self.refuse), detail="refused by the stand-in")
        self.sent.append({"from": from_number, "to": to_number, "body": body, "reference": reference})
        return SentMessage(carrier_message_id=f"SM{len(self.sent):032d}", status="queued")

    def sms_error_message(self, code):
        return _("The recipient has unsubscribed from this number (they replied STOP). They must reply START before they can receive SMS from it again.") if code == "21610" else None


@pytest.fixture
def carrier():
    return StandInCarrier()


@pytest.fixture
def app(app_settings, engine, clean_database, carrier):
    from ecti.config import configure

    module = types.ModuleType("standin_carrier_plugin")
    module.ecti_carriers = hookimpl(lambda: [carrier])
    module.ecti_carriers.__name__ = "ecti_carriers"
    sys.modules[module.__name__] = module
    pm = get_plugin_manager(load_entrypoints=False, plugins=[module])
    return configure(dict(app_settings), plugin_manager=pm, engine=engine).make_wsgi_app()


@pytest.fixture
def company(make_tenant, make_user, db):
    from ecti.tenancy.models import Tenant

    tenant = make_tenant(slug="acme", name="株式会社アクメ")
    other = make_tenant(slug="other", name="他社株式会社")
    for t, account in ((tenant, "AC" + "1" * 32), (other, "AC" + "2" * 32)):
        db.get(Tenant, t.id).carrier_account_id = account
    db.add_all([
        PhoneNumber(tenant_id=tenant.id, e164=SMS_NUMBER, label="SMS", sms_capable=True),
        PhoneNumber(tenant_id=tenant.id, e164=VOICE_ONLY, label="代表", sms_capable=False),
        PhoneNumber(tenant_id=other.id, e164="+14155550177", label="他社 SMS", sms_capable=True),
    ])
    db.commit()
    agent = make_user(tenant, role="agent", email="agent@acme.example")
    other_agent = make_user(other, role="agent", email="agent@other.example")
    return types.SimpleNamespace(tenant=tenant, other=other, agent=agent, other_agent=other_agent)


def messages(db):
    db.expire_all()
    return db.scalars(select(Message).order_by(Message.id)).all()


def send(api, headers, **fields):
    body = {"from_number": SMS_NUMBER, "to": CUSTOMER, "body": "ご予約ありがとうございます。"} | fields
    return api.post("/api/v1/messages", json=body, headers=headers)


# --- sending ---------------------------------------------------------------------------------

def test_an_agent_sends_an_sms_through_the_api(api, login, company, carrier, db):
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers, to="+81 90-1234-5678", body="明日10時のご予約を承りました。")
    assert response.status_int == 201
    sent = response.json
    assert (sent["status"], sent["to_number"], sent["from_number"]) == ("queued", CUSTOMER, SMS_NUMBER)
    assert (sent["encoding"], sent["characters"], sent["segments"]) == ("UCS-2", 16, 1)
    assert carrier.sent == [{"from": SMS_NUMBER, "to": CUSTOMER, "body": "明日10時のご予約を承りました。", "reference": str(sent["id"])}]
    [stored] = messages(db)
    assert (stored.direction, stored.carrier_message_id, stored.user_id) == (Direction.outbound, "SM" + "0" * 31 + "1", company.agent.id)
    one = api.get(f"/api/v1/messages/{sent['id']}").json
    assert one["body"] == "明日10時のご予約を承りました。" and one["status_label"] == "送信待ち"


def test_the_message_is_saved_as_queued_before_the_carrier_is_asked(api, login, company, carrier, engine):
    carrier.engine = engine
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    assert send(api, headers).status_int == 201
    assert carrier.seen_in_database == [MessageStatus.queued]


def test_a_long_japanese_message_is_counted_in_segments_of_67(api, login, company, carrier, db):
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers, body="あ" * 71)
    assert (response.json["characters"], response.json["segments"]) == (71, 2)
    assert messages(db)[0].segments == 2


def test_the_longest_message_is_ten_segments(api, login, company, carrier, db):
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    assert send(api, headers, body="あ" * 670).json["segments"] == 10
    refused = send(api, headers, body="あ" * 671)
    assert refused.status_int == 422
    assert refused.json["error"]["code"] == "body_too_long"
    assert "最大 10 通" in refused.json["error"]["message"] and "1 文字短く" in refused.json["error"]["message"]
    assert len(messages(db)) == 1


def test_a_carrier_refusal_marks_the_message_failed_with_the_carriers_code(api, login, company, carrier, db):
    carrier.refuse = "21610"
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers)
    assert response.status_int == 201
    assert (response.json["status"], response.json["error_code"]) == ("failed", "21610")
    assert "配信停止" in response.json["error_message"]
    [stored] = messages(db)
    assert (stored.status, stored.error_code, stored.carrier_message_id) == (MessageStatus.failed, "21610", None)


def test_an_unknown_carrier_code_shows_the_carriers_own_words(api, login, company, carrier):
    carrier.refuse = "29999"
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    failed = send(api, headers).json
    assert failed["error_message"] == "通信事業者がエラー 29999 を返しました: refused by the stand-in"


def test_an_unreachable_carrier_marks_the_message_failed_not_a_500(api, login, company, carrier, db):
    carrier.unreachable = True
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers)
    assert response.status_int == 201
    assert response.json["status"] == "failed" and "通信事業者に接続できなかった" in response.json["error_message"]
    assert [m.status for m in messages(db)] == [MessageStatus.failed]


@pytest.mark.parametrize(
    "fields, code, words",
    [
        ({"from_number": VOICE_ONLY}, "not_sms_capable", "050-1111-2222 からは SMS を送信できません"),
        ({"from_number": "+14155550177"}, "not_own_number", "自社の番号ではありません"),
        ({"from_number": ""}, "empty_from_number", "送信元の番号を選んで"),
        ({"to": "090-1234-5678"}, "not_international", "+81 90-1234-5678"),
        ({"to": "+81 12"}, "invalid_number", "有効な電話番号ではありません"),
        ({"to": ""}, "empty_number", "電話番号を入力"),
        ({"body": ""}, "empty_body", "本文を入力"),
        ({"body": "  \n "}, "empty_body", "本文を入力"),
        ({"body": "a" * 1531}, "body_too_long", "1530 文字"),
    ],
)
def test_bad_input_is_refused_with_a_specific_message_and_nothing_is_saved(api, login, company, carrier, db, fields, code, words):
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers, **fields)
    assert response.status_int == 422
    error = response.json["error"]
    assert error["code"] == code and words in error["message"], error
    assert messages(db) == [] and carrier.sent == []


def test_a_company_without_carrier_credentials_cannot_send(api, login, company, carrier, db):
    from ecti.tenancy.models import Tenant

    db.get(Tenant, company.tenant.id).carrier_account_id = None
    db.commit()
    headers = {"X-CSRF-Token": login(api.testapp, company.agent)}
    response = send(api, headers)
    assert response.status_int == 409 and response.json["error"]["code"] == "carrier_not_configured"
    assert messages(db) == []


def test_signing_in_is_required(api):
    assert api.get("/api/v1/messages").status_int == 401


# --- reading and isolation -------------------------------------------------------------------

def add_messages(db, tenant, remote, count, direction=Direction.inbound, start=0):
    for i in range(start, start + count):
        ours, theirs = SMS_NUMBER, remote
        db.add(Message(
            tenant_id=tenant.id, carrier_message_id=f"SM{remote[-4:]}{i:028d}", direction=direction,
            from_number=theirs if direction is Direction.inbound else ours, to_number=ours if direction is Direction.inbound else theirs,
            remote_number=theirs, body=f"メッセージ {i}", segments=1,
            status=MessageStatus.received if direction is Direction.inbound else MessageStatus.sent,
        ))
    db.commit()


def test_the_list_is_newest_first_and_pages_with_before(api, login, company, db):
    add_messages(db, company.tenant, CUSTOMER, 55)
    add_messages(db, company.tenant, "+819099998888", 2)
    login(api.testapp, company.agent)
    first = api.get(f"/api/v1/messages?number={CUSTOMER.replace('+', '%2B')}").json
    assert [m["body"] for m in first["messages"][:2]] == ["メッセージ 54", "メッセージ 53"]
    assert len(first["messages"]) == 50
    rest = api.get(f"/api/v1/messages?number=%2B819012345678&before={first['older']}").json
    assert [m["body"] for m in rest["messages"]] == [f"メッセージ {i}" for i in range(4, -1, -1)]
    assert rest["older"] is None
    everything = api.get("/api/v1/messages").json["messages"]
    assert everything[0]["remote_number"] == "+819099998888"
    unencoded = api.get("/api/v1/messages?number=+81 90-9999-8888").json["messages"]  # "+" read as a space
    assert [m["body"] for m in unencoded] == ["メッセージ 1", "メッセージ 0"]
    domestic = api.get("/api/v1/messages?number=090-9999-8888")
    assert domestic.status_int == 422 and "+81 90-9999-8888" in domestic.json["error"]["message"]


def test_another_companys_message_is_not_found(api, webtest, login, company, db):
    add_messages(db, company.other, "+819077776666", 1)
    theirs = db.scalar(select(Message))
    login(api.testapp, company.agent)
    assert api.get(f"/api/v1/messages/{theirs.id}").status_int == 404
    assert api.get("/api/v1/messages").json["messages"] == []
    assert api.testapp.get("/sms/conversations/+819077776666", expect_errors=True).status_int == 404
    assert "090-7777-6666" not in api.testapp.get("/sms").text


# --- the console -----------------------------------------------------------------------------

def test_the_console_lists_conversations_and_shows_one_newest_first(webtest, login, company, db):
    add_messages(db, company.tenant, CUSTOMER, 3)
    add_messages(db, company.tenant, "+819099998888", 1, direction=Direction.outbound)
    login(webtest, company.agent)
    page = webtest.get("/sms")
    rows = page.html.select("#sms-conversations tbody tr")
    assert [r["data-remote"] for r in rows] == ["+819099998888", CUSTOMER]
    assert "090-1234-5678" in rows[1].text and "メッセージ 2" in rows[1].text
    assert "到達を報告しないことがあります" in page.text  # the delivery caveat
    conversation = webtest.get(rows[1].select_one("a")["href"])
    bodies = [p.text for p in conversation.html.select("#sms-messages .body")]
    assert bodies == ["メッセージ 2", "メッセージ 1", "メッセージ 0"]


def test_the_conversation_pages_older_messages(webtest, login, company, db):
    add_messages(db, company.tenant, CUSTOMER, 52)
    login(webtest, company.agent)
    page = webtest.get(f"/sms/conversations/{CUSTOMER}")
    assert len(page.html.select("#sms-messages li")) == 50
    older = webtest.get(page.html.find("a", string="以前のメッセージ")["href"])
    assert [p.text for p in older.html.select("#sms-messages .body")] == ["メッセージ 1", "メッセージ 0"]


def test_sending_from_the_console_shows_the_conversation(webtest, login, company, carrier, db):
    token = login(webtest, company.agent)
    form = webtest.get("/sms").forms["sms-form"]
    assert [option[0] for option in form["from_number"].options] == [SMS_NUMBER]  # only SMS-capable numbers
    form["to"] = "+81 90-1234-5678"
    form["body"] = "お問い合わせありがとうございます。\r\n担当よりご連絡します。"
    page = form.submit(status=303).follow()
    assert page.request.path == f"/sms/conversations/{CUSTOMER}"
    assert "090-1234-5678 宛ての SMS を通信事業者に渡しました。" in page.text
    assert page.html.select_one("#sms-messages .body").text == "お問い合わせありがとうございます。\n担当よりご連絡します。"
    assert carrier.sent[0]["body"] == "お問い合わせありがとうございます。\n担当よりご連絡します。"  # line breaks as \n
    assert token


def test_the_console_form_refuses_bad_input_and_keeps_what_was_typed(webtest, login, company, carrier, db):
    login(webtest, company.agent)
    form = webtest.get("/sms").forms["sms-form"]
    form["to"] = "090-1234-5678"
    form["body"] = "本文はそのまま"
    page = form.submit(status=422)
    assert page.html.select_one("[role=alert]").text == "SMS の宛先には国番号が必要です。090-1234-5678 は +81 90-1234-5678 と入力してください。"
    again = page.forms["sms-form"]
    assert again["body"].value == "本文はそのまま" and again["to"].value == "090-1234-5678"
    assert messages(db) == [] and carrier.sent == []


def test_a_refused_reply_shows_the_conversation_again(webtest, login, company, carrier, db):
    add_messages(db, company.tenant, CUSTOMER, 2)
    login(webtest, company.agent)
    form = webtest.get(f"/sms/conversations/{CUSTOMER}").forms["sms-form"]
    form["body"] = "a" * 1531
    page = form.submit(status=422)
    assert "最大 10 通（GSM-7 で 1530 文字）" in page.html.select_one("[role=alert]").text
    assert [p.text for p in page.html.select("#sms-messages .body")] == ["メッセージ 1", "メッセージ 0"]
    assert len(messages(db)) == 2 and carrier.sent == []


def test_a_carrier_refusal_in_the_console_is_shown_on_the_message(webtest, login, company, carrier, db):
    carrier.refuse = "21610"
    login(webtest, company.agent)
    form = webtest.get("/sms").forms["sms-form"]
    form["to"], form["body"] = CUSTOMER, "こんにちは"
    page = form.submit(status=303).follow()
    assert "SMS を送信できませんでした" in page.html.select_one(".flash.error").text
    assert page.html.select_one("#sms-messages .sms-status").text == "送信失敗"
    assert "配信停止" in page.html.select_one("#sms-messages .sms-error").text


def test_the_counter_is_rendered_by_the_server_too(webtest, login, company):
    login(webtest, company.agent)
    form = webtest.get("/sms").forms["sms-form"]
    form["to"], form["body"] = "0312345678", "あ" * 71
    page = form.submit(status=422)
    assert page.html.select_one(".sms-counter").text == "71 文字 · 2 通（UCS-2）· あと 63 文字"


# --- status reports --------------------------------------------------------------------------

def test_a_status_report_that_comes_before_the_carriers_answer_finds_the_message(db, company):
    message = Message(
        tenant_id=company.tenant.id, direction=Direction.outbound, from_number=SMS_NUMBER, to_number=CUSTOMER,
        remote_number=CUSTOMER, body="x", segments=1, status=MessageStatus.queued,
    )
    db.add(message)
    db.flush()
    assert apply_message_status(db, "SM" + "a" * 32, "sent", reference=str(message.id))
    assert (message.status, message.carrier_message_id) == (MessageStatus.sent, "SM" + "a" * 32)
    assert not apply_message_status(db, "SM" + "a" * 32, "queued")  # late: never backwards
    assert apply_message_status(db, "SM" + "a" * 32, "undelivered", error_code="30003")
    assert not apply_message_status(db, "SM" + "a" * 32, "undelivered", error_code="30003")  # repeated
    assert (message.status, message.error_code) == (MessageStatus.undelivered, "30003")


def test_a_message_marked_failed_for_a_carrier_timeout_follows_the_carriers_reports(db, company):
    message = Message(
        tenant_id=company.tenant.id, direction=Direction.outbound, from_number=SMS_NUMBER, to_number=CUSTOMER,
        remote_number=CUSTOMER, body="x", segments=1, status=MessageStatus.failed, error_message="timed out",
    )
    db.add(message)
    db.flush()
    assert apply_message_status(db, "SM" + "d" * 32, "delivered", reference=str(message.id))
    assert (message.status, message.error_message) == (MessageStatus.delivered, None)


def test_a_reference_cannot_take_over_a_message_that_has_another_carrier_id(db, company):
    message = Message(
        tenant_id=company.tenant.id, carrier_message_id="SM" + "b" * 32, direction=Direction.outbound, from_number=SMS_NUMBER,
        to_number=CUSTOMER, remote_number=CUSTOMER, body="x", segments=1, status=MessageStatus.queued,
    )
    db.add(message)
    db.flush()
    assert not apply_message_status(db, "SM" + "c" * 32, "delivered", reference=str(message.id))
    assert (message.status, message.carrier_message_id) == (MessageStatus.queued, "SM" + "b" * 32)


# --- who is notified -------------------------------------------------------------------------

def test_an_admin_chooses_who_is_notified_of_incoming_sms(webtest, login, company, make_user, db):
    from ecti.messaging.services import notification_recipients

    admin = make_user(company.tenant, role="admin", email="admin@acme.example", name="管理 花子")
    login(webtest, admin)
    page = webtest.get("/sms/settings")
    assert "通知チャネルがインストールされていない" in page.text
    form = page.forms["sms-recipients"]
    boxes = form.fields["user"]
    assert {b._value for b in boxes} == {str(admin.id), str(company.agent.id)}  # only the own company's users
    for box in boxes:
        box.checked = box._value == str(company.agent.id)
    done = form.submit(status=303).follow()
    assert "受信 SMS の通知先を保存しました。" in done.text
    # a forged id of another company's user is ignored
    webtest.post("/sms/settings", {"csrf_token": done.forms["sms-recipients"]["csrf_token"].value, "user": [str(company.agent.id), str(company.other_agent.id)]}, status=303)
    assert [u.email for u in notification_recipients(db)] == ["agent@acme.example"]
    audit = webtest.get("/admin/audit").html.select("#audit-entries tr[data-action='sms.update']")
    assert [row.select_one(".audit-summary").text for row in audit] == ["SMS 設定を変更しました"]
    assert [[td.text for td in tr.select("th, td")] for tr in audit[0].select(".audit-diff tbody tr")] == [
        ["受信 SMS の通知先", "—", "agent@acme.example"],
    ]


def test_agents_cannot_change_who_is_notified(webtest, login, company):
    login(webtest, company.agent)
    assert webtest.get("/sms/settings", expect_errors=True).status_int == 403
