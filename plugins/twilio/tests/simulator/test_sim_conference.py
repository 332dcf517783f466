"""<Dial><Conference>, Conferences and Participants over REST, hold, mute, kick, end."""
import pytest

CALLER = "+819011112222"
OTHER = "+819033334444"
AGENT_PHONE = "+81312345678"


@pytest.fixture
def room(webhooks, number):
    webhooks.route("/voice", '<Response><Dial><Conference statusCallback="/conf-events" '
                             'statusCallbackEvent="start end join leave hold mute">room-1'
                             '</Conference></Dial><Say>left the room</Say></Response>')
    webhooks.route("/hold-music", "<Response><Play>http://example.com/hold.mp3</Play></Response>")
    return "room-1"


def events(webhooks):
    return [hit.params["StatusCallbackEvent"] for hit in webhooks.requests_to("/conf-events")]


def test_callers_meet_hold_mute_and_kick(sim, webhooks, number, twilio_client, room):
    first = sim.dial(CALLER, number.phone_number)
    second = sim.dial(OTHER, number.phone_number)

    [conference] = twilio_client.conferences.list(friendly_name=room, status="in-progress")
    assert conference.sid.startswith("CF")
    participants = twilio_client.conferences(conference.sid).participants.list()
    assert {p.call_sid for p in participants} == {first.sid, second.sid}
    assert events(webhooks) == ["participant-join", "conference-start", "participant-join"]
    assert all(hit.signature_ok for hit in webhooks.requests_to("/conf-events"))

    held = twilio_client.conferences(conference.sid).participants(second.sid).update(
        hold=True, hold_url=webhooks.url("/hold-music"), hold_method="POST")
    assert held.hold is True
    sim.settle()
    assert second.heard[-1] == {"verb": "Play", "url": "http://example.com/hold.mp3", "loop": 1}
    twilio_client.conferences(conference.sid).participants(second.sid).update(hold=False)
    twilio_client.conferences(conference.sid).participants(first.sid).update(muted=True)
    sim.settle()
    assert twilio_client.conferences(conference.sid).participants(first.sid).fetch().muted
    assert events(webhooks)[3:] == ["participant-hold", "participant-unhold", "participant-mute"]
    hold_event = webhooks.requests_to("/conf-events")[3].params
    assert hold_event["CallSid"] == second.sid and hold_event["Hold"] == "true"

    twilio_client.conferences(conference.sid).participants(first.sid).delete()
    sim.settle()
    assert first.said() == ["left the room"]  # the kicked caller goes on after <Dial>
    assert first.status == "completed"

    second.hangup()
    assert events(webhooks)[-3:] == ["participant-leave", "participant-leave", "conference-end"]
    end = webhooks.requests_to("/conf-events")[-1].params
    assert end["ReasonConferenceEnded"] == "last-participant-left"
    assert twilio_client.conferences(conference.sid).fetch().status == "completed"


def test_participants_create_dials_out_into_the_conference(sim, webhooks, number,
                                                           twilio_client, room):
    caller = sim.dial(CALLER, number.phone_number)
    [conference] = twilio_client.conferences.list(status="in-progress")

    participant = twilio_client.conferences(conference.sid).participants.create(
        from_=number.phone_number, to=AGENT_PHONE, label="agent", end_conference_on_exit=True,
        status_callback=webhooks.url("/agent-status"),
        status_callback_event=["ringing", "answered", "completed"])
    assert participant.call_sid.startswith("CA")
    sim.settle()

    agent = sim.phone(AGENT_PHONE).active
    assert agent.sid == participant.call_sid
    fetched = twilio_client.conferences(conference.sid).participants("agent").fetch()
    assert fetched.status == "connected" and fetched.end_conference_on_exit is True

    sim.phone(AGENT_PHONE).hangup()
    # endConferenceOnExit: the caller is taken out and goes on after its <Dial>
    assert caller.said() == ["left the room"]
    end = webhooks.requests_to("/conf-events")[-1].params
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert [h.params["CallStatus"] for h in webhooks.requests_to("/agent-status")] == [
        "ringing", "in-progress", "completed"]


