"""One row per company and plugin settings name: the values the admins set (secrets encrypted)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class PluginSettingsRow(TenantScoped, Base):
    __tablename__ = "plugin_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_plugin_settings_tenant_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The ``PluginSettings.name`` the plugin declared.
    name: Mapped[str] = mapped_column(String(64))
    #: Only what was set (the schema's defaults fill in the rest when read); secrets encrypted.
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
