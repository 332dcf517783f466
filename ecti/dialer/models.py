"""Dialing lists (自動連続発信): the list, its rows, every attempt, the do-not-call list.

The database guarantees the dialer's promise — a row is dialed by exactly one agent once per
attempt — whatever the number of app processes:

* ``uq_dialer_attempts_row_attempt``: an attempt number of a row exists once;
* ``uq_dialer_attempts_row_open``: a row has at most one open attempt (reserved or dialing);
* ``uq_dialer_attempts_agent_open``: an agent has at most one open attempt.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TenantScoped
from ..i18n import _
from ..models.meta import Base, UTCDateTime, utcnow


class ListStatus(str, enum.Enum):
    draft = "draft"
    running = "running"
    paused = "paused"
    stopped = "stopped"
    finished = "finished"


LIST_STATUS_LABELS = {
    ListStatus.draft: _("Draft"),
    ListStatus.running: _("Running"),
    ListStatus.paused: _("Paused"),
    ListStatus.stopped: _("Stopped"),
    ListStatus.finished: _("Finished"),
}


class RowStatus(str, enum.Enum):
    pending = "pending"  # due at ``next_attempt_at``
    reserved = "reserved"  # an attempt is open (reserved for an agent, or dialing)
    done = "done"  # a final outcome, or the retries are used up


class Outcome(str, enum.Enum):
    """What the agent records after a call (and ``skipped``, ``released`` for undialed rows)."""

    connected = "connected"
    no_answer = "no_answer"
    busy = "busy"
    failed = "failed"
    answering_machine = "answering_machine"
    wrong_number = "wrong_number"
    callback = "callback"
    do_not_call = "do_not_call"


OUTCOME_LABELS = {
    Outcome.connected: _("Connected"),
    Outcome.no_answer: _("No answer"),
    Outcome.busy: _("Busy"),
    Outcome.failed: _("Not connected (failed)"),
    Outcome.answering_machine: _("Answering machine"),
    Outcome.wrong_number: _("Wrong number"),
    Outcome.callback: _("Callback requested"),
    Outcome.do_not_call: _("Do not call again"),
}

#: Outcomes retried under a retry policy (an answering machine counts as no answer).
RETRY_POLICY_OF = {
    Outcome.no_answer: "no_answer",
    Outcome.answering_machine: "no_answer",
    Outcome.busy: "busy",
    Outcome.failed: "failed",
}


class AttemptStatus(str, enum.Enum):
    reserved = "reserved"  # the row is shown to the agent, not dialed yet
    dialing = "dialing"  # the agent's phone placed the call; the result is not recorded yet
    done = "done"  # result recorded
    skipped = "skipped"  # the agent skipped the row without dialing
    released = "released"  # given back undialed (the list paused or stopped, the agent left)


OPEN_ATTEMPT = (AttemptStatus.reserved, AttemptStatus.dialing)
_OPEN_SQL = text("status IN ('reserved', 'dialing')")


class DialingList(TenantScoped, Base):
    __tablename__ = "dialer_lists"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_dialer_lists_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: One of the tenant's voice numbers (E.164), shown to the people called.
    caller_id: Mapped[str] = mapped_column(String(32))
    #: Calling hours: an IVR schedule (its weekly hours, holiday calendars and the company's
    #: closures), or, without one, ``weekly`` + ``calendars`` of the list itself.
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_schedules.id", ondelete="SET NULL"))
    weekly: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON, default=dict)
    calendars: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``{"no_answer": {"count": 2, "delay_minutes": 30}, "busy": …, "failed": …}``: retries
    #: after the first attempt.
    retry: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)
    status: Mapped[ListStatus] = mapped_column(Enum(ListStatus, native_enum=False, length=16), default=ListStatus.draft)
    #: Seconds the agent sees the row before the phone dials by itself (0: the agent clicks).
    preview_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: The CSV's column names in their order (number, name and the extra columns).
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agents: Mapped[list["DialingListAgent"]] = relationship(back_populates="list", cascade="all, delete-orphan")


class DialingListAgent(TenantScoped, Base):
    """An agent assigned to a list; ``joined_at`` is set while they work it in the softphone."""

    __tablename__ = "dialer_list_agents"
    __table_args__ = (UniqueConstraint("list_id", "user_id", name="uq_dialer_list_agents_list_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("dialer_lists.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    list: Mapped[DialingList] = relationship(back_populates="agents")
    user = relationship("User")


class DialingRow(TenantScoped, Base):
    __tablename__ = "dialer_rows"
    __table_args__ = (
        UniqueConstraint("list_id", "number", name="uq_dialer_rows_list_number"),
        Index("ix_dialer_rows_due", "list_id", "status", "next_attempt_at", "row_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("dialer_lists.id", ondelete="CASCADE"))
    #: The line of the CSV (the header is line 1).
    row_number: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    #: ``[[column, value], …]`` of the other columns, in the CSV's order.
    extra: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    status: Mapped[RowStatus] = mapped_column(Enum(RowStatus, native_enum=False, length=16), default=RowStatus.pending)
    #: Calls placed (what the retry policy counts).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The last attempt number used (reservations, also skipped ones).
    last_attempt_no: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=24))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    list: Mapped[DialingList] = relationship()


class DialingAttempt(TenantScoped, Base):
    __tablename__ = "dialer_attempts"
    __table_args__ = (
        UniqueConstraint("row_id", "attempt_no", name="uq_dialer_attempts_row_attempt"),
        Index("uq_dialer_attempts_row_open", "row_id", unique=True, sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL),
        Index("uq_dialer_attempts_agent_open", "user_id", unique=True, sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL),
        Index("ix_dialer_attempts_list_user", "list_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("dialer_lists.id", ondelete="CASCADE"))
    row_id: Mapped[int] = mapped_column(ForeignKey("dialer_rows.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[AttemptStatus] = mapped_column(Enum(AttemptStatus, native_enum=False, length=16), default=AttemptStatus.reserved)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=24))
    note: Mapped[str | None] = mapped_column(Text)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dialed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    row: Mapped[DialingRow] = relationship()
    user = relationship("User")


class DialingImport(TenantScoped, Base):
    """An uploaded CSV, checked and waiting for the admin's confirmation (the preview)."""

    __tablename__ = "dialer_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("dialer_lists.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    encoding: Mapped[str] = mapped_column(String(16))
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: ``[{"row": 2, "number": "+81…", "name": "…", "extra": [[col, value], …]}, …]``
    good: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: ``[{"row": 3, "value": "…", "code": "…", "reason": "…"}, …]`` (reason in English; the
    #: page translates the code).
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DoNotCall(TenantScoped, Base):
    """The tenant's do-not-call list (checked at import and again before every call)."""

    __tablename__ = "dialer_do_not_call"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_dialer_do_not_call_tenant_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