def test_participants_create_by_friendly_name_creates_the_conference(sim, webhooks, number,
                                                                      twilio_client):
    twilio_client.conferences("warm-transfer").participants.create(
        from_=number.phone_number, to=AGENT_PHONE)
    sim.settle()
    [conference] = twilio_client.conferences.list(friendly_name="warm-transfer")
    assert conference.status == "in-progress"
    twilio_client.conferences(conference.sid).update(status="completed")
    sim.settle()
    assert sim.phone(AGENT_PHONE).calls[0].status == "completed"
    assert twilio_client.conferences(conference.sid).fetch().status == "completed"


def test_waiting_for_the_moderator_and_recording_the_conference(sim, webhooks, number, account):
    webhooks.route("/voice", '<Response><Dial><Conference startConferenceOnEnter="false" '
                             'waitUrl="/wait-music" record="record-from-start" '
                             'recordingStatusCallback="/conf-rec">room-2</Conference></Dial>'
                             '</Response>')
    webhooks.route("/moderator", '<Response><Dial><Conference endConferenceOnExit="true">'
                                 'room-2</Conference></Dial></Response>')
    webhooks.route("/wait-music", "<Response><Say>司会者をお待ちください</Say></Response>")
    guest = sim.dial(CALLER, number.phone_number)
    assert guest.said() == ["司会者をお待ちください"]
    [conference] = sim.conferences.values()
    assert conference.status == "init"

    moderator_number = sim.add_number(account.sid, "+815099990000",
                                      voice_url=webhooks.url("/moderator"))
    moderator = sim.dial(OTHER, moderator_number.phone_number)
    assert conference.status == "in-progress"
    sim.advance(90)
    moderator.hangup()

    assert guest.status == "completed"
    recording = webhooks.last("/conf-rec").params
    assert recording["RecordingSource"] == "Conference"
    assert recording["ConferenceSid"] == conference.sid
    assert recording["RecordingDuration"] == "90"


def test_announcement_to_the_conference(sim, webhooks, number, twilio_client, room):
    first = sim.dial(CALLER, number.phone_number)
    second = sim.dial(OTHER, number.phone_number)
    webhooks.route("/announce", "<Response><Say>録音を開始します</Say></Response>")
    [conference] = twilio_client.conferences.list(status="in-progress")
    twilio_client.conferences(conference.sid).update(announce_url=webhooks.url("/announce"))
    sim.settle()
    assert first.said()[-1] == second.said()[-1] == "録音を開始します"


def test_a_wait_url_that_redirects_loops_in_virtual_time_until_the_conference_starts(sim, webhooks, number, account,
                                                                                     twilio_client):
    # Twilio plays a waitUrl's verbs for as long as they last and follows its <Redirect>
    # afterwards, again and again while the participant waits (the usual hold-music loop).
    webhooks.route("/voice", '<Response><Dial><Conference startConferenceOnEnter="false" waitUrl="/wait">'
                             'room-3</Conference></Dial></Response>')
    webhooks.route("/wait", '<Response><Pause length="10"/><Say>お待ちください</Say><Redirect>/wait</Redirect></Response>')
    webhooks.route("/moderator", '<Response><Dial><Conference>room-3</Conference></Dial></Response>')
    webhooks.route("/hold", '<Response><Say>保留中です</Say><Pause length="5"/><Redirect>/hold</Redirect></Response>')
    guest = sim.dial(CALLER, number.phone_number)
    assert guest.said() == ["お待ちください"]  # not five times at once
    sim.advance(11)
    assert guest.said() == ["お待ちください"] * 2
    sim.advance(22)
    assert guest.said() == ["お待ちください"] * 4
    moderator_number = sim.add_number(account.sid, "+815099990000", voice_url=webhooks.url("/moderator"))
    sim.dial(OTHER, moderator_number.phone_number)
    sim.advance(60)
    assert guest.said() == ["お待ちください"] * 4  # the conference started: the loop stopped

    [conference] = twilio_client.conferences.list(friendly_name="room-3", status="in-progress")
    participant = twilio_client.conferences(conference.sid).participants(guest.sid)
    participant.update(hold=True, hold_url=webhooks.url("/hold"), hold_method="POST")
    sim.advance(13)
    assert guest.said()[4:] == ["保留中です"] * 3
    participant.update(hold=False)
    sim.advance(60)
    assert guest.said()[4:] == ["保留中です"] * 3


