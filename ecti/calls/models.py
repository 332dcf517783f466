"""One row per call, and the append-only events that tell its story.

Like Asterisk's queue_log, every step of a call is a :class:`CallEvent`; the :class:`Call` row
is a summary kept up to date in the same transaction, so reports and the call log never have to
replay events to answer "what happened".
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class Direction(str, enum.Enum):
    inbound = "inbound"
    outbound = "outbound"


class CallStatus(str, enum.Enum):
    """The carrier's view of the call, in the order a call moves through it."""

    queued = "queued"
    ringing = "ringing"
    in_progress = "in-progress"
    completed = "completed"
    busy = "busy"
    failed = "failed"
    no_answer = "no-answer"
    canceled = "canceled"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def is_final(self) -> bool:
        return self.rank == 3


_STATUS_RANK = {
    CallStatus.queued: 0,
    CallStatus.ringing: 1,
    CallStatus.in_progress: 2,
    CallStatus.completed: 3,
    CallStatus.busy: 3,
    CallStatus.failed: 3,
    CallStatus.no_answer: 3,
    CallStatus.canceled: 3,
}


class EventKind(str, enum.Enum):
    started = "started"
    status = "status"
    flow_step = "flow_step"
    refused = "refused"
    entered_queue = "entered_queue"
    offered = "offered"
    no_answer = "no_answer"
    connected = "connected"
    held = "held"
    resumed = "resumed"
    transferred = "transferred"
    abandoned = "abandoned"
    timed_out = "timed_out"
    overflowed = "overflowed"
    exit_empty = "exit_empty"
    offer_canceled = "offer_canceled"
    queue_completed = "queue_completed"  # an answered queue call ended; data["by"]: caller or agent
    reconciled = "reconciled"  # a lost carrier callback was repaired
    voicemail = "voicemail"
    recording = "recording"
    completed = "completed"


class Call(TenantScoped, Base):
    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("tenant_id", "carrier_call_id", name="uq_calls_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_call_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=16))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[CallStatus] = mapped_column(Enum(CallStatus, native_enum=False, length=16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    events: Mapped[list["CallEvent"]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )


class CallEvent(TenantScoped, Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(Enum(EventKind, native_enum=False, length=32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    call: Mapped[Call] = relationship(back_populates="events")


def find_call(session, carrier_call_id: str) -> Call | None:
    return session.scalar(select(Call).where(Call.carrier_call_id == carrier_call_id))


class Recording(TenantScoped, Base):
    """A recording of (part of) a call, kept at the carrier and played only through ECTI (F-REC-2)."""

    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("tenant_id", "carrier_recording_id", name="uq_recordings_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    carrier_recording_id: Mapped[str] = mapped_column(String(64))
    #: Where the carrier serves the media (fetched with the tenant's credentials, never shown).
    media_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    #: What was recorded: "call" (a conversation) or "voicemail".
    purpose: Mapped[str] = mapped_column(String(16), default="call")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was deleted at the carrier (by hand or by the retention job); the row stays.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship()

    @property
    def playable(self) -> bool:
        return self.status == "completed" and self.deleted_at is None


class RecordingSettings(TenantScoped, Base):
    """A company's recording policy (F-REC-1): which calls are recorded, how long they are kept.

    One row per tenant (none: nothing is recorded, kept forever). Queues may override
    ``record_queue_calls`` (:class:`QueueRecordingOverride`); ``record_outbound`` is the setting
    for calls agents place from the softphone.
    """

    __tablename__ = "recording_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_recording_settings_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_queue_calls: Mapped[bool] = mapped_column(Boolean, default=False)
    record_outbound: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Days a recording is kept before the retention job deletes it; None keeps it forever.
    retention_days: Mapped[int | None] = mapped_column(Integer)


class QueueRecordingOverride(TenantScoped, Base):
    """A queue that records (or does not) whatever the company setting says."""

    __tablename__ = "queue_recording_overrides"
    __table_args__ = (UniqueConstraint("tenant_id", "queue_id", name="uq_queue_recording_overrides_queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("acd_queues.id", ondelete="CASCADE"), index=True)
    record: Mapped[bool] = mapped_column(Boolean)
