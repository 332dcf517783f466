"""Hosting companies: creating them with their carrier account, suspending, health, webhook errors.

Used by the operator's console pages and API alike; nothing here knows about HTTP.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import object_session

from ..calls.models import Call
from ..db import all_tenants
from ..errors import UserError
from ..i18n import _
from ..models.meta import utcnow
from ..telephony.models import PhoneNumber
from ..tenancy.models import Role, Tenant, TenantStatus, User, email_key, find_user_by_email
from ..tenancy.services import create_tenant, create_user, set_password, set_user_active
from .models import WebhookError

log = logging.getLogger(__name__)

#: The tenant list counts webhook errors over this period.
WEBHOOK_ERROR_WINDOW = timedelta(days=7)
#: Longer details are cut: a webhook body is evidence, not an archive.
MAX_WEBHOOK_ERROR_DETAIL = 2000
#: A start date may lie in the past (a company moved from another system) or up to a year ahead.
EARLIEST_START = date(2000, 1, 1)
LATEST_START_AHEAD = timedelta(days=366)
_CARRIER_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


# --- webhook errors --------------------------------------------------------------------------

def record_webhook_error(session, tenant_id: int | None, kind: str, detail: str = "", *, at: datetime | None = None) -> None:
    """Note that a carrier webhook failed, for the operator's health view.

    ``tenant_id`` may be None when the webhook could not be attributed to a company. The row is
    written in ``session``'s transaction whatever its tenant scope (webhooks often fail before a
    tenant is known), so it is kept only if that transaction commits: a view that wants the
    error kept must answer with an error response rather than raise.
    """
    # A Core insert: it needs no tenant scope and flushes nothing else of the session.
    session.execute(
        insert(WebhookError).values(
            tenant_id=tenant_id,
            kind=(kind or "unknown")[:64],
            detail=(detail or "")[:MAX_WEBHOOK_ERROR_DETAIL],
            at=at or utcnow(),
        )
    )


def unattributed_webhook_errors(session, *, now: datetime | None = None) -> int:
    """Webhook errors of the last :data:`WEBHOOK_ERROR_WINDOW` that no company could be named for."""
    since = (now or utcnow()) - WEBHOOK_ERROR_WINDOW
    with all_tenants(session):
        return session.scalar(select(func.count(WebhookError.id)).where(WebhookError.tenant_id.is_(None), WebhookError.at >= since))


def recent_webhook_errors(session, tenant_id: int, limit: int = 20) -> list[WebhookError]:
    with all_tenants(session):
        return list(
            session.scalars(
                select(WebhookError).where(WebhookError.tenant_id == tenant_id).order_by(WebhookError.at.desc(), WebhookError.id.desc()).limit(limit)
            )
        )


# --- health ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TenantHealth:
    """Signs that a company's telephony works, for the operator's tenant list."""

    phone_numbers: int
    active_accounts: int
    last_call_at: datetime | None
    webhook_errors: int
    last_webhook_error_at: datetime | None
    carrier_configured: bool


def tenant_health(session, tenants: list[Tenant], *, now: datetime | None = None) -> dict[int, TenantHealth]:
    """Health of each tenant, in four grouped queries whatever the number of tenants."""
    now = now or utcnow()
    ids = [t.id for t in tenants]
    if not ids:
        return {}
    with all_tenants(session):
        numbers = dict(
            session.execute(
                select(PhoneNumber.tenant_id, func.count(PhoneNumber.id)).where(PhoneNumber.tenant_id.in_(ids)).group_by(PhoneNumber.tenant_id)
            ).all()
        )
        accounts = dict(
            session.execute(
                select(User.tenant_id, func.count(User.id)).where(User.tenant_id.in_(ids), User.is_active.is_(True)).group_by(User.tenant_id)
            ).all()
        )
        last_calls = dict(
            session.execute(select(Call.tenant_id, func.max(Call.started_at)).where(Call.tenant_id.in_(ids)).group_by(Call.tenant_id)).all()
        )
        errors = {
            tenant_id: (count, last)
            for tenant_id, count, last in session.execute(
                select(WebhookError.tenant_id, func.count(WebhookError.id), func.max(WebhookError.at))
                .where(WebhookError.tenant_id.in_(ids), WebhookError.at >= now - WEBHOOK_ERROR_WINDOW)
                .group_by(WebhookError.tenant_id)
            ).all()
        }
    return {
        t.id: TenantHealth(
            phone_numbers=numbers.get(t.id, 0),
            active_accounts=accounts.get(t.id, 0),
            last_call_at=last_calls.get(t.id),
            webhook_errors=errors.get(t.id, (0, None))[0],
            last_webhook_error_at=errors.get(t.id, (0, None))[1],
            carrier_configured=bool(t.carrier_account_id and t.carrier_secret_encrypted),
        )
        for t in tenants
    }


# --- carrier credentials ---------------------------------------------------------------------

def _credentials(account_id: str | None, secret: str | None) -> tuple[str, str]:
    account_id, secret = (account_id or "").strip(), (secret or "").strip()
    if bool(account_id) != bool(secret):
        field = "carrier_secret" if account_id else "carrier_account_id"
        raise UserError(
            "carrier_credentials_incomplete",
            _("Enter both the carrier account ID and its secret (for Twilio: the Account SID and the Auth Token)."),
            field=field,
            status=422,
        )
    return account_id, secret


def _ensure_account_unused(session, account_id: str, tenant: Tenant | None = None) -> None:
    with all_tenants(session):
        owner = session.scalar(select(Tenant).where(Tenant.carrier_account_id == account_id))
    if owner is not None and owner is not tenant:
        raise UserError(
            "carrier_account_taken",
            _("The carrier account ${account_id} is already used by ${name}.", mapping={"account_id": account_id, "name": owner.name}),
            field="carrier_account_id",
            status=409,
        )


def check_carrier_credentials(registry, carrier: str, account_id: str, secret: str) -> None:
    """Ask the carrier whether it accepts these credentials; raise :class:`UserError` if not.

    Nothing is written: call it before saving. An unexpected failure of the carrier plugin is
    logged and reported as "could not check", never as a server error.
    """
    implementation = registry.ecti.carriers.get(carrier)
    if implementation is None:
        raise UserError(
            "carrier_not_installed",
            _("The carrier ${carrier} is not installed. Install its plugin or choose another carrier.", mapping={"carrier": carrier}),
            field="carrier",
            status=422,
        )
    try:
        implementation.check_credentials(registry=registry, account_id=account_id, secret=secret)
    except UserError as err:
        # The carrier's own fields are named account_id / secret; the forms say carrier_*.
        if err.field in ("account_id", "secret"):
            err.field = "carrier_" + err.field
        raise
    except Exception:  # a broken or unreachable plugin must not become a 500 for the operator
        log.exception("checking credentials with carrier %s failed", carrier)
        raise UserError(
            "carrier_check_failed",
            _("The credentials could not be checked with ${carrier}. Nothing was saved; try again later.", mapping={"carrier": carrier}),
            field="carrier_account_id",
            status=502,
        )


def change_carrier_credentials(session, registry, tenant: Tenant, account_id: str, secret: str) -> None:
    """Replace a tenant's carrier credentials after the carrier accepted them."""
    account_id, secret = _credentials(account_id, secret)
    if not account_id:
        raise UserError(
            "carrier_credentials_incomplete",
            _("Enter both the carrier account ID and its secret (for Twilio: the Account SID and the Auth Token)."),
            field="carrier_account_id",
            status=422,
        )
    _ensure_account_unused(session, account_id, tenant)
    check_carrier_credentials(registry, tenant.carrier, account_id, secret)
    tenant.set_carrier_credentials(registry.secret_box, account_id, secret)


