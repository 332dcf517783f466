"""Queues, their members, agents, waiting calls and the offers made to agents.

The rows here are the ACD's whole state: no process keeps any of it in memory, so any number of
app processes (and the job worker) can route calls on the same database. Time-based state is a
timestamp evaluated when read: an agent whose ``available_at`` has passed is free (wrap-up over,
no-answer pause over), an offer whose ``expires_at`` has passed is a no-answer.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TenantScoped
from ..i18n import _
from ..models.meta import Base, UTCDateTime, utcnow


class Presence(str, enum.Enum):
    """Set by the agent (F-PH-3)."""

    offline = "offline"
    available = "available"  # 待機中
    away = "away"  # 離席中
    after_call_work = "after_call_work"  # 後処理 (manual)
    #: Set by the system when the agent's phone stopped (tab closed, network lost, device
    #: unregistered); the presence before is kept in ``presence_before`` (ecti.acd.phone).
    disconnected = "disconnected"  # 切断中


class AgentState(str, enum.Enum):
    """Set by the system."""

    idle = "idle"
    ringing = "ringing"  # reserved for an offer
    on_call = "on_call"  # 会話中
    wrap_up = "wrap_up"  # 後処理 (automatic, for the queue's wrap-up seconds)


PRESENCE_LABELS = {
    Presence.offline: _("Offline"),
    Presence.available: _("Available"),
    Presence.away: _("Away"),
    Presence.after_call_work: _("After-call work"),
    Presence.disconnected: _("Disconnected"),
}

#: What people see: the system's state while it is busy, else the agent's presence.
STATUS_LABELS = {
    "offline": _("Offline"),
    "available": _("Available"),
    "away": _("Away"),
    "after_call_work": _("After-call work"),
    "disconnected": _("Disconnected"),
    "ringing": _("Ringing"),
    "on_call": _("On a call"),
    "wrap_up": _("Wrap-up"),
}


class Agent(TenantScoped, Base):
    """A user's presence and routing state (one row per user who ever took ACD calls)."""

    __tablename__ = "acd_agents"
    __table_args__ = (
        # The routing query walks free agents in the order they became free (longest idle).
        Index("ix_acd_agents_tenant_available", "tenant_id", "available_at", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    presence: Mapped[Presence] = mapped_column(Enum(Presence, native_enum=False, length=16), default=Presence.offline)
    away_reason: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[AgentState] = mapped_column(Enum(AgentState, native_enum=False, length=16), default=AgentState.idle)
    #: When the agent can be offered a call (null: not routable). Idle: when they became free;
    #: wrap-up or a pause after a missed offer: when that ends (evaluated when read).
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The status shown and logged (see :func:`ecti.acd.agents.status_of`) and since when.
    status: Mapped[str] = mapped_column(String(16), default="offline")
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Missed offers in a row (max no-answers sets the agent away).
    missed_in_row: Mapped[int] = mapped_column(Integer, default=0)
    #: Answered calls and talk time on ``stats_date`` (tenant's day), for the strategies.
    stats_date: Mapped[date | None] = mapped_column(Date)
    calls_today: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds_today: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Presence from the connection (ecti.acd.phone): when the agent's phone last said it is
    #: there (heartbeat, device registered), and which page load that was.
    phone_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_page: Mapped[str | None] = mapped_column(String(40))
    #: While ``presence`` is disconnected: since when, why, and the presence to come back to.
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disconnect_reason: Mapped[str | None] = mapped_column(String(32))
    presence_before: Mapped[str | None] = mapped_column(String(16))

    user = relationship("User")


class AgentStatusChange(TenantScoped, Base):
    """Every change of an agent's status: who, from, to, when, why (per-agent reports).

    Consecutive rows of one agent chain (``from_status`` is the previous ``to_status``), so the
    time in each status adds up to the time between the first and last change.
    """

    __tablename__ = "acd_agent_status_changes"
    __table_args__ = (
        Index("ix_acd_agent_status_changes_user_at", "user_id", "at"),
        # Reports: the changes of a period (ecti.reports).
        Index("ix_acd_agent_status_changes_tenant_at", "tenant_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(100))
    #: Who made the change: the agent, a supervisor, or nobody (the system).
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))


class Queue(TenantScoped, Base):
    """An ACD queue and its options (docs/acd.md).

    A queue is never deleted, only archived (``archived_at``): its past entries keep pointing at
    it for reports and call history, while lists, routing and flows no longer see it, and its
    name can be given to a new queue (the name is unique among the queues not archived).
    """

    __tablename__ = "acd_queues"
    __table_args__ = (
        Index(
            "uq_acd_queues_tenant_name_live", "tenant_id", "name", unique=True,
            sqlite_where=text("archived_at IS NULL"), postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    strategy: Mapped[str] = mapped_column(String(64), default="longest_idle")
    ring_timeout: Mapped[int] = mapped_column(Integer, default=20)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=30)
    #: Seconds a call waits before the next member level is tried too (0: all levels at once).
    escalation_seconds: Mapped[int] = mapped_column(Integer, default=30)
    max_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    #: Where calls go that waited too long, found the queue full or no agent:
    #: ``{"kind": "hangup" | "voicemail" | "queue" | "flow" | "number", "target": "…"}``.
    overflow: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Whether a call may join while no member is logged in, and whether waiting calls leave
    #: (to the overflow) when the last member logs out.
    join_when_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    leave_when_empty: Mapped[bool] = mapped_column(Boolean, default=True)
    max_no_answers: Mapped[int] = mapped_column(Integer, default=3)
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=20)
    #: The wallboard's colours (docs/reports.md): a tile turns amber, then red, when this many
    #: calls wait, when the oldest has waited this many seconds, or when today's service level
    #: (percent) falls below the amber, then the red, figure.
    wallboard_waiting_amber: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    wallboard_waiting_red: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    wallboard_wait_amber: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    wallboard_wait_red: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    wallboard_service_level_amber: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    wallboard_service_level_red: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    #: A prompt reference (``ecti.prompts``) for the music/announcement while waiting or on hold.
    hold_audio: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Seconds between announcements of position and estimated wait (0: never).
    announce_seconds: Mapped[int] = mapped_column(Integer, default=60)
    announce_position: Mapped[bool] = mapped_column(Boolean, default=True)
    announce_wait: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Queued callback (issue 24): callers may press ``callback_key`` to be called back at their
    #: number, keeping their place; a customer who does not answer is called again after
    #: ``callback_retry_seconds``, at most ``callback_attempts`` times in all.
    callback_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    callback_key: Mapped[str] = mapped_column(String(1), default="9", server_default="9")
    callback_retry_seconds: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    callback_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    #: The hours callbacks may be placed in: an IVR schedule (ecti.ivr; null: whenever the
    #: queue has a free agent). No foreign key (added in place on SQLite).
    callback_schedule_id: Mapped[int | None] = mapped_column(Integer)
    #: Round robin: the member position offered last (kept here, shared by every process).
    cursor: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When an admin deleted the queue (null: in use).
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    members: Mapped[list["QueueMember"]] = relationship(
        back_populates="queue", order_by="(QueueMember.level, QueueMember.position)", cascade="all, delete-orphan"
    )


class QueueMember(TenantScoped, Base):
    """An agent in a queue, with a level (lower first) and an order (linear, round robin)."""

    __tablename__ = "acd_queue_members"
    __table_args__ = (UniqueConstraint("queue_id", "user_id", name="uq_acd_queue_members_queue_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("acd_queues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    queue: Mapped[Queue] = relationship(back_populates="members")
    user = relationship("User")


class EntryStatus(str, enum.Enum):
    waiting = "waiting"
    offered = "offered"
    connected = "connected"
    ended = "ended"


class Outcome(str, enum.Enum):
    """How a call left the queue: exactly one per entry."""

    completed = "completed"  # answered, then ended (``ended_by`` says who hung up)
    abandoned = "abandoned"  # the caller hung up while waiting
    timed_out = "timed_out"  # waited the maximum and went to the overflow
    overflowed = "overflowed"  # the queue was full or had no agents: sent to the overflow
    exit_empty = "exit_empty"  # left because no agent was logged in
    transferred = "transferred"  # blind transfer to another queue or an external number
    lost = "lost"  # the carrier says the call ended and nobody told us (reconciler)
    callback_failed = "callback_failed"  # a callback whose every attempt went unanswered


class QueueEntry(TenantScoped, Base):
    """One call's stay in one queue, from entering to its outcome."""

    __tablename__ = "acd_queue_entries"
    __table_args__ = (
        Index("ix_acd_queue_entries_waiting", "queue_id", "status", "entered_at", "id"),
        Index("ix_acd_queue_entries_call", "call_id"),
        # Reports: the entries of a period, by when they entered and when they were answered (ecti.reports).
        Index("ix_acd_queue_entries_tenant_entered", "tenant_id", "entered_at"),
        Index("ix_acd_queue_entries_tenant_connected", "tenant_id", "connected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("acd_queues.id", ondelete="CASCADE"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    status: Mapped[EntryStatus] = mapped_column(Enum(EntryStatus, native_enum=False, length=16), default=EntryStatus.waiting)
    #: The caller's place: a missed offer puts the call back with this time unchanged.
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=16))
    ended_by: Mapped[str | None] = mapped_column(String(16))  # caller, agent, system
    #: The agent talking to the caller (after a warm transfer: the second one).
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_seconds: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_offers: Mapped[int] = mapped_column(Integer, default=0)
    last_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The conference the caller waits and talks in (the carrier's id, once known).
    conference_id: Mapped[str | None] = mapped_column(String(64))
    #: Queued callback (issue 24): the number to call back (E.164; null: not a callback), when
    #: the caller asked, the attempts made, when the next attempt may start (null: now), and
    #: the call of the latest callback leg.
    callback_number: Mapped[str | None] = mapped_column(String(32))
    callback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    callback_call_id: Mapped[int | None] = mapped_column(Integer)

    queue: Mapped[Queue] = relationship()
    call = relationship("Call")


class OfferStatus(str, enum.Enum):
    ringing = "ringing"
    accepted = "accepted"  # the agent is (or is joining) the caller
    ended = "ended"  # the accepted call ended or was handed to another agent
    declined = "declined"
    no_answer = "no_answer"
    canceled = "canceled"  # another agent answered first (ring-all), the caller left, ...
    failed = "failed"  # the carrier could not ring the agent


LIVE_OFFER = (OfferStatus.ringing, OfferStatus.accepted)


class Offer(TenantScoped, Base):
    """A reservation: one call offered to one agent, until ``expires_at``.

    The partial unique indexes are the database's own guarantee of the ACD's two promises: an
    agent has at most one live offer or call, and a call is connected to at most one agent.
    """

    __tablename__ = "acd_offers"
    __table_args__ = (
        Index(
            "uq_acd_offers_agent_live", "user_id", unique=True,
            sqlite_where=text("status IN ('ringing', 'accepted')"),
            postgresql_where=text("status IN ('ringing', 'accepted')"),
        ),
        Index(
            "uq_acd_offers_entry_accepted", "entry_id", unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
        Index("ix_acd_offers_entry", "entry_id"),
        Index("ix_acd_offers_expiry", "status", "expires_at"),
        # Reports: the offers of a period (ecti.reports).
        Index("ix_acd_offers_tenant_offered", "tenant_id", "offered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("acd_queue_entries.id", ondelete="CASCADE"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[OfferStatus] = mapped_column(Enum(OfferStatus, native_enum=False, length=16), default=OfferStatus.ringing)
    #: ``queue`` (routing) or ``transfer`` (a warm transfer from ``from_user_id``).
    kind: Mapped[str] = mapped_column(String(16), default="queue")
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the agent's phone actually joined the caller (the carrier's answer).
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The carrier's id of the call that rings the agent.
    leg_id: Mapped[str | None] = mapped_column(String(64), index=True)

    entry: Mapped[QueueEntry] = relationship()


class MonitorMode(str, enum.Enum):
    """How a supervisor is in a live call (issue 24)."""

    listen = "listen"  # モニタリング: hears both, heard by nobody (a muted participant)
    coach = "coach"  # コーチング: heard only by the agent (Twilio's coaching participant)
    barge = "barge"  # 通話に参加: a full participant


MONITOR_MODE_LABELS = {
    "listen": _("Listen only"),
    "coach": _("Coach the agent"),
    "barge": _("Barge in"),
}


class MonitorSession(TenantScoped, Base):
    """A supervisor's leg in a live queue call: who, which call, which agent, the mode now,
    from when to when. Monitoring legs are not offers: reports and routing never see them."""

    __tablename__ = "acd_monitor_sessions"
    __table_args__ = (
        Index("ix_acd_monitor_sessions_call", "call_id"),
        Index("ix_acd_monitor_sessions_agent_live", "agent_user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    mode: Mapped[MonitorMode] = mapped_column(Enum(MonitorMode, native_enum=False, length=16))
    #: The carrier's id of the supervisor's leg (set when the carrier answered the request).
    leg_id: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
