"""What ECTI keeps about a tenant's Twilio account besides its credentials."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecti.audit import Audited
from ecti.db import TenantScoped
from ecti.i18n import _
from ecti.models.meta import Base, UTCDateTime, utcnow


class TwilioAccount(TenantScoped, Base):
    """The TwiML App and API key that provisioning created for a tenant (one row per tenant)."""

    __tablename__ = "twilio_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_twilio_accounts_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    twiml_app_sid: Mapped[str | None] = mapped_column(String(64))
    api_key_sid: Mapped[str | None] = mapped_column(String(64))
    #: The API key's secret, encrypted like the auth token (Twilio shows it only once).
    api_key_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # What provisioning set up at Twilio, in the audit log; the API key's secret is masked.
    __audit__ = Audited(
        kind="twilio_account", label=_("Twilio set-up"), title=None,
        labels={"twiml_app_sid": _("TwiML App"), "api_key_sid": _("API key"), "api_key_secret_encrypted": _("API key secret")},
        secrets=("api_key_secret_encrypted",),
    )
