"""Recording what the carrier reports about messages; repeats and late reports change nothing."""
from __future__ import annotations

from sqlalchemy import select

from ..calls.models import Direction
from ..models.meta import utcnow
from .models import Message, MessageStatus


def find_message(session, carrier_message_id: str) -> Message | None:
    return session.scalar(select(Message).where(Message.carrier_message_id == carrier_message_id))


def record_inbound(session, tenant, *, carrier_message_id: str, from_number: str, to_number: str, body: str, segments: int = 1) -> Message:
    """Store a received SMS once, however often the carrier delivers the webhook."""
    message = find_message(session, carrier_message_id)
    if message is None:
        message = Message(
            tenant_id=tenant.id,
            carrier_message_id=carrier_message_id,
            direction=Direction.inbound,
            from_number=from_number,
            to_number=to_number,
            body=body,
            segments=segments,
            status=MessageStatus.received,
        )
        session.add(message)
        session.flush()
    return message


def apply_message_status(session, carrier_message_id: str, status: str, *, error_code: str | None = None) -> bool:
    """Move a sent message forward to ``status``; False when unknown, repeated or late."""
    message = find_message(session, carrier_message_id)
    try:
        new = MessageStatus(status)
    except ValueError:
        return False
    if message is None or new.rank <= message.status.rank:
        return False
    message.status = new
    message.error_code = error_code or message.error_code
    message.updated_at = utcnow()
    return True
