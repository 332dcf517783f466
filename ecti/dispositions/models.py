"""Disposition codes: the company's list of call results an agent picks at wrap-up (F-PH-6).

A call keeps the code *and* the label it had when chosen (``calls.disposition`` /
``calls.disposition_label``), so renaming or deleting a code never rewrites history.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import TenantScoped
from ..models.meta import Base

#: Longest wrap-up note, in characters.
NOTE_MAX = 2000


class DispositionCode(TenantScoped, Base):
    __tablename__ = "disposition_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_disposition_codes_tenant_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A short key the company chooses ("sale", "A1"): CSV, the API and the configuration file use it.
    code: Mapped[str] = mapped_column(String(40))
    #: What agents and reports show.
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Inactive codes stay on past calls but are no longer offered.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
