"""Recording policy, access, playback ranges, deletion at the carrier and retention.

Who may hear a recording (F-REC-2), decided here for every endpoint:

* signed-in users of the recording's company with the ``recordings`` permission (admins,
  supervisors) hear every recording of that company;
* a voicemail message may also be heard by the agent whose personal box it is in and by the
  users named as the box's recipients;
* agents hear no call recordings at all (not even of their own calls); other companies' users
  and anonymous requests get nothing (404 / the sign-in page, never the bytes).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..calls.models import QueueRecordingOverride, Recording, RecordingSettings
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..voice.instructions import Continuation

log = logging.getLogger(__name__)

#: F-REC-1: one recording lasts at most an hour.
MAX_RECORDING_SECONDS = 3600
FORMATS = ("wav", "mp3")


# --- policy --------------------------------------------------------------------------------------

def settings_of(session) -> RecordingSettings:
    """The company's recording settings (defaults, unsaved, when it has none yet)."""
    found = session.scalar(select(RecordingSettings))
    return found or RecordingSettings(record_queue_calls=False, record_outbound=False, retention_days=None)


def records_queue(session, queue_id: int) -> bool:
    override = session.scalar(select(QueueRecordingOverride.record).where(QueueRecordingOverride.queue_id == queue_id))
    return settings_of(session).record_queue_calls if override is None else override


def records_outbound(session) -> bool:
    return settings_of(session).record_outbound


def recording_status(call) -> Continuation:
    """Where the carrier reports a recording of ``call`` (``calls.recording``)."""
    return Continuation("calls.recording", {"call": str(call.id)})


def save_settings(session, *, record_queue_calls: bool, record_outbound: bool, retention_days: int | None,
                  queue_overrides: dict[int, bool | None]) -> RecordingSettings:
    if retention_days is not None and not 1 <= retention_days <= 3650:
        raise UserError(
            "retention_days_invalid", _("Keep recordings between 1 and 3,650 days, or forever."), field="retention_days", status=422
        )
    settings = session.scalar(select(RecordingSettings))
    if settings is None:
        settings = RecordingSettings()
        session.add(settings)
    settings.record_queue_calls = record_queue_calls
    settings.record_outbound = record_outbound
    settings.retention_days = retention_days
    current = {o.queue_id: o for o in session.scalars(select(QueueRecordingOverride))}
    for queue_id, record in queue_overrides.items():
        row = current.get(queue_id)
        if record is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(QueueRecordingOverride(queue_id=queue_id, record=record))
        else:
            row.record = record
    session.flush()
    return settings


# --- access --------------------------------------------------------------------------------------

def voicemail_listeners(session, recording: Recording) -> set[int]:
    """Users who may hear a voicemail recording besides those with ``recordings``."""
    from ..ivr.models import VoicemailBox, VoicemailMessage

    box = session.scalar(
        select(VoicemailBox).join(VoicemailMessage, VoicemailMessage.box_id == VoicemailBox.id)
        .where(VoicemailMessage.recording_ref_id == recording.id)
    )
    if box is None:
        return set()
    return {*(box.recipient_user_ids or []), *([box.user_id] if box.user_id else [])}


def may_listen(request, recording: Recording) -> bool:
    user = request.identity
    if user is None or user.tenant_id != recording.tenant_id:
        return False
    if request.has_permission("recordings"):
        return True
    return recording.purpose == "voicemail" and user.id in voicemail_listeners(request.db, recording)


def may_delete(request, recording: Recording) -> bool:
    """Admins delete any recording; whoever may hear a voicemail message may delete it."""
    if not may_listen(request, recording):
        return False
    return request.has_permission("manage") or recording.purpose == "voicemail"


# --- ranges ----------------------------------------------------------------------------------------

class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, total: int) -> ByteRange | None:
    """One ``Range: bytes=…`` against a body of ``total`` bytes (RFC 9110 §14).

    None: no range asked (or a form we ignore, as a server may: several ranges). Raises
    :class:`RangeNotSatisfiable` for a range that cannot be served (416).
    """
    if not header:
        return None
    header = header.strip()
    if "," in header:
        return None  # multiple ranges: answer with the whole body (allowed by the RFC)
    match = _RANGE.match(header)
    if match is None:
        raise RangeNotSatisfiable(header)
    first, last = match.groups()
    if first == "" and last == "":
        raise RangeNotSatisfiable(header)
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or total == 0:
            raise RangeNotSatisfiable(header)
        return ByteRange(max(0, total - n), total - 1)
    start = int(first)
    end = int(last) if last else total - 1
    if start >= total or end < start:
        raise RangeNotSatisfiable(header)
    return ByteRange(start, min(end, total - 1))


def slice_chunks(chunks, start: int, end: int):
    """Bytes ``start``..``end`` (inclusive) of a stream of chunks, read no further than needed."""
    position = 0
    for chunk in chunks:
        chunk_end = position + len(chunk)
        if chunk_end > start:
            yield chunk[max(0, start - position): end + 1 - position]
        position = chunk_end
        if position > end:
            return


