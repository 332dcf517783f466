"""A tenant's Salesforce settings: the domains that may frame the softphone and the call center."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ecti.audit import Audited
from ecti.db import TenantScoped
from ecti.i18n import _
from ecti.models.meta import Base, UTCDateTime, utcnow


class SalesforceSettings(TenantScoped, Base):
    __tablename__ = "salesforce_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_salesforce_settings_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: CSP sources, normalised: ``https://mycompany.my.salesforce.com``, ``https://*.visualforce.com``.
    domains: Mapped[list] = mapped_column(JSON, default=list)
    internal_name: Mapped[str] = mapped_column(String(40))
    display_name: Mapped[str] = mapped_column(String(80))
    softphone_height: Mapped[int] = mapped_column(Integer, default=500)
    softphone_width: Mapped[int] = mapped_column(Integer, default=300)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Every change of these settings appears in the company's audit log with before and after.
    __audit__ = Audited(
        kind="salesforce", label=_("Salesforce settings"), title=None,
        labels={
            "domains": _("Salesforce domains"), "internal_name": _("Call center internal name"),
            "display_name": _("Call center display name"), "softphone_height": _("Softphone height (px)"),
            "softphone_width": _("Softphone width (px)"),
        },
    )
