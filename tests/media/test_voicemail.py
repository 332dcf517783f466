"""Voicemail end to end: the ACD's overflow into a box (``voicemail.record``), the inbox and its
JSON API, box settings; and what the recording settings make the carrier record."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ecti.acd.agents import set_presence
from ecti.acd.models import Presence, Queue, QueueMember
from ecti.calls.models import CallEvent, EventKind, QueueRecordingOverride, Recording, RecordingSettings
from ecti.ivr.models import VoicemailBox, VoicemailMessage
from ecti.ivr.services import create_box
from ecti.jobs import in_transaction
from ecti.tenancy.models import User
from ecti.voice import HANDLERS_KEY, INBOUND_ENTRY, dispatch

THANKS = "メッセージをお預かりしました。ありがとうございました。"


@pytest.fixture
def webtest(telephony):
    """The ``api`` fixture checks requests against the app the simulator calls."""
    return telephony.webtest


def route_inbound_to(telephony, queue_id: int) -> None:
    """Stands in for the IVR's queue node: every inbound call goes to the queue."""
    def start(request, call, args, call_input):
        return dispatch(request, call, "acd.enqueue", {"queue": str(queue_id)}, call_input)

    telephony.registry[HANDLERS_KEY][INBOUND_ENTRY] = start


def make_queue(db, telephony, **settings) -> Queue:
    db.rollback()
    queue = Queue(tenant_id=telephony.tenant.id, **{"name": "サポート", "overflow": {}, "hold_audio": {}, "wrap_up_seconds": 0,
                                                   "ring_timeout": 20, **settings})
    db.add(queue)
    db.commit()
    route_inbound_to(telephony, queue.id)
    return queue


def test_a_queue_without_agents_overflows_into_its_voicemail_box(telephony, db, h):
    db.rollback()
    from ecti.db import set_tenant_scope

    set_tenant_scope(db, telephony.tenant.id)
    box = create_box(db, "サポート伝言")
    box.greeting = {"text": "担当者が不在です。メッセージをどうぞ。"}
    box.max_length = 30
    db.commit()
    make_queue(db, telephony, overflow={"kind": "voicemail", "target": str(box.id)})
    caller = telephony.dial(from_="+819055556666")
    assert "担当者が不在です。メッセージをどうぞ。" in caller.said()
    telephony.sim.advance(45)  # the caller talks on: the box's 30-second maximum ends the recording
    telephony.sim.settle()
    assert caller.said()[-1] == THANKS and caller.status == "completed"
    [message] = h.stored(db, VoicemailMessage)
    assert (message.box_id, message.from_number, message.duration_seconds) == (box.id, "+819055556666", 30)
    recording = db.get(Recording, message.recording_ref_id)
    assert (recording.purpose, recording.status, recording.duration_seconds) == ("voicemail", "completed", 30)
    kinds = [e.kind for e in db.scalars(select(CallEvent).where(CallEvent.call_id == message.call_id).order_by(CallEvent.id))]
    assert EventKind.overflowed in kinds and EventKind.voicemail in kinds
    assert telephony.sim.errors_for(telephony.account_sid) == []


def test_an_overflow_naming_no_box_uses_the_queues_own_box(telephony, db, h):
    queue = make_queue(db, telephony, overflow={"kind": "voicemail", "target": ""})
    from ecti.db import set_tenant_scope

    set_tenant_scope(db, telephony.tenant.id)
    box = create_box(db, "サポート")
    box.queue_id = queue.id
    db.commit()
    caller = telephony.dial()
    telephony.sim.advance(4)
    caller.silence()
    telephony.sim.settle()
    [message] = h.stored(db, VoicemailMessage)
    assert (message.box_id, message.duration_seconds) == (box.id, 4)