# --- carrier ---------------------------------------------------------------------------------------

def carrier_of(registry, tenant):
    carrier = registry.ecti.carriers.get(tenant.carrier)
    if carrier is None or not hasattr(carrier, "fetch_recording"):
        raise UserError("carrier_has_no_recordings", _("The company's carrier does not keep recordings."), status=409)
    return carrier


def delete_at_carrier(registry, session, tenant, recording: Recording, *, now: datetime | None = None) -> None:
    """Delete ``recording`` at the carrier, then mark it deleted (and its voicemail message).

    When the carrier refuses or cannot be reached the recording stays as it was and
    :class:`UserError` ``carrier_delete_failed`` says so.
    """
    from ..ivr.models import VoicemailMessage

    carrier = carrier_of(registry, tenant)
    try:
        carrier.delete_recording(registry=registry, tenant=tenant, carrier_recording_id=recording.carrier_recording_id)
    except Exception as exc:
        log.warning("could not delete recording %s at the carrier: %s", recording.carrier_recording_id, exc)
        raise UserError(
            "carrier_delete_failed",
            _("The carrier could not delete the recording, so it has been kept. Please try again later. (${error})",
              mapping={"error": str(exc)[:200]}),
            status=502,
        ) from None
    now = now or utcnow()
    recording.status = "deleted"
    recording.deleted_at = now
    for message in session.scalars(select(VoicemailMessage).where(VoicemailMessage.recording_ref_id == recording.id)):
        message.deleted_at = message.deleted_at or now


LIMIT_JOB = "recordings.limit"


def limit_length(request, recording: Recording, *, carrier_call_id: str | None, conference_id: str | None) -> None:
    """Queue the job that stops ``recording`` at the carrier when it reaches an hour.

    ``<Record>`` takes a ``maxLength``; ``<Dial record>`` and ``<Conference record>`` take no
    length, so ECTI stops those itself (the carrier's ``stop_recording``)."""
    from .. import jobs

    started = recording.created_at or utcnow()
    registry, args = request.registry, (recording.tenant_id, recording.id, carrier_call_id or "", conference_id or "")
    request.tm.get().addAfterCommitHook(
        lambda committed: committed and jobs.enqueue(registry, LIMIT_JOB, *args, eta=started + timedelta(seconds=MAX_RECORDING_SECONDS))
    )


def stop_if_recording(registry, tenant_id: int, recording_id: int, carrier_call_id: str = "", conference_id: str = "") -> bool:
    """The ``recordings.limit`` job: stop the recording at the carrier if it still runs."""
    from .. import jobs
    from ..tenancy.models import Tenant

    with jobs.in_transaction(registry, tenant_id) as request:
        recording = request.db.get(Recording, recording_id)
        if recording is None or recording.status != "in-progress":
            return False
        tenant = request.db.get(Tenant, tenant_id)
        carrier = carrier_of(registry, tenant)
        carrier_recording_id = recording.carrier_recording_id
    if not hasattr(carrier, "stop_recording"):
        return False
    try:
        carrier.stop_recording(registry=registry, tenant=tenant, carrier_recording_id=carrier_recording_id,
                               carrier_call_id=carrier_call_id or None, conference_id=conference_id or None)
    except Exception:
        log.exception("could not stop recording %s at an hour", carrier_recording_id)
        return False
    return True


def apply_retention(registry, now: datetime | None = None) -> list[str]:
    """Delete, at the carrier, the recordings older than each company's retention period.

    Each recording is deleted in its own transaction: one the carrier refuses stays and is
    tried again on the next run. Returns the carrier ids deleted.
    """
    from .. import jobs
    from ..db import all_tenants
    from ..tenancy.models import Tenant

    now = now or utcnow()
    with jobs.in_transaction(registry, None) as request:
        with all_tenants(request.db):
            policies = [(s.tenant_id, s.retention_days) for s in request.db.scalars(
                select(RecordingSettings).where(RecordingSettings.retention_days.is_not(None)))]
    deleted = []
    for tenant_id, days in policies:
        cutoff = now - timedelta(days=days)
        with jobs.in_transaction(registry, tenant_id) as request:
            due = request.db.scalars(select(Recording.id).where(
                Recording.deleted_at.is_(None), Recording.status.in_(("completed", "absent", "failed")), Recording.created_at < cutoff,
            ).order_by(Recording.id)).all()
        for recording_id in due:
            try:
                with jobs.in_transaction(registry, tenant_id) as request:
                    recording = request.db.get(Recording, recording_id)
                    tenant = request.db.get(Tenant, tenant_id)
                    delete_at_carrier(registry, request.db, tenant, recording, now=now)
                    deleted.append(recording.carrier_recording_id)
            except UserError:
                continue  # logged; kept for the next run
    return deleted
