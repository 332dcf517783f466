"""One row per call, and the append-only events that tell its story.

Like Asterisk's queue_log, every step of a call is a :class:`CallEvent`; the :class:`Call` row
is a summary kept up to date in the same transaction, so reports and the call log never have to
replay events to answer "what happened".
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
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
    callback_requested = "callback_requested"  # the caller asked to be called back (issue 24)
    callback_dialed = "callback_dialed"  # an agent accepted the callback: the customer is called
    callback_no_answer = "callback_no_answer"  # the customer did not answer; data["retry_at"] or data["gave_up"]
    callback_reached = "callback_reached"  # the customer answered and is connected to the agent
    dial_ended = "dial_ended"  # an outgoing call's dial ended: data["status"] (answered, busy …), data["duration"]
    completed = "completed"


class CallOutcome(str, enum.Enum):
    """How a call ended, one word per call (docs/calls.md). ``None`` while the call is live.

    Later, stronger facts win: a caller who timed out of one queue and was answered in the
    overflow queue is ``answered``; see :data:`OUTCOME_RANK`.
    """

    answered = "answered"  # inbound: an agent took it; outbound: the called party answered
    voicemail = "voicemail"  # the caller left a voicemail message
    forwarded = "forwarded"  # the IVR forwarded it to an outside number
    abandoned = "abandoned"  # the caller hung up while waiting in a queue
    timed_out = "timed_out"  # waited the queue's maximum, then the overflow (without answer)
    overflowed = "overflowed"  # the queue was full or had nobody signed in: sent to the overflow
    refused = "refused"  # ECTI refused it (unknown number, suspended, dialling rules, caller ID)
    ivr = "ivr"  # inbound, ended in the IVR (announcement, menu) without reaching a queue
    busy = "busy"  # outbound: the called party was busy
    no_answer = "no_answer"  # outbound: nobody answered
    failed = "failed"  # the carrier could not connect the call
    canceled = "canceled"  # hung up before anybody answered (carrier's "canceled")


#: Which outcome replaces which: a fact of a higher or equal rank replaces the one before
#: (so a later queue's abandonment replaces an earlier queue's time-out); the carrier's final
#: status (rank 0) only decides when nothing of a higher rank happened.
OUTCOME_RANK = {
    CallOutcome.answered: 4,
    CallOutcome.voicemail: 3,
    CallOutcome.forwarded: 2,
    CallOutcome.abandoned: 1,
    CallOutcome.timed_out: 1,
    CallOutcome.overflowed: 1,
    CallOutcome.refused: 1,
    CallOutcome.ivr: 0,
    CallOutcome.busy: 0,
    CallOutcome.no_answer: 0,
    CallOutcome.failed: 0,
    CallOutcome.canceled: 0,
}


class Call(TenantScoped, Base):
    """A call and its summary (the columns after ``user_id``), kept by :mod:`ecti.calls.summary`
    from the call's events in the same transaction as the events."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("tenant_id", "carrier_call_id", name="uq_calls_tenant_id"),
        # The conversation list: newest first, keyset paging on (started_at, id), per filter.
        Index("ix_calls_list", "tenant_id", "started_at", "id"),
        Index("ix_calls_list_direction", "tenant_id", "direction", "started_at", "id"),
        Index("ix_calls_list_queue", "tenant_id", "queue_id", "started_at", "id"),
        Index("ix_calls_list_outcome", "tenant_id", "outcome", "started_at", "id"),
        Index("ix_calls_list_queue_outcome", "tenant_id", "queue_id", "outcome", "started_at", "id"),
        Index("ix_calls_list_disposition", "tenant_id", "disposition", "started_at", "id"),
        # Partial number search (PostgreSQL: trigram indexes; elsewhere plain ones).
        Index("ix_calls_from_number_trgm", "from_number", postgresql_using="gin", postgresql_ops={"from_number": "gin_trgm_ops"}),
        Index("ix_calls_to_number_trgm", "to_number", postgresql_using="gin", postgresql_ops={"to_number": "gin_trgm_ops"}),
    )

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
    #: A callback leg (issue 24): the call whose caller asked to be called back (one contact).
    #: No foreign key (added in place on SQLite, migration 0025).
    parent_call_id: Mapped[int | None] = mapped_column(Integer, index=True)

    # --- the summary (ecti.calls.summary) ---
    #: The company's number of the call: the number called (inbound) or the caller ID shown (outbound).
    tenant_number: Mapped[str | None] = mapped_column(String(64))
    #: The queue the call was in last, and the agent who talked last (outbound: who dialled).
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("acd_queues.id", ondelete="SET NULL"))
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first entered a queue
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first agent answered
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    hold_seconds: Mapped[int | None] = mapped_column(Integer)
    wrap_up_seconds: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[CallOutcome | None] = mapped_column(Enum(CallOutcome, native_enum=False, length=16))
    #: The IVR nodes the call went through: [{"flow": id, "node": id, "type": …, "branch": …}].
    flow_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Records a CRM connector made for the call: {"connector name": "record id"}.
    crm_record_ids: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    has_recording: Mapped[bool] = mapped_column(Boolean, default=False)
    has_voicemail: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The wrap-up (ecti.dispositions): the code and label chosen, the agent's note, who and when.
    disposition: Mapped[str | None] = mapped_column(String(40))
    disposition_label: Mapped[str | None] = mapped_column(String(100))
    wrap_up_note: Mapped[str | None] = mapped_column(Text)
    #: The user who saved the wrap-up (an id, not a foreign key: adding one to ``calls`` on SQLite
    #: would copy the table, and dropping the old one cascades to every call's events; users are
    #: deactivated, not deleted).
    wrapped_up_by: Mapped[int | None] = mapped_column(Integer)
    wrapped_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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


class CallAgent(TenantScoped, Base):
    """An agent's part in a call: offered it, answered it, transferred it away, or dialled it.

    The agent's log and "my calls" in the conversation list read these rows; ``call_started_at``
    repeats the call's start so that an agent's calls page by the same keyset as the list.
    """

    __tablename__ = "call_agents"
    __table_args__ = (
        UniqueConstraint("call_id", "user_id", name="uq_call_agents_call_user"),
        Index("ix_call_agents_user", "tenant_id", "user_id", "call_started_at", "call_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    call_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    placed: Mapped[bool] = mapped_column(Boolean, default=False)


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
