"""The notification outbox: one row per (channel, recipient) of each notification.

A row is written in the transaction that produced the news (a voicemail is saved and its
deliveries are queued together), and sent after commit by a job; a failed send stays visible
with its error and is retried later (:mod:`ecti.notifications.services`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class NotificationDelivery(TenantScoped, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What happened ("voicemail.received"); ``subject_id`` is the row it is about.
    kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    #: The recipient's language ("ja", "en").
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When the next try is due; None once sent or given up.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
