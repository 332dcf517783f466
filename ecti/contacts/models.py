"""The built-in contact directory: people and companies with their phone numbers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TenantScoped
from ..models.meta import Base, UTCDateTime, utcnow


class Contact(TenantScoped, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    numbers: Mapped[list["ContactNumber"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactNumber.id"
    )

    @property
    def display_name(self) -> str:
        return f"{self.name}（{self.company}）" if self.company else self.name


class ContactNumber(TenantScoped, Base):
    """One number of a contact, in E.164; a number belongs to one contact of a tenant."""

    __tablename__ = "contact_numbers"
    __table_args__ = (UniqueConstraint("tenant_id", "e164", name="uq_contact_numbers_tenant_e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(32))

    contact: Mapped[Contact] = relationship(back_populates="numbers")
