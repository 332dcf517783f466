"""Event webhooks: a company's subscriptions, the events it was sent, and each delivery.

An event (``evt_…``) is written once, in the transaction of the fact it tells (a call ended, a
voicemail was left, an agent's status changed); one :class:`WebhookDelivery` per subscription
that wants it, each sent through the notification outbox (:mod:`ecti.notifications`: retries
with back-off, "retry now"). The body never changes between attempts; the signature's timestamp
is the attempt's.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..db import TenantScoped
from ..i18n import _
from ..models.meta import Base, UTCDateTime, utcnow

ACTIVE, PAUSED = "active", "paused"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"

#: The events a subscription may receive (see docs/api.md).
EVENT_TYPES: dict[str, Any] = {
    "call.started": _("A call started"),
    "call.queued": _("A call entered a queue"),
    "call.answered": _("A call was answered by an agent"),
    "call.ended": _("A call ended (with its summary)"),
    "offer.missed": _("An agent did not answer a call offered to them"),
    "recording.ready": _("A recording is ready"),
    "voicemail.created": _("A voicemail message was left"),
    "agent.status_changed": _("An agent's status changed"),
    "sms.received": _("An SMS was received"),
    "sms.status": _("An SMS's delivery status changed"),
    "dialing_list.row_finished": _("A dialing-list row is done (its final outcome)"),
}


class WebhookSubscription(TenantScoped, Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    #: Event types (``call.ended``…) it receives.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The signing secret (``whsec_…``), encrypted with the application's secret box.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    #: Failed attempts in a row (any delivery); at ``PAUSE_AFTER`` the subscription is paused.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __audit__ = Audited(
        kind="webhook", label=_("Webhook"), title="url",
        labels={"url": _("URL"), "description": _("Description"), "events": _("Events"), "status": _("Status"),
                "paused_at": _("Paused")},
        secrets=("secret_encrypted",),
        exclude=("secret_encrypted", "consecutive_failures"),
        choices={"status": {ACTIVE: _("Active"), PAUSED: _("Paused")}, "events": EVENT_TYPES},
    )


class WebhookEvent(TenantScoped, Base):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``evt_`` and 24 random characters: what receivers deduplicate on.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookDelivery(TenantScoped, Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The receiver's last HTTP status (None: no answer: refused, timed out, address not allowed).
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    subscription: Mapped[WebhookSubscription] = relationship()
    event: Mapped[WebhookEvent] = relationship(lazy="joined")
