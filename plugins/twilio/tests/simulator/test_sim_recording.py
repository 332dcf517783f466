"""Recordings: <Record>, <Dial record>, Calls create Record=true; callbacks and media."""
import io
import wave

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

CALLER = "+819011112222"
PHONE = "+81312345678"


def test_record_verb_posts_the_recording_and_its_status(sim, webhooks, number, twilio_client):
    webhooks.route("/voice", '<Response><Say>発信音の後にメッセージをどうぞ</Say>'
                             '<Record maxLength="120" action="/recorded" '
                             'recordingStatusCallback="/rec-status" '
                             'recordingStatusCallbackEvent="in-progress completed"/></Response>')
    webhooks.route("/recorded", "<Response><Say>録音しました</Say></Response>")

    call = sim.dial(CALLER, number.phone_number)
    assert call.heard[-1] == {"verb": "Beep"}
    sim.advance(7)
    call.press("#")

    action = webhooks.last("/recorded").params
    assert action["Digits"] == "#"
    assert action["RecordingDuration"] == "7"
    sid = action["RecordingSid"]
    assert sid.startswith("RE")
    assert action["RecordingUrl"] == (f"{sim.api_base}/2010-04-01/Accounts/"
                                      f"{number.account_sid}/Recordings/{sid}")
    statuses = webhooks.requests_to("/rec-status")
    assert [h.params["RecordingStatus"] for h in statuses] == ["in-progress", "completed"]
    assert statuses[-1].params["RecordingDuration"] == "7"
    assert statuses[-1].params["RecordingChannels"] == "1"
    assert statuses[-1].params["RecordingSource"] == "RecordVerb"
    assert call.said()[-1] == "録音しました"

    recording = twilio_client.recordings(sid).fetch()
    assert (recording.duration, recording.status, recording.call_sid) == ("7", "completed",
                                                                         call.sid)
    assert [r.sid for r in twilio_client.recordings.list(call_sid=call.sid)] == [sid]

    wav = requests.get(action["RecordingUrl"] + ".wav")
    assert wav.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert audio.getnframes() / audio.getframerate() == 7
    mp3 = requests.get(action["RecordingUrl"] + ".mp3")
    assert mp3.headers["Content-Type"] == "audio/mpeg"
    assert mp3.content[:2] == b"\xff\xfb"
    frames = len(mp3.content) // 144
    assert abs(frames * 1152 / 32000 - 7) < 0.05

    twilio_client.recordings(sid).delete()
    with pytest.raises(TwilioRestException) as error:
        twilio_client.recordings(sid).fetch()
    assert error.value.code == 20404


def test_record_ends_at_max_length_and_on_hangup(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Record maxLength="30" action="/recorded" '
                             'playBeep="false"/></Response>')
    call = sim.dial(CALLER, number.phone_number)
    assert call.heard == []
    sim.advance(45)
    assert webhooks.last("/recorded").params["RecordingDuration"] == "30"
    assert "Digits" not in webhooks.last("/recorded").params

    second = sim.dial(CALLER, number.phone_number)
    sim.advance(4)
    second.hangup()
    hit = webhooks.last("/recorded")
    assert hit.params["CallSid"] == second.sid
    assert hit.params["Digits"] == "hangup" and hit.params["RecordingDuration"] == "4"


def test_silent_record_is_absent_and_goes_on(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Record action="/recorded"/><Say>no message</Say>'
                             '</Response>')
    call = sim.dial(CALLER, number.phone_number)
    call.silence()
    assert call.said() == ["no message"]
    assert webhooks.requests_to("/recorded") == []
    assert [r.status for r in sim.recordings.values()] == ["absent"]


