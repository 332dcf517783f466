"""Calls created over REST: status callbacks, party behaviours, validation, cancel."""
import email.utils

import pytest
from twilio.base.exceptions import TwilioRestException

PHONE = "+81312345678"


def test_api_call_reports_progress_in_twilios_order(sim, webhooks, number, twilio_client):
    webhooks.route("/outbound", "<Response><Say>ご予約の確認です</Say><Gather timeout=\"60\"/></Response>")

    created = twilio_client.calls.create(
        to=PHONE, from_=number.phone_number, url=webhooks.url("/outbound"),
        status_callback=webhooks.url("/status"),
        status_callback_event=["initiated", "ringing", "answered", "completed"])

    assert created.status == "queued"
    assert created.direction == "outbound-api"
    assert created.sid.startswith("CA")
    sim.settle()
    phone = sim.phone(PHONE)
    leg = phone.active
    assert leg.sid == created.sid
    assert leg.said() == ["ご予約の確認です"]
    sim.advance(25)
    phone.hangup()

    callbacks = webhooks.requests_to("/status")
    assert [hit.params["CallStatus"] for hit in callbacks] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert [hit.params["SequenceNumber"] for hit in callbacks] == ["0", "1", "2", "3"]
    assert all(hit.signature_ok for hit in callbacks)
    assert callbacks[-1].params["CallDuration"] == "25"
    assert callbacks[-1].params["Direction"] == "outbound-api"
    assert email.utils.parsedate_to_datetime(callbacks[0].params["Timestamp"]) is not None
    assert webhooks.last("/outbound").params["CallStatus"] == "in-progress"

    fetched = twilio_client.calls(created.sid).fetch()
    assert fetched.status == "completed"
    assert fetched.duration == "25"
    assert fetched.start_time is not None and fetched.end_time is not None


def test_default_status_callback_is_completed_only(sim, webhooks, number, twilio_client):
    twilio_client.calls.create(to=PHONE, from_=number.phone_number,
                               twiml="<Response><Say>hi</Say></Response>",
                               status_callback=webhooks.url("/status"))
    sim.settle()
    assert [h.params["CallStatus"] for h in webhooks.requests_to("/status")] == ["completed"]
    assert sim.phone(PHONE).calls[0].said() == ["hi"]


@pytest.mark.parametrize("behaviour,status", [("busy", "busy"), ("fail", "failed")])
def test_busy_and_failing_phones(sim, webhooks, number, twilio_client, behaviour, status):
    sim.phone(PHONE).behaviour = behaviour
    call = twilio_client.calls.create(to=PHONE, from_=number.phone_number,
                                      url=webhooks.url("/outbound"),
                                      status_callback=webhooks.url("/status"))
    sim.settle()
    assert twilio_client.calls(call.sid).fetch().status == status
    assert webhooks.last("/status").params["CallStatus"] == status
    assert webhooks.requests_to("/outbound") == []


def test_unanswered_call_rings_until_its_timeout(sim, webhooks, number, twilio_client):
    sim.phone(PHONE).behaviour = "no-answer"
    call = twilio_client.calls.create(to=PHONE, from_=number.phone_number,
                                      url=webhooks.url("/outbound"), timeout=20)
    sim.settle()
    sim.advance(19)
    assert sim.call(call.sid).status == "ringing"
    sim.advance(1)
    assert sim.call(call.sid).status == "no-answer"


def test_script_can_answer_a_ringing_phone(sim, webhooks, number, twilio_client):
    phone = sim.phone(PHONE)
    phone.behaviour = "no-answer"
    webhooks.route("/outbound", "<Response><Say>connected</Say></Response>")
    twilio_client.calls.create(to=PHONE, from_=number.phone_number, url=webhooks.url("/outbound"))
    sim.settle()
    call = phone.answer()
    assert call.said() == ["connected"]


def test_cancel_a_ringing_call(sim, webhooks, number, twilio_client):
    sim.phone(PHONE).behaviour = "no-answer"
    call = twilio_client.calls.create(to=PHONE, from_=number.phone_number,
                                      url=webhooks.url("/outbound"))
    sim.settle()
    twilio_client.calls(call.sid).update(status="canceled")
    sim.settle()
    assert sim.call(call.sid).status == "canceled"


def test_api_call_to_a_client_rings_the_softphone(sim, webhooks, number, twilio_client, account):
    device = sim.client(account.sid, "agent-1")
    webhooks.route("/outbound", "<Response><Say>agent leg</Say></Response>")
    call = twilio_client.calls.create(to="client:agent-1", from_=number.phone_number,
                                      url=webhooks.url("/outbound"))
    sim.settle()
    assert device.ringing.sid == call.sid
    device.answer()
    assert device.calls[0].said() == ["agent leg"]


def test_create_validates_like_twilio(sim, number, twilio_client):
    with pytest.raises(TwilioRestException) as error:
        twilio_client.calls.create(to="03-1234-5678", from_=number.phone_number, url="http://x/")
    assert error.value.code == 21211
    with pytest.raises(TwilioRestException) as error:
        twilio_client.calls.create(to=PHONE, from_="+815099999999", url="http://x/")
    assert error.value.code == 21210
    with pytest.raises(TwilioRestException) as error:
        twilio_client.calls.create(to=PHONE, from_=number.phone_number)
    assert error.value.code == 21205


def test_freephone_numbers_cannot_call_navi_dial(sim, webhooks, twilio_client, account):
    freephone = sim.add_number(account.sid, "+81120123456")
    call = twilio_client.calls.create(to="+81570012345", from_=freephone.phone_number,
                                      url=webhooks.url("/outbound"))
    allowed = twilio_client.calls.create(to="+81312345678", from_=freephone.phone_number,
                                         twiml="<Response/>")
    sim.settle()
    assert sim.call(call.sid).status == "failed"
    assert sim.errors[0]["code"] == 13225
    assert sim.call(allowed.sid).status == "completed"


def test_ip_phone_numbers_cannot_call_freephone(sim, webhooks, number, twilio_client):
    assert sim.dialing_restriction(number.phone_number, "+81120000000")
    assert sim.dialing_restriction(number.phone_number, "+81110")
    assert not sim.dialing_restriction(number.phone_number, "+81177")
    assert not sim.dialing_restriction(number.phone_number, "+819012345678")


def test_settle_waits_for_webhooks_in_flight(sim, webhooks, number, twilio_client):
    import time as real_time
    from ecti_twilio.simulator import SettleTimeout

    def slow(hit):
        real_time.sleep(0.5)
        return "<Response><Say>slow answer</Say></Response>"
    webhooks.route("/outbound", slow)
    call = twilio_client.calls.create(to=PHONE, from_=number.phone_number,
                                      url=webhooks.url("/outbound"))
    with pytest.raises(SettleTimeout):
        sim.settle(timeout=0.1)
    sim.settle()
    assert sim.call(call.sid).said() == ["slow answer"]


def test_concurrent_rest_requests_are_safe(sim, webhooks, number, twilio_client):
    from concurrent.futures import ThreadPoolExecutor

    webhooks.route("/outbound", "<Response><Say>bulk</Say></Response>")
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda n: twilio_client.calls.create(
            to=f"+8131234{n:04d}", from_=number.phone_number,
            url=webhooks.url("/outbound")).sid, range(24)))
    sim.settle()
    assert len(set(created)) == 24
    assert {c.status for c in twilio_client.calls.list()} == {"completed"}
    assert len(webhooks.requests_to("/outbound")) == 24
