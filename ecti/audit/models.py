"""One row per administrative action."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class AuditEntry(TenantScoped, Base):
    """An administrative action: actor, action code, target, details.

    ``tenant_id`` is the company the action concerns, so that company's administrators see it
    in their log (including what an operator did to their company, e.g. a suspension). It is
    NULL only for operator actions that concern no single company. Entries are never changed
    or deleted by ECTI.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The actor's e-mail at the time, so the entry still says who it was if the user changes.
    actor_email: Mapped[str | None] = mapped_column(String(254))
    #: A stable code such as ``tenant.suspend`` or ``user.create`` (see ``ACTIONS``).
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