SUPERVISOR_PHONE = "+81355556666"


def test_listen_coach_and_barge_decide_who_hears_whom(sim, webhooks, number, twilio_client,
                                                      room):
    """Muted participants hear but are not heard; a coach is heard only by the coached
    participant; updating Muted/Coaching switches without dropping the leg (as Twilio documents)."""
    caller = sim.dial(CALLER, number.phone_number)
    [conference] = twilio_client.conferences.list(status="in-progress")
    participants = twilio_client.conferences(conference.sid).participants
    agent_sid = participants.create(from_=number.phone_number, to=AGENT_PHONE).call_sid
    supervisor_sid = participants.create(from_=number.phone_number, to=SUPERVISOR_PHONE,
                                         muted=True, label="monitor").call_sid
    sim.settle()
    agent, supervisor = sim.phone(AGENT_PHONE).active, sim.phone(SUPERVISOR_PHONE).active

    # listen: the supervisor hears both, nobody hears the supervisor
    assert sim.hears(supervisor, caller) and sim.hears(supervisor, agent)
    assert sim.audience(supervisor) == []
    assert sim.hears(caller, agent) and sim.hears(agent, caller)

    # coach: only the agent hears the supervisor
    coached = participants(supervisor_sid).update(muted=False, coaching=True,
                                                  call_sid_to_coach=agent_sid)
    assert coached.coaching is True and coached.call_sid_to_coach == agent_sid
    sim.settle()
    assert [c.sid for c in sim.audience(supervisor)] == [agent_sid]
    assert not sim.hears(caller, supervisor) and sim.hears(supervisor, caller)
    fetched = participants(supervisor_sid).fetch()
    assert fetched.coaching is True and fetched.muted is False

    # barge: everyone hears everyone
    participants(supervisor_sid).update(coaching=False)
    sim.settle()
    assert {c.sid for c in sim.audience(supervisor)} == {caller.sid, agent_sid}
    assert participants(supervisor_sid).fetch().call_sid_to_coach is None

    # the supervisor leaves: the call goes on
    sim.phone(SUPERVISOR_PHONE).hangup()
    assert twilio_client.conferences(conference.sid).fetch().status == "in-progress"
    assert caller.status == "in-progress" and agent.status == "in-progress"
    assert sim.hears(caller, agent)
    # a held participant hears nobody and is heard by nobody
    participants(agent_sid).update(hold=True)
    sim.settle()
    assert not sim.hears(caller, agent) and not sim.hears(agent, caller)


def test_coach_attribute_and_coaching_without_a_call_to_coach(sim, webhooks, number,
                                                              twilio_client, account, room):
    from twilio.base.exceptions import TwilioRestException

    caller = sim.dial(CALLER, number.phone_number)
    [conference] = twilio_client.conferences.list(status="in-progress")
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.conferences(conference.sid).participants.create(
            from_=number.phone_number, to=SUPERVISOR_PHONE, coaching=True)
    assert refused.value.status == 400

    webhooks.route("/coach", f'<Response><Dial><Conference coach="{caller.sid}">room-1'
                             '</Conference></Dial></Response>')
    coach_number = sim.add_number(account.sid, "+815099990001", voice_url=webhooks.url("/coach"))
    coach = sim.dial(OTHER, coach_number.phone_number)
    assert [c.sid for c in sim.audience(coach)] == [caller.sid]
    assert sim.hears(coach, caller)
    join = [h.params for h in webhooks.requests_to("/conf-events")
            if h.params["StatusCallbackEvent"] == "participant-join"][-1]
    assert join["Coaching"] == "true" and join["CallSidToCoach"] == caller.sid
