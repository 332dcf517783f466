"""Storing what the carrier reports about recordings (idempotently)."""
from __future__ import annotations

from sqlalchemy import select

from ..db import insert_first_wins
from .events import record_event
from .models import Call, EventKind, Recording

#: Recording statuses, in the order a recording moves through them.
_STATUS_RANK = {"in-progress": 0, "completed": 1, "absent": 1, "failed": 1, "deleted": 2}


def store_recording(request, call: Call, call_input, *, purpose: str = "call") -> Recording | None:
    """Create or update the recording ``call_input`` describes; repeats change nothing.

    A status never moves backwards (a late "in-progress" after "completed" is ignored), and
    the "recording" call event is written once, when the recording first becomes known.
    """
    if not call_input.recording_id:
        return None
    recording = request.db.scalar(select(Recording).where(Recording.carrier_recording_id == call_input.recording_id))
    status = call_input.recording_status or "completed"
    if recording is None:
        # Two callbacks of one recording may arrive at once (in-progress and completed): the
        # first writer wins, the other updates its row.
        recording, created = insert_first_wins(request.db, Recording, dict(
            tenant_id=call.tenant_id, call_id=call.id, carrier_recording_id=call_input.recording_id, status=status, purpose=purpose,
        ), unique=("tenant_id", "carrier_recording_id"))
        if created:
            record_event(request, call, EventKind.recording, recording_id=recording.id, purpose=purpose)
        elif _STATUS_RANK.get(status, 0) < _STATUS_RANK.get(recording.status, 0):
            return recording
    elif _STATUS_RANK.get(status, 0) < _STATUS_RANK.get(recording.status, 0):
        return recording
    recording.status = status
    recording.media_url = call_input.recording_url or recording.media_url
    if call_input.recording_duration is not None:
        recording.duration_seconds = call_input.recording_duration
    if call_input.recording_channels is not None:
        recording.channels = call_input.recording_channels
    return recording


def recording_status_handler(request, call, args, call_input) -> list:
    """Continuation ``calls.recording``: a carrier's recording status callback. A recording
    that starts is limited to an hour (F-REC-1, :func:`ecti.recordings.services.limit_length`)."""
    recording = store_recording(request, call, call_input, purpose=args.get("purpose", "call"))
    if recording is not None and recording.status == "in-progress":
        from ..recordings.services import limit_length

        limit_length(request, recording, carrier_call_id=call_input.carrier_call_id,
                     conference_id=(call_input.raw or {}).get("ConferenceSid"))
    return []


def includeme(config):
    config.add_call_handler("calls.recording", recording_status_handler, after_end=True)
