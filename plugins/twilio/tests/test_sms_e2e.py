"""SMS end to end through the Twilio simulator (F-PH-8): sending, status callbacks, incoming
messages and their notification."""
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ecti.calls.models import Direction
from ecti.db import all_tenants
from ecti.messaging.models import Message, MessageStatus
from ecti.notifications.models import NotificationDelivery
from ecti.notifications.services import send_due
from ecti.telephony.models import PhoneNumber
from ecti.testing import run_queued_jobs
from ecti_twilio.provisioning import sync_tenant
from ecti_twilio.testing import ACCOUNT_SID, AUTH_TOKEN, MAIN_NUMBER

SMS_NUMBER = "+14155550100"  # an overseas number with SMS (Japanese 050/0120/0800 numbers have none)
CUSTOMER = "+819012345678"


@pytest.fixture
def sms(telephony, db):
    """The tenant's SMS-capable number, synchronised from Twilio like any other."""
    telephony.sim.add_number(ACCOUNT_SID, SMS_NUMBER, voice=False, sms=True, friendly_name="SMS")
    sync_tenant(db, telephony.registry, telephony.tenant, telephony.base_url)
    db.commit()
    return telephony


@pytest.fixture
def agent_app(sms, make_user, login):
    agent = make_user(sms.tenant, role="agent", email="agent@tel.example")
    headers = {"X-CSRF-Token": login(sms.webtest, agent)}
    return sms.webtest, headers


def send(agent_app, body="ご予約ありがとうございます。明日10時にお待ちしております。", to=CUSTOMER, from_number=SMS_NUMBER):
    app, headers = agent_app
    return app.post_json("/api/v1/messages", {"from_number": from_number, "to": to, "body": body}, headers=headers, expect_errors=True)


def fetch(agent_app, message_id):
    app, _headers = agent_app
    return app.get(f"/api/v1/messages/{message_id}").json


def stored(db):
    db.expire_all()
    return db.scalars(select(Message).order_by(Message.id)).all()


def test_a_sent_sms_arrives_and_is_reported_delivered(sms, agent_app, db):
    response = send(agent_app)
    assert response.status_int == 201
    sms.sim.settle()
    message = fetch(agent_app, response.json["id"])
    assert message["status"] == "delivered" and message["status_label"] == "到達"
    [arrived] = sms.sim.phone(CUSTOMER).messages
    assert (arrived["from"], arrived["body"]) == (SMS_NUMBER, "ご予約ありがとうございます。明日10時にお待ちしております。")
    [record] = stored(db)
    assert record.carrier_message_id == arrived["sid"]
    assert sms.sim.errors_for(ACCOUNT_SID) == []


def test_an_undelivered_sms_shows_why(sms, agent_app):
    sms.sim.phone(CUSTOMER).sms_behaviour = "undelivered"
    sent = send(agent_app).json
    sms.sim.settle()
    message = fetch(agent_app, sent["id"])
    assert (message["status"], message["error_code"]) == ("undelivered", "30003")
    assert message["error_message"] == "相手の携帯電話に届けられませんでした（電源が切れているか圏外です）。"


def test_an_sms_the_carrier_fails_is_marked_failed(sms, agent_app):
    sms.sim.phone(CUSTOMER).sms_behaviour = "fail"
    sent = send(agent_app).json
    sms.sim.settle()
    assert fetch(agent_app, sent["id"])["status"] == "failed"
    assert fetch(agent_app, sent["id"])["error_code"] == "30008"


def test_a_number_that_lost_sms_at_twilio_is_refused_by_the_carrier_and_kept_as_failed(sms, agent_app, db):
    # ECTI still believes the number can send SMS (the last sync was before the change at Twilio).
    sms.sim.number_by_phone(SMS_NUMBER).sms = False
    response = send(agent_app)
    assert response.status_int == 201
    assert (response.json["status"], response.json["error_code"]) == ("failed", "21606")
    assert "送信元の番号を会社アカウントの SMS 対応番号として受け付けませんでした" in response.json["error_message"]
    [record] = stored(db)
    assert (record.status, record.body) == (MessageStatus.failed, "ご予約ありがとうございます。明日10時にお待ちしております。")
    assert sms.sim.phone(CUSTOMER).messages == []


def test_a_number_without_sms_is_refused_before_anything_is_sent(sms, agent_app, db):
    response = send(agent_app, from_number=MAIN_NUMBER)
    assert response.status_int == 422
    assert response.json["error"]["message"].startswith("050-1234-5678 からは SMS を送信できません。")
    assert stored(db) == [] and sms.sim.messages == {}


def test_repeated_and_late_status_callbacks_change_nothing(sms, agent_app):
    sent = send(agent_app).json
    sms.sim.settle()
    callbacks = [w for w in sms.sim.webhooks if w["kind"] == "message-status-callback"]
    assert [w["params"]["MessageStatus"] for w in callbacks] == ["queued", "sent", "delivered"]
    for webhook in reversed(callbacks):  # again, and in the wrong order
        assert replay(sms, webhook).status_int == 204
    assert fetch(agent_app, sent["id"])["status"] == "delivered"


def replay(telephony, webhook):
    """Post a webhook the simulator sent once more, signed as Twilio signs it."""
    url = webhook["url"]
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, webhook["params"])
    path = url[len(telephony.base_url):]
    return telephony.webtest.post(path, webhook["params"], headers={"X-Twilio-Signature": signature})