# --- creating, suspending --------------------------------------------------------------------

@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    admin: User
    #: Shown once to the operator, who hands it to the company's first administrator.
    one_time_password: str


def new_one_time_password() -> str:
    return secrets.token_urlsafe(12)


def create_hosted_tenant(
    session,
    registry,
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_name: str = "",
    time_zone: str = "Asia/Tokyo",
    locale: str = "ja",
    start_date: date | None = None,
    carrier: str = "twilio",
    carrier_account_id: str | None = None,
    carrier_secret: str | None = None,
) -> NewTenant:
    """Create a company with its carrier credentials and its first administrator.

    The credentials are optional (they can be added later on the company's page); when given
    they are checked with the carrier before anything is written, so no row is locked during
    the network call on PostgreSQL (on SQLite a writing request holds the database's write lock
    from its start, so the carrier plugin's timeout bounds how long other writers wait). Then
    the company and its administrator are written together: on any error neither is kept.
    """
    if start_date is not None and not EARLIEST_START <= start_date <= utcnow().date() + LATEST_START_AHEAD:
        latest = utcnow().date() + LATEST_START_AHEAD
        raise UserError(
            "invalid_start_date",
            _("The start date must be between ${earliest} and ${latest}.", mapping={"earliest": EARLIEST_START.isoformat(), "latest": latest.isoformat()}),
            field="start_date",
            status=422,
        )
    carrier = (carrier or "twilio").strip()
    if not _CARRIER_NAME.match(carrier):
        raise UserError("invalid_carrier", _("Choose a carrier."), field="carrier", status=422)
    account_id, secret = _credentials(carrier_account_id, carrier_secret)
    # What can be found out by reading comes before the carrier is asked.
    with all_tenants(session):
        if session.scalar(select(Tenant.id).where(Tenant.slug == slug.strip().lower())) is not None:
            raise UserError(
                "slug_taken", _("The short name ${slug} is already used.", mapping={"slug": slug.strip().lower()}), field="slug", status=409
            )
        if find_user_by_email(session, admin_email) is not None:
            raise UserError(
                "email_taken",
                _("The e-mail address ${email} is already used.", mapping={"email": email_key(admin_email)}),
                field="admin_email",
                status=409,
            )
    if account_id:
        _ensure_account_unused(session, account_id)
        check_carrier_credentials(registry, carrier, account_id, secret)
    password = new_one_time_password()
    try:
        with session.begin_nested():
            tenant = create_tenant(session, slug=slug, name=name, time_zone=time_zone or "Asia/Tokyo", locale=locale or "ja", start_date=start_date)
            tenant.carrier = carrier
            if account_id:
                tenant.set_carrier_credentials(registry.secret_box, account_id, secret)
            admin = create_user(
                session, tenant=tenant, email=admin_email, display_name=(admin_name or "").strip() or admin_email, role=Role.admin, password=password
            )
    except UserError as err:
        err.field = {"email": "admin_email", "display_name": "admin_name"}.get(err.field, err.field)
        raise
    return NewTenant(tenant, admin, password)


def suspend_tenant(tenant: Tenant) -> bool:
    """Suspend: its users cannot sign in (and signed-in sessions end), its calls hear an
    announcement; nothing is deleted. Returns False when it already was suspended."""
    if tenant.status is TenantStatus.suspended:
        return False
    tenant.status = TenantStatus.suspended
    return True


def resume_tenant(tenant: Tenant) -> bool:
    """Undo :func:`suspend_tenant`. Returns False when the tenant was active."""
    if tenant.status is TenantStatus.active:
        return False
    tenant.status = TenantStatus.active
    return True


def reissue_password(user: User) -> str:
    """A new one-time password for a company administrator who lost theirs (signs them out);
    a deactivated administrator is reactivated, so the company gets an administrator back."""
    password = new_one_time_password()
    set_password(user, password)
    if not user.is_active:
        set_user_active(object_session(user), user, True)
    return password
