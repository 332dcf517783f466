"""One row per SMS, sent or received."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..calls.models import Direction
from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class MessageStatus(str, enum.Enum):
    """Twilio's message statuses; delivery to Japanese carriers may never be reported."""

    accepted = "accepted"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    receiving = "receiving"
    received = "received"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    MessageStatus.accepted: 0,
    MessageStatus.queued: 1,
    MessageStatus.sending: 2,
    MessageStatus.receiving: 2,
    MessageStatus.sent: 3,
    MessageStatus.received: 4,
    MessageStatus.delivered: 4,
    MessageStatus.undelivered: 4,
    MessageStatus.failed: 4,
}


class Message(TenantScoped, Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("tenant_id", "carrier_message_id", name="uq_messages_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_message_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=16))
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[MessageStatus] = mapped_column(Enum(MessageStatus, native_enum=False, length=16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
