"""Recordings of <Record>, <Dial record>, Calls create Record=true and conferences
(mixed into Simulator). Durations come from virtual time."""
from __future__ import annotations

from typing import Optional

from .models import Call, Conference, Recording, account_path, new_sid, rfc2822


class RecordingMixin:
    """Starting, finishing and reporting recordings."""

    def start_recording(self, call: Optional[Call], source: str, channels: int, *,
                        callback: str = "", callback_method: str = "POST",
                        callback_events: tuple = ("completed",),
                        conference: Optional[Conference] = None) -> Recording:
        account_sid = call.account_sid if call is not None else conference.account_sid
        with self.lock:
            recording = Recording(new_sid("RE"), account_sid, call.sid if call else None,
                                  source, channels, self.clock.now(), self.clock.seconds,
                                  conference_sid=conference.sid if conference else None,
                                  status_callback=callback,
                                  status_callback_method=callback_method,
                                  status_callback_events=callback_events)
            self.recordings[recording.sid] = recording
        if call is not None:
            self.note(call, "recording-started", recording=recording.sid, source=source)
        self._recording_callback(recording, "in-progress")
        return recording

    def finish_recording(self, recording: Recording) -> None:
        if recording.status != "in-progress":
            return
        with self.lock:
            recording.duration = int(self.clock.seconds - recording.started_at)
            recording.status = "absent" if recording.duration <= 0 \
                and recording.source == "RecordVerb" else "completed"
            recording.date_updated = self.clock.now()
        self._recording_callback(recording, recording.status)

    def recording_url(self, recording: Recording) -> str:
        return f"{self.api_base}{account_path(recording.account_sid)}/Recordings/{recording.sid}"

    def _recording_callback(self, recording: Recording, status: str) -> None:
        if not recording.status_callback or status not in recording.status_callback_events:
            return
        params = {"AccountSid": recording.account_sid, "CallSid": recording.call_sid,
                  "RecordingSid": recording.sid, "RecordingUrl": self.recording_url(recording),
                  "RecordingStatus": status, "RecordingChannels": recording.channels,
                  "RecordingStartTime": rfc2822(recording.date_created),
                  "RecordingSource": recording.source, "RecordingTrack": "both",
                  "ErrorCode": 0}
        if status in ("completed", "absent"):
            params["RecordingDuration"] = max(recording.duration, 0)
        if recording.conference_sid:
            params["ConferenceSid"] = recording.conference_sid
        self.callback(recording.account_sid, "recording-status-callback",
                      recording.status_callback, recording.status_callback_method, params,
                      recording.call_sid)
