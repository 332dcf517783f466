"""<Dial>: clients with parameters, numbers, outcomes, softphones from access tokens."""
import time

import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from ecti_twilio.simulator import SimulatorError

CALLER = "+819011112222"
PHONE = "+81312345678"


def test_dial_client_bridges_and_reports_duration_to_the_action(sim, webhooks, number, account):
    device = sim.client(account.sid, "agent-1")
    webhooks.route("/voice", """<Response><Dial action="/dial-done" timeout="20">
        <Client><Identity>agent-1</Identity><Parameter name="ticket" value="T-42"/>
        <Parameter name="caller_name" value="山田"/></Client></Dial>
        <Say>not reached: the action's TwiML replaces the rest</Say></Response>""")
    webhooks.route("/dial-done", "<Response><Say>ありがとうございました</Say></Response>")

    call = sim.dial(CALLER, number.phone_number)
    incoming = device.ringing
    assert incoming.parameters == {"ticket": "T-42", "caller_name": "山田"}
    assert (incoming.from_, incoming.to) == (CALLER, "client:agent-1")
    assert incoming.direction == "outbound-dial"
    assert incoming.parent_call_sid == call.sid

    device.answer()
    assert call.peer == incoming
    sim.advance(42)
    device.hangup()

    hit = webhooks.last("/dial-done")
    assert hit.signature_ok
    assert hit.params["DialCallStatus"] == "completed"
    assert hit.params["DialCallSid"] == incoming.sid
    assert hit.params["DialCallDuration"] == "42"
    assert call.said() == ["ありがとうございました"]
    assert call.status == "completed"
    assert sim.call(incoming.sid).duration == 42


