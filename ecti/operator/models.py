"""What the operator console keeps besides the tenants themselves."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class WebhookError(TenantScoped, Base):
    """A carrier webhook that could not be handled (bad signature, unknown number, a failure).

    Written through :func:`ecti.operator.services.record_webhook_error`; counted on the
    operator's tenant list as a health sign. ``tenant_id`` is NULL when the webhook could not
    be attributed to a company.
    """

    __tablename__ = "webhook_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    #: A short code chosen by the writer, e.g. ``signature_invalid``, ``unknown_number``.
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
