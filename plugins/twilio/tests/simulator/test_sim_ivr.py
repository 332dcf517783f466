"""Inbound calls: the number's Voice URL, instant verbs, Gather, Redirect, errors, fallback."""
import time

from webob import Response

CALLER = "+819011112222"


def test_inbound_call_sends_signed_standard_parameters_and_plays_the_document(
        sim, webhooks, number, account):
    webhooks.route("/voice", """<?xml version="1.0" encoding="UTF-8"?>
        <Response>
          <Say voice="Polly.Mizuki" language="ja-JP">お電話ありがとうございます。
            <prosody rate="slow">少々お待ちください</prosody></Say>
          <Play loop="2">/audio/welcome.mp3</Play>
          <Pause length="2"/>
        </Response>""")

    call = sim.dial(CALLER, number.phone_number)

    hit = webhooks.last("/voice")
    assert hit.signature_ok
    assert hit.method == "POST"
    assert {k: hit.params[k] for k in ("AccountSid", "ApiVersion", "CallSid", "CallStatus",
                                       "Called", "Caller", "Direction", "From", "To")} == {
        "AccountSid": account.sid, "ApiVersion": "2010-04-01", "CallSid": call.sid,
        "CallStatus": "ringing", "Called": number.phone_number, "Caller": CALLER,
        "Direction": "inbound", "From": CALLER, "To": number.phone_number}
    assert call.heard == [
        {"verb": "Say", "text": "お電話ありがとうございます。 少々お待ちください",
         "voice": "Polly.Mizuki", "language": "ja-JP", "loop": 1},
        {"verb": "Play", "url": webhooks.url("/audio/welcome.mp3"), "loop": 2},
        {"verb": "Pause", "length": 2},
    ]
    # the end of the document hangs up
    assert call.status == "completed"
    assert call.sid.startswith("CA") and len(call.sid) == 34


def test_signatures_use_the_account_auth_token(sim, webhooks, number, account):
    account.auth_token = "rotated-token"
    sim.dial(CALLER, number.phone_number)
    assert webhooks.last("/voice").signature_ok is False


def test_gather_posts_digits_to_its_action(sim, webhooks, number):
    webhooks.route("/voice", """<Response>
        <Gather numDigits="1" action="/menu" timeout="7"><Say>1 または 2 を押してください</Say></Gather>
        <Say>入力がありませんでした</Say></Response>""")
    webhooks.route("/menu", lambda hit: (
        f"<Response><Say>選択 {hit.params['Digits']}</Say></Response>"))

    call = sim.dial(CALLER, number.phone_number)
    assert call.status == "in-progress"
    call.press("2")

    hit = webhooks.last("/menu")
    assert hit.signature_ok
    assert hit.params["Digits"] == "2"
    assert hit.params["CallStatus"] == "in-progress"
    assert call.said() == ["1 または 2 を押してください", "選択 2"]
    assert call.status == "completed"


def test_gather_finish_on_key_and_default_action_is_the_document_url(sim, webhooks, number):
    def voice(hit):
        if "Digits" in hit.params:
            return f"<Response><Say>got {hit.params['Digits']}</Say></Response>"
        return "<Response><Gather finishOnKey=\"*\"/></Response>"
    webhooks.route("/voice", voice)

    call = sim.dial(CALLER, number.phone_number)
    call.press("12")
    assert call.status == "in-progress"  # still gathering: no finish key yet
    call.press("3*9")

    assert webhooks.last("/voice").params["Digits"] == "123"
    assert webhooks.last("/voice").params["FinishedOnKey"] == "*"
    assert call.said() == ["got 123"]


def test_gather_without_input_falls_through_on_silence_or_timeout(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Gather action="/menu" timeout="5"/>'
                             '<Say>no input</Say><Gather action="/menu" timeout="5"/>'
                             '<Say>still nothing</Say><Hangup/></Response>')
    call = sim.dial(CALLER, number.phone_number)

    call.silence()
    assert call.said() == ["no input"]
    sim.advance(4)
    assert call.said() == ["no input"]
    sim.advance(1)  # the second Gather's timeout
    assert call.said() == ["no input", "still nothing"]
    assert call.status == "completed"
    assert webhooks.requests_to("/menu") == []


def test_action_on_empty_result_posts_empty_digits(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Gather action="/menu" actionOnEmptyResult="true"/>'
                             '<Say>not reached</Say></Response>')
    call = sim.dial(CALLER, number.phone_number)
    call.silence()
    assert webhooks.last("/menu").params["Digits"] == ""
    assert "not reached" not in call.said()


def test_get_webhooks_are_signed_over_the_url_with_query(sim, webhooks, number):
    number.voice_url = webhooks.url("/voice?tenant=acme")
    number.voice_method = "GET"
    webhooks.route("/voice", "<Response><Say>hi</Say></Response>")

    call = sim.dial(CALLER, number.phone_number)

    hit = webhooks.last("/voice")
    assert hit.method == "GET"
    assert hit.params["tenant"] == "acme"
    assert hit.params["CallSid"] == call.sid
    assert hit.signature_ok


