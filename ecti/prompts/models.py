"""The prompt library: what callers hear, per tenant (F-IVR-6, F-IVR-8)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..i18n import _
from ..interfaces import VoiceSettings
from ..models.meta import Base, UTCDateTime, utcnow


class PromptKind(str, enum.Enum):
    tts = "tts"
    audio = "audio"

    @property
    def label(self):
        return _("Synthetic voice") if self is PromptKind.tts else _("Uploaded audio")


class Prompt(TenantScoped, Base):
    """A prompt of the tenant's library: text spoken by a TTS provider, or an uploaded file.

    Other subsystems refer to it as ``{"prompt_id": id}`` (see :mod:`ecti.prompts`).
    """

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_prompts_tenant_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Shown to people; any language. Unique within the tenant.
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[PromptKind] = mapped_column(Enum(PromptKind, native_enum=False, length=8))

    # Synthetic voice (kind tts)
    text: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(64))
    voice: Mapped[str] = mapped_column(String(64), default="")
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    pitch: Mapped[float] = mapped_column(Float, default=0.0)
    intonation: Mapped[float] = mapped_column(Float, default=1.0)
    volume: Mapped[float] = mapped_column(Float, default=0.0)
    emotion: Mapped[str] = mapped_column(String(16), default="normal")

    # Uploaded audio (kind audio)
    #: The name the file had on the uploader's computer (may be Japanese).
    original_filename: Mapped[str | None] = mapped_column(String(255))
    #: Where the file is stored: ASCII and unique (``t12/audio/prompt-<hex>.wav``).
    storage_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(32))
    codec: Mapped[str | None] = mapped_column(String(16))
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def settings(self) -> VoiceSettings:
        return VoiceSettings(
            voice=self.voice or "", speed=self.speed, pitch=self.pitch, intonation=self.intonation,
            volume=self.volume, emotion=self.emotion,
        )

    def set_settings(self, settings: VoiceSettings) -> None:
        self.voice = settings.voice
        self.speed = settings.speed
        self.pitch = settings.pitch
        self.intonation = settings.intonation
        self.volume = settings.volume
        self.emotion = settings.emotion