class RecordingChannel:
    name = "recording"
    label = "Recording"

    def __init__(self, engine=None, fail=False):
        self.delivered = []
        self.fail = fail
        self.engine = engine
        self.visible = []

    def deliver(self, notification, *, registry):
        if self.engine is not None:  # announced after commit: the message can be read elsewhere
            with self.engine.connect() as conn:
                self.visible.append(conn.exec_driver_sql("SELECT count(*) FROM messages").scalar())
        if self.fail:
            raise RuntimeError("mail server down")
        self.delivered.append(notification)


@pytest.fixture
def notified(sms, make_user, db):
    """A notification channel, and the company's admin chosen to hear about incoming SMS."""
    from ecti.messaging.models import SmsNotificationRecipient

    admin = make_user(sms.tenant, role="admin", email="admin@tel.example")
    make_user(sms.tenant, role="agent", email="not-chosen@tel.example")
    db.add(SmsNotificationRecipient(tenant_id=sms.tenant.id, user_id=admin.id))
    db.commit()
    channel = RecordingChannel(engine=db.get_bind())
    sms.registry.ecti.notification_channels[channel.name] = channel
    return channel


def test_an_incoming_sms_is_shown_in_the_console(sms, make_user, login, db):
    sms.sim.send_sms(CUSTOMER, SMS_NUMBER, "明日の予約を変更したいです")
    sms.sim.settle()
    [message] = stored(db)
    assert (message.direction, message.status, message.remote_number) == (Direction.inbound, MessageStatus.received, CUSTOMER)
    login(sms.webtest, make_user(sms.tenant, role="supervisor"))
    listing = sms.webtest.get("/sms")
    assert "090-1234-5678" in listing.text and "明日の予約を変更したいです" in listing.text
    page = sms.webtest.get(f"/sms/conversations/{CUSTOMER}")
    assert page.html.select_one("#sms-messages .body").text == "明日の予約を変更したいです"
    assert "+1 415-555-0100 で受信" in page.html.select_one("#sms-messages .meta").text
    assert page.forms["sms-form"]["to"].value == CUSTOMER  # the reply goes back to the sender


def test_an_incoming_sms_is_announced_once_after_commit(sms, notified):
    sms.sim.send_sms(CUSTOMER, SMS_NUMBER, "至急折り返しお願いします")
    sms.sim.settle()
    assert notified.delivered == []  # queued in the outbox; the job worker sends it
    assert run_queued_jobs(sms.registry) == 1
    [notification] = notified.delivered
    assert notification.kind == "sms.received"
    assert list(notification.recipients) == ["admin@tel.example"]
    assert notification.link == f"{sms.base_url}/sms/conversations/{CUSTOMER}"
    from ecti.i18n import localizer_for

    japanese = localizer_for("ja")
    assert japanese.translate(notification.subject) == "090-1234-5678 から SMS が届きました"
    assert "至急折り返しお願いします" in japanese.translate(notification.body)
    assert notified.visible == [1]  # the message was committed before the announcement
    [webhook] = [w for w in sms.sim.webhooks if w["kind"] == "sms"]
    assert replay(sms, webhook).status_int == 200
    run_queued_jobs(sms.registry)
    assert len(notified.delivered) == 1  # a repeated webhook is neither stored nor announced again


def test_repeated_incoming_webhooks_store_the_message_once(sms, db):
    sms.sim.send_sms(CUSTOMER, SMS_NUMBER, "一度だけ")
    sms.sim.settle()
    [webhook] = [w for w in sms.sim.webhooks if w["kind"] == "sms"]
    replay(sms, webhook)
    replay(sms, webhook)
    assert [m.body for m in stored(db)] == ["一度だけ"]


def test_a_failing_channel_loses_no_message_and_is_retried(sms, notified, db):
    notified.fail = True
    sms.sim.send_sms(CUSTOMER, SMS_NUMBER, "届きますか")
    sms.sim.settle()
    run_queued_jobs(sms.registry)
    assert [m.body for m in stored(db)] == ["届きますか"]
    assert sms.sim.errors_for(ACCOUNT_SID) == []  # Twilio got its answer
    db.rollback()
    with all_tenants(db):
        [delivery] = db.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == notified.name)).all()
    assert (delivery.kind, delivery.status, delivery.attempts) == ("sms.received", "failed", 1)
    assert "mail server down" in delivery.last_error  # what the admin sees on /notifications
    notified.fail = False
    send_due(sms.registry, now=delivery.next_attempt_at)
    [notification] = notified.delivered
    assert notification.kind == "sms.received"


def test_without_recipients_nobody_is_notified(sms, notified, db):
    from ecti.messaging.models import SmsNotificationRecipient

    db.execute(SmsNotificationRecipient.__table__.delete())
    db.commit()
    sms.sim.send_sms(CUSTOMER, SMS_NUMBER, "こんにちは")
    sms.sim.settle()
    assert notified.delivered == [] and len(stored(db)) == 1


def test_the_sms_number_is_known_as_sms_capable(sms, db):
    number = db.scalar(select(PhoneNumber).where(PhoneNumber.e164 == SMS_NUMBER))
    assert number.sms_capable and not number.voice_capable
    assert sms.sim.number_by_phone(SMS_NUMBER).sms_url == sms.base_url + "/twilio/sms/incoming"