def test_redirect_hangup_and_reject(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Redirect method="POST">/step2</Redirect>'
                             '<Say>skipped</Say></Response>')
    webhooks.route("/step2", "<Response><Say>step 2</Say><Hangup/><Say>never</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)
    assert call.said() == ["step 2"]
    assert call.status == "completed"

    webhooks.route("/voice", '<Response><Reject reason="busy"/></Response>')
    rejected = sim.dial(CALLER, number.phone_number)
    assert rejected.status == "busy"
    assert rejected.duration == 0


def test_invalid_twiml_fails_the_call_with_12100(sim, webhooks, number):
    webhooks.route("/voice", "<Response><Say>unclosed</Response>")

    call = sim.dial(CALLER, number.phone_number)

    assert call.status == "completed"
    assert call.heard[-1]["application_error"] is True
    [error] = sim.errors
    assert error["code"] == 12100
    assert error["call_sid"] == call.sid
    assert error["url"] == webhooks.url("/voice")


def test_failing_voice_url_falls_back_with_error_code(sim, webhooks, number):
    number.voice_fallback_url = webhooks.url("/fallback")
    webhooks.route("/voice", lambda hit: Response(status=503, body=b"down"))
    webhooks.route("/fallback", "<Response><Say>fallback speaking</Say></Response>")

    call = sim.dial(CALLER, number.phone_number)

    fallback = webhooks.last("/fallback")
    assert fallback.signature_ok
    assert fallback.params["ErrorCode"] == "11200"
    assert fallback.params["ErrorUrl"] == webhooks.url("/voice")
    assert call.said() == ["fallback speaking"]
    assert [(e["code"], e["response_status"]) for e in sim.errors_for(number.account_sid)] \
        == [(11200, 503)]


def test_a_webhook_that_times_out_is_an_application_error(sim, webhooks, number):
    sim.sender.timeout = 0.3

    def slow(hit):
        time.sleep(0.6)
        return "<Response><Say>too late</Say></Response>"
    webhooks.route("/voice", slow)

    call = sim.dial(CALLER, number.phone_number)

    assert call.heard[-1].get("application_error")
    assert sim.errors[0]["code"] == 11205


def test_unknown_verbs_are_skipped_with_a_warning(sim, webhooks, number):
    webhooks.route("/voice", "<Response><Dance/><Say>ok</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)
    assert call.said() == ["ok"]
    assert sim.errors[0]["code"] == 12200 and sim.errors[0]["level"] == "warning"


def test_number_status_callback_fires_on_completion(sim, webhooks, number):
    number.status_callback = webhooks.url("/status")
    webhooks.route("/voice", '<Response><Gather timeout="60"/></Response>')

    call = sim.dial(CALLER, number.phone_number)
    sim.advance(12)
    call.hangup()

    [status] = webhooks.requests_to("/status")
    assert status.signature_ok
    assert status.params["CallStatus"] == "completed"
    assert status.params["CallDuration"] == "12"
    assert status.params["CallSid"] == call.sid


def test_rest_redirect_of_a_live_call(sim, webhooks, number, twilio_client):
    webhooks.route("/voice", '<Response><Say>waiting</Say><Gather timeout="60"/></Response>')
    webhooks.route("/moved", "<Response><Say>moved</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)

    updated = twilio_client.calls(call.sid).update(url=webhooks.url("/moved"), method="POST")
    assert updated.status == "in-progress"  # answered at once; the effect follows
    sim.settle()

    assert call.said() == ["waiting", "moved"]
    assert call.status == "completed"


def test_rest_request_made_while_answering_a_webhook_does_not_deadlock(
        sim, webhooks, number, twilio_client):
    def voice(hit):
        twilio_client.calls(hit.params["CallSid"]).update(
            twiml="<Response><Say>redirected by the app</Say></Response>")
        return '<Response><Say>first</Say><Gather timeout="60"/></Response>'
    webhooks.route("/voice", voice)

    call = sim.dial(CALLER, number.phone_number)

    assert call.said() == ["first", "redirected by the app"]


def test_hangup_over_rest_and_21220_once_the_call_is_over(sim, webhooks, number, twilio_client):
    from twilio.base.exceptions import TwilioRestException
    import pytest

    webhooks.route("/voice", '<Response><Gather timeout="60"/></Response>')
    call = sim.dial(CALLER, number.phone_number)

    twilio_client.calls(call.sid).update(status="completed")
    sim.settle()
    assert call.status == "completed"

    with pytest.raises(TwilioRestException) as error:
        twilio_client.calls(call.sid).update(url=webhooks.url("/voice"))
    assert error.value.code == 21220
    assert error.value.status == 400
