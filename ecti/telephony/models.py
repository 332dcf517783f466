"""The tenant's phone numbers (F-NUM-1)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class PhoneNumber(TenantScoped, Base):
    """A number the tenant owns at its carrier, stored in E.164 (``+815012345678``)."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("e164", name="uq_phone_numbers_e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100), default="")
    carrier_sid: Mapped[str | None] = mapped_column(String(64))
    voice_capable: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_capable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Whether ECTI configures this number's webhooks at the carrier.
    managed: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The IVR flow that answers calls to this number (none: callers hear "not set up yet").
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("ivr_flows.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
