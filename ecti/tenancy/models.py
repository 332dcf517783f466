"""Tenants (client companies) and their users."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, func, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TenantScoped
from ..i18n import _
from ..models.meta import Base, UTCDateTime, utcnow


class TenantStatus(str, enum.Enum):
    active = "active"
    suspended = "suspended"


class Tenant(Base):
    """A client company hosted on this ECTI (F-ORG-1)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo")
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    status: Mapped[TenantStatus] = mapped_column(
        Enum(TenantStatus, native_enum=False, length=16), default=TenantStatus.active
    )
    #: The first day of the free trial (F-ORG-3).
    start_date: Mapped[date] = mapped_column(Date)
    carrier: Mapped[str] = mapped_column(String(32), default="twilio")
    carrier_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The carrier secret (Twilio Auth Token), encrypted with :class:`ecti.crypto.SecretBox`.
    carrier_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Whether agents see that a supervisor is listening (coaching and barge-in always show).
    monitor_listen_visible: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def set_carrier_credentials(self, box, account_id: str, secret: str) -> None:
        self.carrier_account_id = account_id
        self.carrier_secret_encrypted = box.encrypt(secret)

    def carrier_secret(self, box) -> str | None:
        return box.decrypt(self.carrier_secret_encrypted) if self.carrier_secret_encrypted else None

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.active


class Role(str, enum.Enum):
    """What a user may do. An operator hosts every tenant and belongs to none."""

    operator = "operator"
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"

    @property
    def label(self):
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.operator: _("Operator"),
    Role.admin: _("Administrator"),
    Role.supervisor: _("Supervisor"),
    Role.agent: _("Agent"),
}


class User(TenantScoped, Base):
    """A person who signs in: an operator (no tenant) or a member of one tenant."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Operators belong to no tenant; the tenant scope of a request never lists them.
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    #: Login name; unique over the whole installation, compared in lower case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped to sign the user out everywhere (password change, deactivation).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant | None] = relationship()


class AccountEventKind(str, enum.Enum):
    activated = "activated"
    deactivated = "deactivated"


class AccountEvent(TenantScoped, Base):
    """When a user account became active or inactive: the ground truth for billing (F-ORG-3)."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AccountEventKind] = mapped_column(Enum(AccountEventKind, native_enum=False, length=16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def email_key(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session, email: str) -> User | None:
    """Look a login name up across tenants (the caller opens the all-tenants scope)."""
    return session.scalar(select(User).where(func.lower(User.email) == email_key(email)))


class UserSession(Base):
    """One signed-in browser (server side): the cookie holds a random token whose SHA-256 is
    the id, so signing out, "sign out everywhere" and an administrator can end it for good.
    Not tenant-scoped: it is looked up before the request knows its tenant."""

    __tablename__ = "user_sessions"

    #: SHA-256 (hex) of the token in the signed cookie; the token itself is never stored.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class SigninThrottle(Base):
    """Recent failed sign-ins of one client address or one login name (a SHA-256 of it), shared
    by every app process; see :mod:`ecti.tenancy.throttle`."""

    __tablename__ = "signin_throttles"

    #: ``address:<ip>`` or ``account:<sha256 of the lower-case e-mail>``.
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