def test_dial_record_from_answer_dual(sim, webhooks, number):
    webhooks.route("/voice", f'<Response><Dial record="record-from-answer-dual" '
                             f'action="/dial-done" recordingStatusCallback="/rec-status">'
                             f'{PHONE}</Dial></Response>')
    call = sim.dial(CALLER, number.phone_number)
    sim.advance(20)
    sim.phone(PHONE).hangup()

    status = webhooks.last("/rec-status").params
    assert status["RecordingChannels"] == "2"
    assert status["RecordingSource"] == "DialVerb"
    assert status["RecordingDuration"] == "20"
    assert status["CallSid"] == call.sid
    action = webhooks.last("/dial-done").params
    assert action["RecordingSid"] == status["RecordingSid"]
    assert action["RecordingDuration"] == "20"


def test_outbound_call_with_record_true(sim, webhooks, number, twilio_client):
    call = twilio_client.calls.create(
        to=PHONE, from_=number.phone_number, twiml='<Response><Gather timeout="600"/></Response>',
        record=True, recording_channels="dual",
        recording_status_callback=webhooks.url("/rec-status"))
    sim.settle()
    sim.advance(33)
    twilio_client.calls(call.sid).update(status="completed")
    sim.settle()
    status = webhooks.last("/rec-status").params
    assert (status["RecordingSource"], status["RecordingChannels"],
            status["RecordingDuration"]) == ("OutboundAPI", "2", "33")
    [recording] = twilio_client.calls(call.sid).recordings.list()
    assert recording.channels == 2


def test_media_can_require_the_account_credentials(sim, webhooks, number, account):
    webhooks.route("/voice", '<Response><Record action="/recorded"/></Response>')
    call = sim.dial(CALLER, number.phone_number)
    sim.advance(3)
    call.press("#")
    url = webhooks.last("/recorded").params["RecordingUrl"]
    sim.media_requires_auth = True
    assert requests.get(url).status_code == 401
    assert requests.get(url, auth=(account.sid, account.auth_token)).status_code == 200


def test_conference_recordings_are_two_channel_served_down_mixed_unless_asked(sim, webhooks, number, account):
    """Twilio records conferences in two channels and serves the media down-mixed unless the
    request asks ``RequestedChannels=2`` (changelog 2024-07 / 2025-09)."""
    import io
    import wave

    webhooks.route("/voice", '<Response><Dial><Conference record="record-from-start" '
                             'recordingStatusCallback="/rec">room</Conference></Dial></Response>')
    call = sim.dial(CALLER, number.phone_number)
    sim.advance(5)
    call.hangup()
    sim.settle()
    status = webhooks.last("/rec").params
    assert (status["RecordingSource"], status["RecordingChannels"]) == ("Conference", "2")
    url = status["RecordingUrl"] + ".wav"
    mono = wave.open(io.BytesIO(requests.get(url).content))
    dual = wave.open(io.BytesIO(requests.get(url, params={"RequestedChannels": "2"}).content))
    assert (mono.getnchannels(), dual.getnchannels()) == (1, 2)
    assert mono.getnframes() == dual.getnframes() == 5 * 8000


def test_a_call_recording_is_stopped_through_the_rest_api(sim, webhooks, number, twilio_client):
    """``client.calls(CA).recordings(RE).update(status="stopped")`` as Twilio: the recording
    completes now (status callback with its length), the call goes on; a stopped one refuses."""
    sim.phone(PHONE).behaviour = "answer"
    webhooks.route("/voice", f'<Response><Dial record="record-from-answer-dual" recordingStatusCallback="/rec" '
                             f'recordingStatusCallbackEvent="in-progress completed"><Number>{PHONE}</Number></Dial></Response>')
    call = sim.dial(CALLER, number.phone_number)
    sim.settle()
    started = webhooks.last("/rec").params
    assert started["RecordingStatus"] == "in-progress"
    sim.advance(12)
    stopped = twilio_client.calls(call.sid).recordings(started["RecordingSid"]).update(status="stopped")
    assert stopped.status == "stopped"
    sim.settle()
    done = webhooks.last("/rec").params
    assert (done["RecordingStatus"], done["RecordingDuration"]) == ("completed", "12")
    assert call.status == "in-progress"
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.calls(call.sid).recordings(started["RecordingSid"]).update(status="stopped")
    assert refused.value.status == 400
    call.hangup()