def test_queue_calls_are_recorded_in_two_channels_from_answer_when_the_queue_says_so(telephony, db, make_user, h):
    queue = make_queue(db, telephony)
    db.add(RecordingSettings(tenant_id=telephony.tenant.id, record_queue_calls=False, record_outbound=False))
    db.add(QueueRecordingOverride(tenant_id=telephony.tenant.id, queue_id=queue.id, record=True))  # this queue records
    agent = make_user(telephony.tenant, role="agent", email="aoki@tel.example", name="青木")
    db.add(QueueMember(tenant_id=telephony.tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    db.commit()
    phone = telephony.softphone(agent)
    with in_transaction(telephony.registry, telephony.tenant.id) as request:
        set_presence(request, request.db.get(User, agent.id), Presence.available)
    telephony.sim.settle()
    caller = telephony.dial()
    telephony.sim.advance(3)  # ringing: nothing is recorded yet
    assert phone.ringing is not None
    phone.answer()
    telephony.sim.settle()
    telephony.sim.advance(30)
    caller.hangup()
    telephony.sim.settle()
    [recording] = h.stored(db, Recording)
    assert (recording.purpose, recording.status, recording.duration_seconds) == ("call", "completed", 30)
    assert telephony.sim.recordings[recording.carrier_recording_id].source == "Conference"
    assert recording.channels == 2
    # Played through ECTI: both channels (caller and agent), 30 seconds.
    import io
    import wave

    wav = wave.open(io.BytesIO(h.browser(telephony, make_user(telephony.tenant, role="supervisor", email="sv@tel.example"))
                               .get(f"/recordings/{recording.id}/media").body))
    assert (wav.getnchannels(), wav.getnframes()) == (2, 30 * 8000)
    assert telephony.sim.errors_for(telephony.account_sid) == []


def test_a_queue_that_does_not_record_makes_no_recording(telephony, db, make_user, h):
    queue = make_queue(db, telephony)
    db.add(RecordingSettings(tenant_id=telephony.tenant.id, record_queue_calls=True, record_outbound=False))
    db.add(QueueRecordingOverride(tenant_id=telephony.tenant.id, queue_id=queue.id, record=False))
    agent = make_user(telephony.tenant, role="agent", email="aoki@tel.example", name="青木")
    db.add(QueueMember(tenant_id=telephony.tenant.id, queue_id=queue.id, user_id=agent.id, level=1, position=1))
    db.commit()
    phone = telephony.softphone(agent)
    with in_transaction(telephony.registry, telephony.tenant.id) as request:
        set_presence(request, request.db.get(User, agent.id), Presence.available)
    telephony.sim.settle()
    caller = telephony.dial()
    phone.answer()
    telephony.sim.advance(10)
    caller.hangup()
    telephony.sim.settle()
    assert h.stored(db, Recording) == [] and telephony.sim.recordings == {}


def test_the_inbox_lists_plays_marks_calls_back_and_deletes(telephony, db, make_user, h):
    h.voicemail_line(telephony, db)
    h.leave_message(telephony, from_="+819011112222", seconds=5)
    message = h.last_message(db)
    app = h.browser(telephony, make_user(telephony.tenant, role="supervisor", email="sv@tel.example"))
    inbox = app.get("/voicemail")
    row = inbox.html.select_one(f'#voicemail-messages tr[data-id="{message.id}"]')
    assert row["class"] == ["unheard"] and row.select_one(".caller").text == "090-1111-2222"
    assert row.select_one("audio")["src"].endswith(f"/recordings/{message.recording_ref_id}/media")
    assert row.select_one("a.call-back")["href"] == "/softphone?dial=%2B819011112222"
    app.post(f"/voicemail/{message.id}/heard", {"csrf_token": app.csrf, "heard": "1"}, status=303)
    assert h.last_message(db).heard_at is not None
    assert app.get("/voicemail").html.select_one(f'tr[data-id="{message.id}"]')["class"] == ["heard"]
    page = app.get(f"/voicemail/{message.id}")
    assert "090-1111-2222" in page.text and "代表伝言" in page.text
    confirm = app.get(f"/voicemail/{message.id}/delete")
    confirm.forms["delete-voicemail"].submit(status=303)
    assert h.last_message(db).deleted_at is not None
    assert message.recording_id not in telephony.sim.recordings  # deleted at the carrier too
    assert app.get("/voicemail").html.select_one(f'tr[data-id="{message.id}"]') is None


def test_agents_see_only_their_boxes(telephony, db, make_user, h):
    agent = make_user(telephony.tenant, role="agent", email="agent@tel.example")
    h.voicemail_line(telephony, db)
    h.leave_message(telephony)
    message = h.last_message(db)
    app = h.browser(telephony, agent)
    assert app.get("/voicemail").html.select_one(f'tr[data-id="{message.id}"]') is None
    app.get(f"/voicemail/{message.id}", status=404)
    app.post(f"/voicemail/{message.id}/heard", {"csrf_token": app.csrf}, status=404)
    db.rollback()
    db.get(VoicemailBox, message.box_id).recipient_user_ids = [agent.id]
    db.commit()
    assert app.get("/voicemail").html.select_one(f'tr[data-id="{message.id}"]') is not None


def test_the_voicemail_api(telephony, db, make_user, make_tenant, login, api, h):
    h.voicemail_line(telephony, db)
    h.leave_message(telephony, from_="+819011112222", seconds=6)
    message = h.last_message(db)
    csrf = login(api.testapp, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    [listed] = api.get("/api/v1/voicemail/messages").json["messages"]
    assert (listed["id"], listed["from_display"], listed["duration_seconds"], listed["heard"]) == (message.id, "090-1111-2222", 6, False)
    assert listed["media_url"].endswith(f"/recordings/{message.recording_ref_id}/media")
    heard = api.post(f"/api/v1/voicemail/messages/{message.id}/heard", json={"heard": True}, headers={"X-CSRF-Token": csrf})
    assert heard.status_int == 200 and heard.json["heard"] is True
    bad = api.post(f"/api/v1/voicemail/messages/{message.id}/heard", json={"heard": "yes please"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_int == 422
    assert api.delete("/api/v1/voicemail/messages/999999", headers={"X-CSRF-Token": csrf}).status_int == 404
    assert api.delete(f"/api/v1/voicemail/messages/{message.id}", headers={"X-CSRF-Token": csrf}).status_int == 204
    assert api.get("/api/v1/voicemail/messages").json["messages"] == []
    assert message.recording_id not in telephony.sim.recordings


def test_box_settings_are_checked_before_anything_changes(telephony, db, make_user, h):
    box = h.voicemail_line(telephony, db)
    agent = make_user(telephony.tenant, role="agent", email="agent@tel.example", name="青木")
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    form = app.get(f"/voicemail/boxes/{box.id}").forms["box-settings"]
    form["max_length"] = "60"
    form["recipient_emails"] = "a@example.jp\nnot an address"
    refused = form.submit(status=422)
    assert "not an address" in refused.text
    db.rollback()
    assert db.get(VoicemailBox, box.id).recipient_emails == []
    form = app.get(f"/voicemail/boxes/{box.id}").forms["box-settings"]
    form["max_length"] = "60"
    form["greeting"] = "只今留守にしております。"
    form["recipient_emails"] = "a@example.jp"
    form["user_id"] = str(agent.id)
    form["attach_audio"] = True
    form.submit(status=303)
    db.rollback()
    db.expire_all()
    saved = db.get(VoicemailBox, box.id)
    assert (saved.max_length, saved.greeting, saved.recipient_emails, saved.user_id, saved.attach_audio) == (
        60, {"text": "只今留守にしております。"}, ["a@example.jp"], agent.id, True)


def test_recording_settings_form(telephony, db, make_user, h):
    queue = make_queue(db, telephony)
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    form = app.get("/recordings/settings").forms["recording-settings"]
    form["record_queue_calls"] = True
    form["retention"] = "days"
    form["retention_days"] = "0"
    assert form.submit(status=422).html.select_one(".error")
    form["retention_days"] = "90"
    form[f"queue_{queue.id}"] = "off"
    form.submit(status=303)
    db.rollback()
    settings = db.scalar(select(RecordingSettings).where(RecordingSettings.tenant_id == telephony.tenant.id))
    assert (settings.record_queue_calls, settings.record_outbound, settings.retention_days) == (True, False, 90)
    assert db.scalar(select(QueueRecordingOverride.record).where(QueueRecordingOverride.queue_id == queue.id)) is False
    agent = h.browser(telephony, make_user(telephony.tenant, role="agent", email="agent@tel.example"))
    agent.get("/recordings/settings", status=403)


@pytest.mark.parametrize("record", [True, False])
def test_softphone_calls_are_recorded_in_two_channels_when_the_company_says_so(telephony, db, make_user, h, record):
    db.rollback()
    db.add(RecordingSettings(tenant_id=telephony.tenant.id, record_queue_calls=False, record_outbound=record))
    db.commit()
    agent = make_user(telephony.tenant, role="agent", email="aoki@tel.example")
    customer = telephony.sim.phone("+81312345678")
    customer.behaviour = "answer"
    device = telephony.softphone(agent)
    device.connect({"To": "03-1234-5678", "CallerId": telephony.number})
    telephony.sim.advance(20)
    device.hangup()
    telephony.sim.settle()
    recordings = h.stored(db, Recording)
    if not record:
        assert recordings == [] and telephony.sim.recordings == {}
        return
    [recording] = recordings
    assert (recording.purpose, recording.channels, recording.duration_seconds) == ("call", 2, 20)
    assert telephony.sim.recordings[recording.carrier_recording_id].source == "DialVerb"


def test_a_recording_is_stopped_at_an_hour_while_the_call_goes_on(telephony, db, make_user, h):
    """F-REC-1: ``<Dial record>`` has no length limit in TwiML; an hour after the recording
    started, ECTI's ``recordings.limit`` job stops it at the carrier."""
    db.rollback()
    db.add(RecordingSettings(tenant_id=telephony.tenant.id, record_queue_calls=False, record_outbound=True))
    db.commit()
    agent = make_user(telephony.tenant, role="agent", email="aoki@tel.example")
    customer = telephony.sim.phone("+81312345678")
    customer.behaviour = "answer"
    device = telephony.softphone(agent)
    device.connect({"To": "03-1234-5678", "CallerId": telephony.number})
    telephony.sim.settle()
    [recording] = h.stored(db, Recording)
    assert recording.status == "in-progress"
    huey = telephony.registry["ecti.huey"]
    [limit] = [t for t in huey.pending() + huey.scheduled() if t.name == "recordings.limit"]
    assert abs((limit.eta - recording.created_at.replace(tzinfo=None)) - timedelta(seconds=3600)) < timedelta(seconds=1)
    telephony.sim.advance(3600)
    assert huey.execute(limit, timestamp=limit.eta) is True  # what the worker does when it is due
    telephony.sim.settle()
    telephony.sim.advance(60)
    assert customer.active is not None  # the call itself goes on
    device.hangup()
    telephony.sim.settle()
    [recording] = h.stored(db, Recording)
    assert (recording.status, recording.duration_seconds) == ("completed", 3600)
    assert telephony.sim.errors_for(telephony.account_sid) == []


def test_box_settings_travel_in_tenant_configuration_files(telephony, db, make_user, h):
    from ecti.tenancy.models import Tenant
    from ecti.tenant_config import ConfigRefused, export_document, import_document

    user = make_user(telephony.tenant, role="supervisor", email="sv@tel.example")
    box = h.voicemail_line(telephony, db)
    box.greeting, box.max_length, box.attach_audio = {"text": "只今留守にしております。"}, 45, True
    box.recipient_user_ids, box.recipient_emails = [user.id], ["owner@outside.example"]
    db.commit()
    tenant = db.get(Tenant, telephony.tenant.id)
    exported = export_document(db, telephony.registry, tenant)
    [item] = exported["voicemail_boxes"]
    assert item == {"name": "代表伝言", "greeting": "只今留守にしております。", "max_length": 45, "recipient_users": ["sv@tel.example"],
                    "recipient_emails": ["owner@outside.example"], "attach_audio": True}
    item.update(max_length=90, recipient_users=["nobody@tel.example"])
    try:
        import_document(db, telephony.registry, exported)
    except ConfigRefused as refused:
        assert [path for path, _message in refused.errors] == ["$.voicemail_boxes[0].recipient_users[0]"]
    else:
        raise AssertionError("an unknown recipient was accepted")
    db.rollback()
    db.expire_all()
    assert db.get(VoicemailBox, box.id).max_length == 45  # all or nothing
    item.update(recipient_users=["sv@tel.example"], attach_audio=False)
    import_document(db, telephony.registry, exported)
    db.commit()
    db.expire_all()
    saved = db.get(VoicemailBox, box.id)
    assert (saved.max_length, saved.attach_audio, saved.recipient_user_ids) == (90, False, [user.id])