def test_dial_without_action_goes_on_with_the_next_verb(sim, webhooks, number):
    webhooks.route("/voice", f"<Response><Dial>{PHONE}</Dial><Say>after dial</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)
    phone = sim.phone(PHONE)
    assert phone.active.from_ == CALLER  # the caller's number is the default caller ID
    phone.hangup()
    assert call.said() == ["after dial"]


@pytest.mark.parametrize("act,expected", [("decline", "busy"), ("timeout", "no-answer")])
def test_unanswered_dial_outcomes(sim, webhooks, number, account, act, expected):
    device = sim.client(account.sid, "agent-1")
    webhooks.route("/voice", '<Response><Dial action="/dial-done" timeout="15">'
                             '<Client>agent-1</Client></Dial></Response>')
    sim.dial(CALLER, number.phone_number)
    leg = device.ringing
    if act == "decline":
        device.decline()
    else:
        sim.advance(14)
        assert device.ringing == leg
        sim.advance(1)
    assert webhooks.last("/dial-done").params["DialCallStatus"] == expected
    assert sim.call(leg.sid).status == expected
    assert device.ringing is None


def test_dial_noun_status_callbacks_report_the_child_leg(sim, webhooks, number):
    webhooks.route("/voice", f'<Response><Dial><Number statusCallback="/leg-status" '
                             f'statusCallbackEvent="initiated ringing answered completed">'
                             f'{PHONE}</Number></Dial></Response>')
    call = sim.dial(CALLER, number.phone_number)
    sim.advance(8)
    sim.phone(PHONE).hangup()
    hits = webhooks.requests_to("/leg-status")
    assert [h.params["CallStatus"] for h in hits] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert {h.params["ParentCallSid"] for h in hits} == {call.sid}
    assert {h.params["Direction"] for h in hits} == {"outbound-dial"}
    assert hits[-1].params["CallDuration"] == "8"


def test_dial_to_busy_phone(sim, webhooks, number):
    sim.phone(PHONE).behaviour = "busy"
    webhooks.route("/voice", f'<Response><Dial action="/dial-done">{PHONE}</Dial></Response>')
    sim.dial(CALLER, number.phone_number)
    assert webhooks.last("/dial-done").params["DialCallStatus"] == "busy"


def test_caller_hanging_up_ends_the_child_leg_and_posts_the_action(sim, webhooks, number):
    webhooks.route("/voice", f'<Response><Dial action="/dial-done"><Number>{PHONE}</Number>'
                             '</Dial></Response>')
    call = sim.dial(CALLER, number.phone_number)
    child = sim.phone(PHONE).active
    sim.advance(5)
    call.hangup()
    assert sim.call(child.sid).status == "completed"
    assert webhooks.last("/dial-done").params["DialCallStatus"] == "completed"
    assert webhooks.last("/dial-done").params["DialCallDuration"] == "5"


def test_ringing_several_parties_connects_the_first_to_answer(sim, webhooks, number, account):
    first, second = sim.client(account.sid, "a"), sim.client(account.sid, "b")
    webhooks.route("/voice", '<Response><Dial><Client>a</Client><Client>b</Client></Dial>'
                             '</Response>')
    call = sim.dial(CALLER, number.phone_number)
    losing = first.ringing
    second.answer()
    assert call.peer == second.active
    assert sim.call(losing.sid).status == "canceled"


def test_dial_number_with_a_caller_id_the_account_does_not_own_fails(sim, webhooks, number):
    webhooks.route("/voice", f'<Response><Dial callerId="+81399999999" action="/dial-done">'
                             f'{PHONE}</Dial></Response>')
    sim.dial(CALLER, number.phone_number)
    assert webhooks.last("/dial-done").params["DialCallStatus"] == "failed"
    assert sim.errors[0]["code"] == 13214


def test_whisper_url_runs_on_the_called_party_before_bridging(sim, webhooks, number):
    webhooks.route("/voice", f'<Response><Dial><Number url="/whisper">{PHONE}</Number></Dial>'
                             '</Response>')
    webhooks.route("/whisper", "<Response><Say>着信です</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)
    agent = sim.phone(PHONE).active
    assert agent.said() == ["着信です"]
    assert call.peer == agent


def test_redirecting_the_child_leg_ends_the_parents_dial(sim, webhooks, number, twilio_client):
    webhooks.route("/voice", f'<Response><Dial action="/dial-done">{PHONE}</Dial></Response>')
    webhooks.route("/dial-done", "<Response><Say>back to the caller</Say></Response>")
    webhooks.route("/elsewhere", "<Response><Say>agent moved</Say><Gather timeout=\"60\"/>"
                                 "</Response>")
    call = sim.dial(CALLER, number.phone_number)
    agent = sim.phone(PHONE).active

    twilio_client.calls(agent.sid).update(url=webhooks.url("/elsewhere"))
    sim.settle()

    assert agent.said() == ["agent moved"]
    assert agent.status == "in-progress"
    assert webhooks.last("/dial-done").params["DialCallStatus"] == "completed"
    assert call.said() == ["back to the caller"]


def _token(account_sid, key, app_sid, identity="agent-7", ttl=3600, secret=None):
    token = AccessToken(account_sid, key.sid, secret or key.secret, identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(outgoing_application_sid=app_sid, incoming_allow=True))
    return token.to_jwt()


def test_softphone_from_access_token_places_a_call(sim, webhooks, number, account):
    key = sim.add_key(account.sid, "softphone")
    app = sim.add_application(account.sid, webhooks.url("/client-voice"), "Softphone")
    webhooks.route("/client-voice", lambda hit: (
        f'<Response><Dial callerId="{number.phone_number}">'
        f'<Number>{hit.params["To"]}</Number></Dial></Response>'))

    device = sim.client_from_token(_token(account.sid, key, app.sid))
    call = device.connect({"To": PHONE, "campaign": "spring"})

    hit = webhooks.last("/client-voice")
    assert hit.signature_ok
    assert hit.params["From"] == "client:agent-7"
    assert hit.params["Caller"] == "client:agent-7"
    assert hit.params["Direction"] == "inbound"
    assert hit.params["ApplicationSid"] == app.sid
    assert hit.params["campaign"] == "spring"
    far_end = sim.phone(PHONE).active
    assert far_end.from_ == number.phone_number
    assert call.peer == far_end
    assert device.active == call


def test_access_tokens_are_verified(sim, account):
    key = sim.add_key(account.sid)
    app = sim.add_application(account.sid, "http://127.0.0.1:1/")
    with pytest.raises(SimulatorError, match="signature"):
        sim.client_from_token(_token(account.sid, key, app.sid, secret="x" * 32))
    expired = AccessToken(account.sid, key.sid, key.secret, identity="a", ttl=1,
                          nbf=int(time.time()) - 100, valid_until=int(time.time()) - 50)
    expired.add_grant(VoiceGrant(outgoing_application_sid=app.sid))
    with pytest.raises(SimulatorError, match="expired"):
        sim.client_from_token(expired.to_jwt())
    with pytest.raises(SimulatorError, match="unknown API key"):
        sim.client_from_token(_token(account.sid, type(key)(
            "SK" + "0" * 32, account.sid, "s" * 32, "", None, None), app.sid))


def test_offline_client_is_not_rung(sim, webhooks, number, account):
    device = sim.client(account.sid, "agent-1")
    device.unregister()
    webhooks.route("/voice", '<Response><Dial action="/dial-done"><Client>agent-1</Client>'
                             '</Dial></Response>')
    sim.dial(CALLER, number.phone_number)
    assert webhooks.last("/dial-done").params["DialCallStatus"] == "no-answer"
