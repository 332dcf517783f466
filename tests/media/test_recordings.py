"""Recordings (F-REC-1, F-REC-2) through the Twilio simulator: who may play them, seekable
playback, repeated callbacks, deletion at the carrier, retention, and what is recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ecti.calls.models import Recording, RecordingSettings
from ecti.ivr.models import VoicemailMessage
from ecti.recordings.services import apply_retention
from ecti_twilio.testing import ACCOUNT_SID


@pytest.fixture
def recorded(telephony, db, h):
    """A 9-second voicemail message left through the simulator; its stored recording."""
    h.voicemail_line(telephony, db)
    h.leave_message(telephony, seconds=9)
    message = h.last_message(db)
    return h.recording_of(db, message)


def media(app, recording, status=200, **kw):
    return app.get(f"/recordings/{recording.id}/media", status=status, **kw)


def test_a_supervisor_plays_the_recording_streamed_from_the_carrier(telephony, recorded, make_user, h):
    assert (recorded.status, recorded.purpose, recorded.duration_seconds) == ("completed", "voicemail", 9)
    app = h.browser(telephony, make_user(telephony.tenant, role="supervisor", email="sv@tel.example"))
    wav = media(app, recorded)
    assert wav.content_type == "audio/x-wav" and wav.headers["Accept-Ranges"] == "bytes"
    assert wav.body[:4] == b"RIFF" and len(wav.body) == 44 + 9 * 8000 * 2  # 9 s of 8 kHz 16-bit mono
    mp3 = app.get(f"/recordings/{recorded.id}/media?format=mp3")
    assert mp3.content_type == "audio/mpeg" and mp3.body[:2] == b"\xff\xfb"
    download = app.get(f"/recordings/{recorded.id}/download?format=mp3")
    assert download.headers["Content-Disposition"] == f'attachment; filename="recording-{recorded.id}.mp3"'
    assert download.body == mp3.body
    # The carrier's address never reaches the browser.
    assert telephony.sim.api_base not in wav.headers.get("Location", "")
    bad = app.get(f"/recordings/{recorded.id}/media?format=ogg", status=422)
    assert "wav" in bad.text and "mp3" in bad.text


def test_nobody_else_gets_anything(telephony, recorded, make_user, make_tenant, db, h):
    other = make_tenant(slug="other", name="他社")
    outsider = h.browser(telephony, make_user(other, role="admin", email="admin@other.example"))
    agent = h.browser(telephony, make_user(telephony.tenant, role="agent", email="agent@tel.example"))
    anonymous = h.browser(telephony)
    for app in (outsider, agent):
        for path in ("media", "download", "delete"):
            response = app.get(f"/recordings/{recorded.id}/{path}", status=404)
            assert b"RIFF" not in response.body
    assert outsider.post(f"/recordings/{recorded.id}/delete", {"csrf_token": outsider.csrf}, status=404)
    redirect = media(anonymous, recorded, status=302)
    assert "/login" in redirect.headers["Location"]
    assert not h.stored(db, Recording)[0].deleted_at  # nothing was deleted by anyone


def test_the_agent_whose_box_it_is_hears_its_messages(telephony, db, make_user, h):
    owner = make_user(telephony.tenant, role="agent", email="owner@tel.example")
    h.voicemail_line(telephony, db, box_name="青木 個人", user_id=owner.id)
    h.leave_message(telephony, seconds=4)
    recording = h.recording_of(db, h.last_message(db))
    assert media(h.browser(telephony, owner), recording).body[:4] == b"RIFF"


@pytest.mark.parametrize("header, expected", [
    ("bytes=0-99", (0, 99)),          # the first bytes (a player reading the header)
    ("bytes=1000-1999", (1000, 1999)),  # the middle (seeking)
    ("bytes=-500", (-500, None)),     # the suffix (the last 500 bytes)
    ("bytes=144000-", (144000, None)),  # from an offset to the end
])
def test_range_requests_serve_exactly_the_bytes_asked(telephony, recorded, make_user, header, expected, h):
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    whole = media(app, recorded).body
    total = len(whole)
    part = media(app, recorded, status=206, headers={"Range": header})
    start, end = expected
    start = total + start if start < 0 else start
    end = total - 1 if end is None else end
    assert part.headers["Content-Range"] == f"bytes {start}-{end}/{total}"
    assert part.body == whole[start:end + 1] and int(part.headers["Content-Length"]) == end - start + 1


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=50-10", "bytes=-0", "pages=1-2"])
def test_a_range_outside_the_recording_is_416(telephony, recorded, make_user, header, h):
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    total = len(media(app, recorded).body)
    refused = media(app, recorded, status=416, headers={"Range": header})
    assert refused.headers["Content-Range"] == f"bytes */{total}" and refused.body == b""


def test_repeated_recording_callbacks_leave_one_recording(telephony, recorded, db, h):
    callbacks = [w for w in telephony.sim.webhooks if w["kind"] == "recording-status-callback"]
    action = [w for w in telephony.sim.webhooks if "RecordingSid" in w["params"] and w["kind"] == "action"]
    assert callbacks and action
    for webhook in callbacks + action + callbacks:
        assert h.replay(telephony, webhook).status_int == 200
    [recording] = h.stored(db, Recording)
    assert recording.status == "completed" and recording.carrier_recording_id == callbacks[0]["params"]["RecordingSid"]
    assert len(h.stored(db, VoicemailMessage)) == 1


def test_an_admin_deletes_a_recording_at_the_carrier_after_confirming(telephony, recorded, make_user, db, h):
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    confirm = app.get(f"/recordings/{recorded.id}/delete?next=/voicemail")
    assert "元に戻せません" in confirm.text
    assert recorded.carrier_recording_id in telephony.sim.recordings
    done = confirm.forms["delete-recording"].submit(status=303)
    assert done.headers["Location"].endswith("/voicemail")
    assert recorded.carrier_recording_id not in telephony.sim.recordings
    [recording] = h.stored(db, Recording)
    assert recording.status == "deleted" and recording.deleted_at is not None
    assert h.last_message(db).deleted_at is not None  # the voicemail message goes with it
    media(app, recording, status=404)


def test_a_carrier_failure_keeps_the_recording_and_says_so(telephony, recorded, make_user, db, h):
    app = h.browser(telephony, make_user(telephony.tenant, role="admin", email="ad@tel.example"))
    form = app.get(f"/recordings/{recorded.id}/delete").forms["delete-recording"]
    telephony.sim.accounts[ACCOUNT_SID].auth_token = "rotated-at-twilio"  # Twilio now refuses ECTI's token
    refused = form.submit(status=502)
    assert "削除できなかった" in refused.text and "保持" in refused.text
    assert recorded.carrier_recording_id in telephony.sim.recordings
    [recording] = h.stored(db, Recording)
    assert recording.status == "completed" and recording.deleted_at is None


def test_retention_deletes_recordings_older_than_the_company_keeps_them(telephony, recorded, db, h):
    db.rollback()
    db.add(RecordingSettings(tenant_id=telephony.tenant.id, record_queue_calls=False, record_outbound=False, retention_days=30))
    db.commit()
    made = recorded.created_at
    assert apply_retention(telephony.registry, now=made + timedelta(days=29, hours=23)) == []
    assert recorded.carrier_recording_id in telephony.sim.recordings
    assert apply_retention(telephony.registry, now=made + timedelta(days=30, minutes=1)) == [recorded.carrier_recording_id]
    assert recorded.carrier_recording_id not in telephony.sim.recordings
    [recording] = h.stored(db, Recording)
    assert recording.deleted_at == made + timedelta(days=30, minutes=1)
    assert apply_retention(telephony.registry, now=made + timedelta(days=60)) == []  # once


def test_without_a_retention_period_recordings_are_kept(telephony, recorded, h):
    assert apply_retention(telephony.registry, now=recorded.created_at + timedelta(days=3650)) == []
    assert recorded.carrier_recording_id in telephony.sim.recordings
