"""Per-tenant prices, kept with the month they apply from, so past months never change."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class TenantBillingTerms(TenantScoped, Base):
    """A tenant's prices (integer yen) from the calendar month ``effective_from`` on.

    A month is billed with the latest terms whose ``effective_from`` is not after it. The
    operator can set terms for the current month or later, never for a closed month, so an
    invoice of a past month is recomputed with the prices it was computed with.
    """

    __tablename__ = "tenant_billing_terms"
    __table_args__ = (UniqueConstraint("tenant_id", "effective_from", name="uq_tenant_billing_terms_tenant_id_effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The first day of the first month these prices apply to.
    effective_from: Mapped[date] = mapped_column(Date)
    unit_price_yen: Mapped[int] = mapped_column(Integer)
    recording_price_yen_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    storage_price_yen_per_minute: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
