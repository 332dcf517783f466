"""One row per SMS, sent or received; who is told about incoming ones."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..calls.models import Direction
from ..db import TenantScoped
from ..i18n import _
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

    @property
    def label(self):
        return STATUS_LABELS[self]


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

STATUS_LABELS = {
    MessageStatus.accepted: _("Accepted"),
    MessageStatus.queued: _("Queued"),
    MessageStatus.sending: _("Sending"),
    MessageStatus.sent: _("Sent (delivery not reported)"),
    MessageStatus.receiving: _("Receiving"),
    MessageStatus.received: _("Received SMS"),
    MessageStatus.delivered: _("Delivered"),
    MessageStatus.undelivered: _("Not delivered"),
    MessageStatus.failed: _("Failed"),
}


class Message(TenantScoped, Base):
    """An SMS. Outgoing ones are stored (``queued``, no carrier id yet) before the carrier is
    asked, so a refusal or a crash never loses what an agent wrote."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "carrier_message_id", name="uq_messages_tenant_id"),
        Index("ix_messages_conversation", "tenant_id", "remote_number", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The carrier's id (Twilio ``SM…``); None until the carrier has accepted the message.
    carrier_message_id: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=16))
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    #: The other party: ``to_number`` of a sent message, ``from_number`` of a received one.
    remote_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[MessageStatus] = mapped_column(Enum(MessageStatus, native_enum=False, length=16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    #: The carrier's own words for an error (shown when ECTI has no message for the code).
    error_message: Mapped[str | None] = mapped_column(Text)
    #: Who sent it (None for received messages and deleted users).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def local_number(self) -> str:
        """The company's own number in this message."""
        return self.from_number if self.direction is Direction.outbound else self.to_number


class SmsNotificationRecipient(TenantScoped, Base):
    """A user told about every SMS the company receives (through the notification channels)."""

    __tablename__ = "sms_notification_recipients"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", name="uq_sms_notification_recipients_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
