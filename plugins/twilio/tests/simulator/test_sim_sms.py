"""SMS: inbound to the number's SmsUrl (with a <Message> reply), outbound with callbacks."""
import pytest
from twilio.base.exceptions import TwilioRestException

CUSTOMER = "+819011112222"


def test_inbound_sms_reaches_the_sms_url_and_the_reply_is_delivered(sim, webhooks, number):
    webhooks.route("/sms", "<Response><Message>受け付けました。担当よりご連絡します。</Message>"
                           "</Response>")

    message = sim.send_sms(CUSTOMER, number.phone_number, "予約を変更したいです")

    hit = webhooks.last("/sms")
    assert hit.signature_ok
    assert hit.params["MessageSid"] == hit.params["SmsSid"] == message.sid
    assert message.sid.startswith("SM")
    assert (hit.params["From"], hit.params["To"], hit.params["Body"]) == (
        CUSTOMER, number.phone_number, "予約を変更したいです")
    assert hit.params["NumSegments"] == "1"
    assert hit.params["AccountSid"] == number.account_sid
    assert sim.phone(CUSTOMER).messages[-1]["body"] == "受け付けました。担当よりご連絡します。"


def test_outbound_message_goes_queued_sent_delivered(sim, webhooks, number, twilio_client):
    message = twilio_client.messages.create(to=CUSTOMER, from_=number.phone_number,
                                            body="明日10時のご予約です",
                                            status_callback=webhooks.url("/msg-status"))
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    sim.settle()

    callbacks = webhooks.requests_to("/msg-status")
    assert [h.params["MessageStatus"] for h in callbacks] == ["queued", "sent", "delivered"]
    assert all(h.signature_ok and h.params["MessageSid"] == message.sid for h in callbacks)
    assert twilio_client.messages(message.sid).fetch().status == "delivered"
    assert sim.phone(CUSTOMER).messages == [{"sid": message.sid, "from": number.phone_number,
                                             "to": CUSTOMER, "body": "明日10時のご予約です"}]
    assert [m.sid for m in twilio_client.messages.list(to=CUSTOMER)] == [message.sid]


@pytest.mark.parametrize("behaviour,statuses,code", [
    ("undelivered", ["queued", "sent", "undelivered"], "30003"),
    ("fail", ["queued", "failed"], "30008")])
def test_undeliverable_messages(sim, webhooks, number, twilio_client, behaviour, statuses, code):
    sim.phone(CUSTOMER).sms_behaviour = behaviour
    message = twilio_client.messages.create(to=CUSTOMER, from_=number.phone_number, body="x",
                                            status_callback=webhooks.url("/msg-status"))
    sim.settle()
    callbacks = webhooks.requests_to("/msg-status")
    assert [h.params["MessageStatus"] for h in callbacks] == statuses
    assert callbacks[-1].params["ErrorCode"] == code
    assert twilio_client.messages(message.sid).fetch().error_code == int(code)


def test_message_validation(sim, number, twilio_client, account):
    voice_only = sim.add_number(account.sid, "+815011110000", voice=True, sms=False)
    with pytest.raises(TwilioRestException) as error:
        twilio_client.messages.create(to=CUSTOMER, from_=voice_only.phone_number, body="x")
    assert error.value.code == 21606
    with pytest.raises(TwilioRestException) as error:
        twilio_client.messages.create(to="090-1111-2222", from_=number.phone_number, body="x")
    assert error.value.code == 21211


def test_long_japanese_messages_are_counted_in_ucs2_segments(sim, webhooks, number):
    sim.send_sms(CUSTOMER, number.phone_number, "あ" * 71)
    assert webhooks.last("/sms").params["NumSegments"] == "2"
