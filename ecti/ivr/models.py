"""IVR data: flows, business-hours schedules, company closures, voicemail boxes and messages,
and the external destinations a forward node is currently ringing.

A flow is stored as one JSON document (its nodes and their edges) because it is validated and
saved as a whole: a half-saved graph would send callers nowhere. Numbers point at the flow they
answer with (``phone_numbers.flow_id``).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class Flow(TenantScoped, Base):
    """A named call flow: ``nodes`` is a list of ``{"id", "type", "settings", "next"}``."""

    __tablename__ = "ivr_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_ivr_flows_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The id of the node a call starts at.
    start: Mapped[str] = mapped_column(String(40))
    nodes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def node(self, node_id: str) -> dict[str, Any] | None:
        return next((n for n in self.nodes if n.get("id") == node_id), None)

    def document(self) -> dict[str, Any]:
        """The flow as the editor, the API and tenant configuration files show it."""
        return {"name": self.name, "start": self.start, "nodes": self.nodes}


class Schedule(TenantScoped, Base):
    """Business hours: time ranges per weekday, and the holiday calendars honoured.

    ``weekly`` maps ``mon`` … ``sun`` to a list of ``["09:00", "12:00"]`` ranges (an empty list:
    closed all day), in the tenant's time zone.
    """

    __tablename__ = "ivr_schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_ivr_schedules_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    weekly: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    #: Names of holiday calendars (``ecti_holiday_calendars``) whose dates are holidays here.
    calendars: Mapped[list[str]] = mapped_column(JSON, default=list)


class Closure(TenantScoped, Base):
    """A company closure: one date or a range such as 12/29–1/3 (both days included)."""

    __tablename__ = "ivr_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class VoicemailBox(TenantScoped, Base):
    """Where messages are left: by a flow's voicemail node, a queue's overflow, or an agent's
    personal box (``user_id``). Who is told about new messages: ``recipient_user_ids`` (users of
    the company, in their language) and ``recipient_emails`` (addresses outside ECTI)."""

    __tablename__ = "voicemail_boxes"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_voicemail_boxes_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The greeting (a prompt reference, see :mod:`ecti.prompts`); None: the standard greeting.
    greeting: Mapped[dict | None] = mapped_column(JSON)
    max_length: Mapped[int] = mapped_column(Integer, default=120)
    #: The queue whose overflow leaves messages here (informative: the queue names the box).
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("acd_queues.id", ondelete="SET NULL"), index=True)
    #: The agent whose personal box this is; they may listen to its messages.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    recipient_emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Attach the message (WAV) to notification e-mails.
    attach_audio: Mapped[bool] = mapped_column(Boolean, default=False)


class VoicemailMessage(TenantScoped, Base):
    """A message left in a box: what the carrier reported about the recording."""

    __tablename__ = "voicemail_messages"
    __table_args__ = (UniqueConstraint("tenant_id", "recording_id", name="uq_voicemail_messages_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("voicemail_boxes.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    from_number: Mapped[str] = mapped_column(String(64), default="")
    recording_id: Mapped[str] = mapped_column(String(64))
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The stored recording (played through ``/recordings/{id}/media`` like call recordings).
    recording_ref_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"), index=True)
    heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActiveForward(TenantScoped, Base):
    """An external number that a forward node is ringing or connected to, for one call.

    The unique constraint is the lock: a second caller's forward cannot claim the same number
    while this row exists, in any process. The dial result (or the end of the call) deletes the
    row; ``expires_at`` frees a number whose callbacks were lost.
    """

    __tablename__ = "ivr_active_forwards"
    __table_args__ = (UniqueConstraint("tenant_id", "destination", name="uq_ivr_active_forwards_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(String(20))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def flow_by_name(session, name: str) -> Flow | None:
    return session.scalar(select(Flow).where(Flow.name == name))
