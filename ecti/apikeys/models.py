"""API keys: a company's (or the operator's) credentials for server-to-server use of the API.

Only the SHA-256 of a key is stored; its first characters (``prefix``) name it in lists. The
token bucket of its rate limit (``tokens`` at ``bucket_at``) and ``last_used_at`` are written on
each use in a short transaction of their own (:func:`ecti.apikeys.services.consume`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.tracking import Audited
from ..i18n import _
from ..models.meta import Base, UTCDateTime, utcnow
from ..tenancy.models import User
from .scopes import ALL_SCOPES


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for the operator's keys (the operator API).
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: ``ecti_live_`` and the first 8 characters of the secret: how the key is recognised.
    prefix: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The user the key acts as (its creator): the key never does more than their role allows,
    #: and stops working when they are deactivated.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tokens: Mapped[float | None] = mapped_column(Float)
    bucket_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    __audit__ = Audited(
        kind="api_key", label=_("API key"),
        labels={"name": _("Name"), "prefix": _("Key begins with"), "scopes": _("Scopes"), "user_id": _("Acts as"),
                "expires_at": _("Expires"), "revoked_at": _("Revoked")},
        refs={"user_id": (User, "email")},
        choices={"scopes": ALL_SCOPES},
        secrets=("secret_hash",),
        exclude=("secret_hash", "last_used_at", "tokens", "bucket_at"),
    )

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "scopes": list(self.scopes or [])}
